// Package gateway is the partnergate process's wiring: its settings
// (Config, LoadConfig), and Main, which opens the stores, builds every
// service and serves them (NewMain, Open, Listen, Serve, Close).
//
// It lives under cmd/partnergate, not in a top-level internal/, because it
// is the binary's wiring and nothing else: DESIGN.md fixes the top level and
// has cmd/ set every service's dependencies, and STYLE.md gives
// cmd/partnergate its Main. It is a package of its own only so that code
// outside package main can start a real gateway: the command
// (cmd/partnergate) and the end-to-end fixtures (internal/testkit), which
// a package main could not share with tests in other packages.
package gateway
