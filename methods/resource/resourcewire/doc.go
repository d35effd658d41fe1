// Package resourcewire holds seed 002's (Barong 2.4's) resource.* params
// and results, one file per service of methods/resource. It imports only
// the standard library (and the shared Barong user object) so that an SDK
// can name these types without linking the server. The rpc tags are the
// server's limits, read by rpc when it decodes params.
package resourcewire
