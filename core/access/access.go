// Package access decides who is calling and how often they may: it finds the
// caller of a request (signed partner or bearer session), applies rate-limit
// classes, and answers admin permission checks. The transport calls it through
// rpc.Authenticator, rpc.Gate and rpc.Limiter: it is the one core package
// that knows the transport's caller type, so that no other one needs to.
package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"partnergate/core"
	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/partners"
	"partnergate/core/tokens"
	"partnergate/rpc"
	"partnergate/store"
)

// Authenticator implements rpc.Authenticator over partner keys and sessions.
type Authenticator struct {
	Partners *partners.Service
	Accounts *accounts.Service
	// JWT verifies access JWTs (core/tokens) locally; nil accepts none.
	JWT JWTVerifier
}

// JWTVerifier checks an access JWT without a store round trip.
type JWTVerifier interface {
	Verify(ctx context.Context, token string) (tokens.Claims, error)
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
	if t := strings.TrimSpace(token); a.JWT != nil && tokens.LooksLikeJWT(t) {
		cl, err := a.JWT.Verify(ctx, t)
		if err != nil {
			return err
		}
		// SessionHash names the JWT's session, never a session token's hash.
		c.Kind, c.UserID, c.SessionHash = rpc.CallerUser, cl.Subject, "jwt:"+cl.SessionID
		return nil
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
	KV    store.Limits
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
		return core.StoreError("access: rate limit", err)
	}
	if !allowed {
		return fault.Throttle(retry)
	}
	return nil
}

// Gate implements rpc.Gate: the restrictions first, for every call; then
// each method's declared Access decides which credential kinds may call
// it, and for users the permission rows of their role (Policy) whether
// they may. A kind the gate does not know is refused, so a new credential
// is denied everywhere until its rule is written here.
type Gate struct {
	Roles *Roles
	// Policy holds the permission rows and restrictions; nil keeps the
	// rule before them: any user calls session methods, role "admin" every
	// admin method.
	Policy *Policy
	// AdminTwoFactor refuses admin methods to users whose 2FA is off
	// (TwoFactorRequired). The flag is read with the user, from the
	// per-process copy: no store read per call.
	AdminTwoFactor bool
}

// Admit refuses the call with Unauthenticated (no credential), Forbidden,
// a restriction's code, or TwoFactorRequired.
func (g *Gate) Admit(ctx context.Context, m *rpc.Method, c *rpc.Caller) error {
	if g.Policy != nil {
		if err := g.Policy.Restricted(m, c.IP); err != nil {
			return err
		}
	}
	switch m.Access {
	case rpc.Public:
		return nil
	case rpc.SessionUser:
		if c.Kind == rpc.CallerUser {
			return g.permit(ctx, m, c)
		}
	case rpc.PartnerScope:
		if c.Kind == rpc.CallerPartner {
			for _, s := range c.Scopes {
				if ScopeGrants(s, m.Name) {
					return nil
				}
			}
			return fault.New(fault.Forbidden)
		}
	case rpc.AdminPermission:
		switch c.Kind {
		case rpc.CallerUser:
			return g.permit(ctx, m, c)
		case rpc.CallerPartner:
			// Server to server, acting as itself and always audited
			// (Policy.Audit): only a scope naming admin grants admin
			// methods, never "*".
			for _, s := range c.Scopes {
				if s != "*" && ScopeGrants(s, m.Name) {
					return nil
				}
			}
			return fault.New(fault.Forbidden)
		}
	default:
		return fault.New(fault.Forbidden)
	}
	if c.Kind == rpc.CallerNone {
		return fault.New(fault.Unauthenticated)
	}
	return fault.New(fault.Forbidden)
}

// permit decides a user's call by its role's rows.
func (g *Gate) permit(ctx context.Context, m *rpc.Method, c *rpc.Caller) error {
	if g.Policy == nil {
		if m.Access == rpc.SessionUser {
			return nil
		}
		if g.Roles == nil {
			return fault.New(fault.Forbidden)
		}
		ok, err := g.Roles.Permits(ctx, c, m.Permission)
		if err != nil {
			return err
		}
		if !ok {
			return fault.New(fault.Forbidden)
		}
		return nil
	}
	u, found, err := g.Roles.user(ctx, c)
	if err != nil {
		return err
	}
	if !found || !g.Policy.Allows(c.Role, m) {
		if m.Access == rpc.AdminPermission {
			g.Policy.record(ctx, c, m, "admin", nil, int(fault.Forbidden))
		}
		return fault.New(fault.Forbidden)
	}
	if m.Access == rpc.AdminPermission && g.AdminTwoFactor {
		if !u.TOTP {
			g.Policy.record(ctx, c, m, "admin", nil, int(fault.TwoFactorRequired))
			return fault.New(fault.TwoFactorRequired)
		}
	}
	return nil
}

// ScopeGrants reports whether a partner scope covers a method name: "*"
// covers all, "auth" covers "auth.*", "admin.users" covers "admin.users.*".
func ScopeGrants(scope, method string) bool {
	return scope == "*" || scope == method ||
		(strings.HasPrefix(method, scope) && method[len(scope)] == '.')
}

// Roles reads a user's role from the store (through the per-process user
// copy, so a session check costs no round trip).
type Roles struct {
	Store store.Store
}

// Role sets and returns the caller's role, "member" when the user has none
// and "" when the user no longer exists.
func (r *Roles) Role(ctx context.Context, c *rpc.Caller) (string, error) {
	_, _, err := r.user(ctx, c)
	return c.Role, err
}

// user reads the caller's user and sets c.Role from it.
func (r *Roles) user(ctx context.Context, c *rpc.Caller) (store.User, bool, error) {
	u, err := r.Store.UserByID(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		c.Role = ""
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, core.StoreError("access: read role", err)
	}
	c.Role = u.Role
	if c.Role == "" {
		c.Role = MemberRole
	}
	return u, true, nil
}

// Permits reports whether the caller's role grants permission, by the rule
// before permission rows: "admin" grants every permission, no other role
// any. Used only by a gate without a Policy.
func (r *Roles) Permits(ctx context.Context, c *rpc.Caller, permission string) (bool, error) {
	role, err := r.Role(ctx, c)
	if err != nil {
		return false, err
	}
	return role == "admin", nil
}

// Bind implements the transport's Bind hook: it hands the core the caller
// as a core.Call, so that no core package reads rpc's types.
func Bind(ctx context.Context, c *rpc.Caller) context.Context {
	call := core.Call{ActorKind: string(c.Kind), IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID}
	switch c.Kind {
	case rpc.CallerPartner:
		call.ActorID = c.PartnerKID
	case rpc.CallerUser:
		call.ActorID = c.UserID
	}
	return core.WithCall(ctx, call)
}
