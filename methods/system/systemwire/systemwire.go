// Package systemwire holds the result types of system.*. It imports only the
// standard library so that an SDK can name them without linking the server;
// methods/system serves them.
package systemwire

import "time"

// Empty is the params of methods that take none.
type Empty struct{}

// PingResult is system.ping's data.
type PingResult struct {
	Pong bool `json:"pong"`
}

// TimeResult is system.time's data.
type TimeResult struct {
	Time time.Time `json:"time"`
	Unix int64     `json:"unixMs"`
}

// VersionResult is system.version's data.
type VersionResult struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}
