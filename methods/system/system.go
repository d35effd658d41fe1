// Package system serves the gateway's own public methods: system.ping,
// system.time and system.version.
package system

import (
	"net/http"
	"runtime"
	"time"

	"partnergate/methods/system/systemwire"
	"partnergate/rpc"
)

// Service is the system.* namespace.
type Service struct {
	Release string
	Commit  string
	Now     func() time.Time
}

// Methods declares the namespace.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "system.ping", Go: "Ping", Access: rpc.Public, RateClass: rpc.NoLimit, Doc: "Answers pong: the gateway is up.", Positional: []string{}},
		{Name: "system.time", Go: "Time", Access: rpc.Public, RateClass: rpc.NoLimit, Doc: "Returns the server's time.", Positional: []string{}},
		{Name: "system.version", Go: "Version", Access: rpc.Public, RateClass: rpc.NoLimit, Doc: "Returns the server's version.", Positional: []string{}},
	}
}

// Ping is system.ping.
func (s *Service) Ping(_ *http.Request, _ *systemwire.Empty, res *systemwire.PingResult) error {
	res.Pong = true
	return nil
}

// Time is system.time.
func (s *Service) Time(_ *http.Request, _ *systemwire.Empty, res *systemwire.TimeResult) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	res.Time, res.Unix = t, t.UnixMilli()
	return nil
}

// Version is system.version.
func (s *Service) Version(_ *http.Request, _ *systemwire.Empty, res *systemwire.VersionResult) error {
	res.Version, res.Commit, res.Go = s.Release, s.Commit, runtime.Version()
	return nil
}
