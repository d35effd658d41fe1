package accounts

import (
	"context"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/store"
)

// audit writes one audit event (SECURITY.md 20) with who acted, from where
// and under which request. It never takes a secret: events name users by id.
func (s *Service) audit(ctx context.Context, event, userID string, extra ...string) {
	ev := s.Log.Info()
	if ev == nil {
		return
	}
	c := core.CallFrom(ctx)
	ev = ev.Str("event", event).Str("user", userID).Str("actor", c.Actor()).
		Str("ip", c.IP).Str("ua", truncate(c.UserAgent, 256)).Str("rid", c.RequestID)
	for i := 0; i+1 < len(extra); i += 2 {
		ev = ev.Str(extra[i], extra[i+1])
	}
	ev.Msg("audit")
	s.trail(ctx, event, userID, extra)
}

// trailed maps the audit events that belong in a user's activity trail to
// its topic, action and result; the others (throttle bookkeeping, a
// deleted user, whose trail goes with them) stay in the log only.
var trailed = map[string][3]string{
	"login.succeeded":             {"session", "login", store.ResultSucceed},
	"login.failed":                {"session", "login", store.ResultFailed},
	"login.backoff":               {"session", "login", store.ResultDenied},
	"user.registered":             {"account", "create", store.ResultSucceed},
	"deletion.requested":          {"account", "delete_request", store.ResultSucceed},
	"identifier.verified":         {"account", "verify", store.ResultSucceed},
	"identifier.change_requested": {"account", "identifier_change_request", store.ResultSucceed},
	"identifier.changed":          {"account", "identifier_change", store.ResultSucceed},
	"identifier.claimed":          {"account", "identifier_claim", store.ResultSucceed},
	"username.set":                {"account", "username", store.ResultSucceed},
	"profile.updated":             {"profile", "update", store.ResultSucceed},
	"recovery.started":            {"password", "reset_request", store.ResultSucceed},
	"recovery.finished":           {"password", "reset", store.ResultSucceed},
	"password.changed":            {"password", "change", store.ResultSucceed},
	"password.change_failed":      {"password", "change", store.ResultFailed},
	"session.ended":               {"session", "logout", store.ResultSucceed},
	"code.failed":                 {"code", "verify", store.ResultFailed},
	// Seed 003.
	"password.check_failed":   {"password", "check", store.ResultFailed},
	"password.reset_with_key": {"password", "reset", store.ResultSucceed},
	"account_key.set":         {"account", "account_key", store.ResultSucceed},
	"session.device_revoked":  {"session", "device_revoke", store.ResultSucceed},
	"session.device_updated":  {"session", "device_update", store.ResultSucceed},
	// The password was right; the second factor was missing or wrong.
	"login.second_factor_required": {"session", "login", store.ResultDenied},
	"login.second_factor_failed":   {"session", "login", store.ResultFailed},
}

// trail puts a user-bound audit event in the activity trail too. The
// trail never decides the action: a failure to record is logged (Note).
func (s *Service) trail(ctx context.Context, event, userID string, extra []string) {
	m, ok := trailed[event]
	if !ok || s.Activity == nil {
		return
	}
	// A failed login of an unknown identifier is recorded too, under no
	// user: the insert a known user's failure costs must not tell the two
	// apart by time (SECURITY.md 9), and admins count both.
	if userID == "" && event != "login.failed" {
		return
	}
	var data map[string]any
	for i := 0; i+1 < len(extra); i += 2 {
		if data == nil {
			data = map[string]any{}
		}
		data[extra[i]] = extra[i+1]
	}
	s.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: m[0], Action: m[1], Result: m[2], Data: data})
}
