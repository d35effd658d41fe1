package accounts

import (
	"context"

	"partnergate/core"
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
}
