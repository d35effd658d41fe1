// Package activity is the activity trail: what a user did or had done to
// their account, and what an admin did, one entry each, with who acted,
// from where (IP, country, user agent) and a result. Every namespace
// records through it (logins, logouts, password and second-factor changes,
// refresh-token reuse, admin actions) and reads it back (Barong's
// resource.users.activity.list and admin.activities.*, seed 004's
// account.authHistory), so one trail holds what every dialect did.
//
// Secrets never reach the trail: Data passes through Scrub, which replaces
// the value of every member whose name says it is a secret.
package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/store"
)

// Page sizes of List.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// MaxUserAgent bounds the user agent kept with an entry.
const MaxUserAgent = 512

// Filtered replaces a secret's value in Data.
const Filtered = "[FILTERED]"

// Recorder appends to and reads the trail.
type Recorder struct {
	Store store.Activities
	// Geo, when set, gives each entry the country of the caller's IP.
	Geo *geo.DB
	Log zerolog.Logger
}

// Entry is what a caller records; actor, IP and user agent come from the
// call (core.CallFrom).
type Entry struct {
	// UserID is whose trail the entry goes in: the user for category user,
	// the admin (if the actor is one) for category admin.
	UserID   string
	TargetID string
	// Category is store.CategoryUser when empty.
	Category string
	Topic    string
	Action   string
	// Result is store.ResultSucceed when empty.
	Result string
	Data   map[string]any
}

// Record appends e. Its error is the store's, wrapped; callers whose action
// must not depend on the trail (a login) use Note instead.
func (r *Recorder) Record(ctx context.Context, e Entry) (store.Activity, error) {
	c := core.CallFrom(ctx)
	a := store.Activity{
		UserID: e.UserID, TargetID: e.TargetID, Actor: c.Actor(), Category: e.Category,
		Topic: e.Topic, Action: e.Action, Result: e.Result, IP: c.IP, UserAgent: clip(c.UserAgent, MaxUserAgent),
	}
	if a.Actor == "" {
		a.Actor = "system"
	}
	if a.Category == "" {
		a.Category = store.CategoryUser
	}
	if a.Result == "" {
		a.Result = store.ResultSucceed
	}
	if p, ok := r.Geo.LookupString(c.IP); ok {
		a.Country = p.Country
	}
	if len(e.Data) > 0 {
		b, err := json.Marshal(Scrub(e.Data))
		if err != nil {
			return store.Activity{}, fmt.Errorf("activity: encode data of %s.%s: %w", e.Topic, e.Action, err)
		}
		a.Data = string(b)
	}
	out, err := r.Store.AddActivity(ctx, a)
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: record %s.%s: %w", e.Topic, e.Action, err)
	}
	return out, nil
}

// Note records e and logs, rather than returns, a failure: for entries that
// describe an action already done, which a trail that is down must not undo.
func (r *Recorder) Note(ctx context.Context, e Entry) {
	if r == nil || r.Store == nil {
		return
	}
	if _, err := r.Record(ctx, e); err != nil {
		r.Log.Warn().Err(err).Str("topic", e.Topic).Str("action", e.Action).Str("user", e.UserID).
			Str("rid", core.CallFrom(ctx).RequestID).Msg("activity not recorded")
	}
}

// List reads the entries f selects, newest first. A zero Limit is
// DefaultLimit; a Limit outside 1..MaxLimit is a field error (limit).
func (r *Recorder) List(ctx context.Context, f store.ActivityFilter) ([]store.Activity, error) {
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, fault.Field(fault.Invalid, "limit", fmt.Sprintf("1 to %d", MaxLimit))
	}
	if f.Before < 0 {
		return nil, fault.Field(fault.Invalid, "before", "an entry id")
	}
	out, err := r.Store.Activities(ctx, f)
	if err != nil {
		return nil, core.StoreError("activity: list", err)
	}
	return out, nil
}

// secretWords are the parts of a member name that mark its value secret.
var secretWords = []string{
	"password", "passwd", "secret", "token", "otp", "code", "captcha",
	"authorization", "cookie", "key", "signature", "hash", "pin",
}

// IsSecretName reports whether a member named name holds a secret.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Scrub returns a copy of v with the value of every secret-named member of
// every object in it replaced by Filtered. v is what encoding/json decodes
// into an any (maps, slices, scalars); other values are returned as is.
func Scrub[T any](v T) T {
	out, _ := scrub(any(v)).(T)
	return out
}

func scrub(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if IsSecretName(k) {
				out[k] = Filtered
				continue
			}
			out[k] = scrub(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = scrub(x)
		}
		return out
	default:
		return v
	}
}

// ScrubJSON is Scrub for a JSON document (an admin call's params, say). A
// document that does not parse is replaced whole: what cannot be read
// cannot be shown to be free of secrets.
func ScrubJSON(doc []byte) []byte {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []byte(`"` + Filtered + `"`)
	}
	out, err := json.Marshal(scrub(v))
	if err != nil {
		return []byte(`"` + Filtered + `"`)
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune's start so as not to leave half a UTF-8 sequence.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
