package activity

import (
	"context"
	"strings"
	"time"

	"github.com/mileusna/useragent"

	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/store"
)

// Sign-in actions of topic "session" that an authorization history shows:
// logins (any namespace's, through core/accounts) and token refreshes.
const (
	ActionLogin   = "login"
	ActionRefresh = "refresh"
)

// Client is what a user agent says about the software that called.
type Client struct {
	BrowserFamily  string
	BrowserVersion string
	OSFamily       string
	OSVersion      string
	// DeviceFamily is "Other" when the agent names no device, as
	// ua-parser reports it.
	DeviceFamily string
	DeviceBrand  string
	DeviceModel  string
	// Kind is "browser", "bot" or "api" (no browser recognised: an app or
	// a script).
	Kind string
}

// ParseUserAgent reads a User-Agent header with a maintained parser
// (github.com/mileusna/useragent); an empty or unknown one gives "Other"
// families and kind "api".
func ParseUserAgent(s string) Client {
	if len(s) > MaxUserAgent {
		s = clip(s, MaxUserAgent)
	}
	ua := useragent.Parse(s)
	c := Client{BrowserFamily: ua.Name, BrowserVersion: ua.Version, OSFamily: ua.OS, OSVersion: ua.OSVersion,
		DeviceFamily: ua.Device, Kind: "browser"}
	switch {
	case ua.Bot:
		c.Kind = "bot"
	case ua.Name == "" || (!ua.Desktop && !ua.Mobile && !ua.Tablet):
		c.Kind = "api"
	}
	if c.BrowserFamily == "" {
		c.BrowserFamily = "Other"
	}
	if c.OSFamily == "" {
		c.OSFamily = "Other"
	}
	if c.DeviceFamily == "" {
		c.DeviceFamily = "Other"
	} else if b, _, ok := strings.Cut(c.DeviceFamily, " "); ok {
		// "Samsung SM-G991B" → brand Samsung, model SM-G991B.
		c.DeviceBrand, c.DeviceModel = b, strings.TrimPrefix(c.DeviceFamily, b+" ")
	} else if c.DeviceFamily == "iPhone" || c.DeviceFamily == "iPad" {
		c.DeviceBrand, c.DeviceModel = "Apple", c.DeviceFamily
	}
	return c
}

// SignIn is one entry of an authorization history.
type SignIn struct {
	ID        int64
	At        time.Time
	Action    string // ActionLogin or ActionRefresh
	IP        string
	UserAgent string
	Client    Client
	// Place is where the IP is, from the configured MaxMind database at
	// the time of reading; zero without one.
	Place geo.Place
}

// maxScan bounds how many trail pages one history page may read past
// entries it does not show (logouts, password changes of the same topic).
const maxScan = 5

// History returns the user's successful sign-ins (logins and token
// refreshes, every namespace's), newest first, at most limit (1 to
// MaxLimit, DefaultLimit when 0) with IDs below before when before > 0.
// The IDs are the keyset for the next page: pass the last one as before.
func (r *Recorder) History(ctx context.Context, userID string, limit int, before int64) ([]SignIn, error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return nil, fault.Field(fault.Invalid, "limit", "1 to 100")
	}
	if before < 0 {
		return nil, fault.Field(fault.Invalid, "before", "an entry id")
	}
	out := make([]SignIn, 0, limit)
	for range maxScan {
		page, err := r.List(ctx, store.ActivityFilter{UserID: userID, Category: store.CategoryUser, Topic: "session",
			Result: store.ResultSucceed, Before: before, Limit: limit})
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			before = a.ID
			if a.Action != ActionLogin && a.Action != ActionRefresh {
				continue
			}
			si := SignIn{ID: a.ID, At: a.Created, Action: a.Action, IP: a.IP, UserAgent: a.UserAgent, Client: ParseUserAgent(a.UserAgent)}
			if p, ok := r.Geo.LookupString(a.IP); ok {
				si.Place = p
			}
			out = append(out, si)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(page) < limit {
			break
		}
	}
	return out, nil
}
