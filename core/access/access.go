// Package access decides who is calling and how often they may: it finds the
// caller of a request (signed partner or bearer session), applies rate-limit
// classes, and answers admin permission checks. The transport calls it through
// rpc.Authenticator, rpc.Limiter and Config.Permits.
package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"partnergate/core/accounts"
	"partnergate/core/partners"
	"partnergate/rpc"
	"partnergate/core/fault"
	"partnergate/store"
	"partnergate/store/kv"
)

// Authenticator implements rpc.Authenticator over partner keys and sessions.
type Authenticator struct {
	Partners *partners.Service
	Accounts *accounts.Service
}

// Authenticate fills c from the request's credentials. Partner headers win
// over a bearer token; presenting both is refused as ambiguous.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte, c *rpc.Caller) error {
	sg := partners.Signed{
		KID:       r.Header.Get("X-Api-Key"),
		Timestamp: r.Header.Get("X-Api-Timestamp"),
		Nonce:     r.Header.Get("X-Api-Nonce"),
		Signature: r.Header.Get("X-Api-Signature"),
		Path:      r.URL.Path,
	}
	authz := r.Header.Get("Authorization")
	if sg.Present() {
		if authz != "" {
			return fault.Errorf(fault.SignatureMalformed, "Send either partner signature headers or Authorization, not both.")
		}
		p, err := a.Partners.Verify(ctx, sg, body)
		if err != nil {
			return err
		}
		c.Kind, c.PartnerKID, c.Scopes = rpc.CallerPartner, p.KID, p.Scopes
		return nil
	}
	if authz == "" {
		return nil
	}
	scheme, token, _ := strings.Cut(authz, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return fault.New(fault.SessionInvalid)
	}
	s, err := a.Accounts.SessionByToken(ctx, strings.TrimSpace(token))
	if err != nil {
		return err
	}
	c.Kind, c.UserID, c.SessionHash = rpc.CallerUser, s.UserID, s.TokenHash
	return nil
}

// Rate is one limiter class: Limit calls per Per, with Burst allowed at once.
type Rate struct {
	Limit int
	Per   time.Duration
	Burst int
}

// DefaultRates are the documented classes. They cap one caller (a partner
// key, a user, or an anonymous IP); per-account login throttles are separate.
var DefaultRates = map[string]Rate{
	"default":  {Limit: 6000, Per: time.Minute, Burst: 1000},
	"login":    {Limit: 6000, Per: time.Minute, Burst: 300},
	"register": {Limit: 1200, Per: time.Minute, Burst: 100},
	// code covers every method that checks or sends a code or token.
	"code": {Limit: 120, Per: time.Minute, Burst: 30},
}

// Limiter implements rpc.Limiter on Redis (GCRA).
type Limiter struct {
	KV    *kv.KV
	Rates map[string]Rate
}

// Allow refuses the call with fault.Throttled when the caller is over the
// class's rate, and fails closed with fault.Unavailable when Redis is down.
func (l *Limiter) Allow(ctx context.Context, class string, c *rpc.Caller) error {
	r, ok := l.Rates[class]
	if !ok {
		return fmt.Errorf("access: unknown rate class %q", class)
	}
	who := "ip:" + c.IP
	switch c.Kind {
	case rpc.CallerPartner:
		who = "pk:" + c.PartnerKID
	case rpc.CallerUser:
		who = "u:" + c.UserID
	}
	allowed, retry, err := l.KV.Allow(ctx, "rl:"+class+":"+who, r.Limit, r.Per, r.Burst)
	if err != nil {
		return fault.Wrap(fault.Unavailable, err)
	}
	if !allowed {
		return fault.Throttle(retry)
	}
	return nil
}

// Roles answers permission checks from the user's stored role. The role is
// read per admin call, so a grant or revoke takes effect at once.
type Roles struct {
	Store store.Store
}

// Permits reports whether the caller's role grants permission. "admin"
// grants every permission; no other role grants any yet.
func (r *Roles) Permits(ctx context.Context, c *rpc.Caller, permission string) (bool, error) {
	u, err := r.Store.UserByID(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("access: read role: %w", err)
	}
	c.Role = u.Role
	return u.Role == "admin", nil
}
