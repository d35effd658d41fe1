// Package identity will serve seed 002's (Barong's) public identity.*
// namespace: sessions, users, email and password codes, configs, version,
// time, ping and password validation (issue "Seed 002 (Barong), user side").
// Like every dialect it decodes the seed's params, calls core/ and shapes
// the seed's result and errors; no business rule lives here.
package identity
