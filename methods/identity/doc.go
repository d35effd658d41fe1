// Package identity serves seed 002's (Barong's) public identity.*
// namespace (issue 11): sessions, user registration, configs, version,
// time, ping and password validation; the email and password codes are to
// come.
// Like every dialect it decodes the seed's params, calls core/ and shapes
// the seed's result and errors; no business rule lives here.
package identity
