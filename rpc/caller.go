package rpc

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// CallerKind says which credential the caller presented. The set is open:
// the transport only tells CallerNone (no credential) from the rest, and
// the Authenticator and Gate that a new credential needs (an API key, an
// access JWT, Basic) bring their kinds without a change here.
type CallerKind string

// The kinds partnergate's authenticator sets today.
const (
	CallerNone    CallerKind = "none"
	CallerUser    CallerKind = "user"
	CallerPartner CallerKind = "partner"
)

// Caller is who made the HTTP request, found once per request and shared by
// every call of a batch.
type Caller struct {
	Kind        CallerKind
	UserID      string
	Role        string
	SessionHash string // SHA-256 of the bearer token, never the token
	PartnerKID  string
	Scopes      []string
	IP          string
	UserAgent   string
	RequestID   string
}

// Authenticator finds the caller of a request from its headers and body (the
// body is signed by partners). It returns a caller of kind CallerNone when no
// credentials were presented, and a *fault.Error when credentials were
// presented and refused; the transport then refuses every call of the request.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request, body []byte, c *Caller) error
}

// Gate decides whether c may call m, from m's declared Access and
// Permission and whatever the Authenticator found. It returns a
// *fault.Error (Unauthenticated, Forbidden, ...) to refuse the call; any
// other error is an internal failure (-32603), never a refusal.
type Gate interface {
	Admit(ctx context.Context, m *Method, c *Caller) error
}

// Limiter applies a method's rate-limit class to a caller. It returns a
// *fault.Error (Throttled or Unavailable) to refuse the call.
type Limiter interface {
	Allow(ctx context.Context, class string, c *Caller) error
}

type callerKey struct{}

// CallerFrom returns the caller of the call running under ctx.
func CallerFrom(ctx context.Context) *Caller {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return c
	}
	return &Caller{Kind: CallerNone}
}

// WithCaller returns ctx carrying c, for methods called outside the transport.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// ClientIP returns the address of the peer, or, when the peer is one of the
// trusted proxies, the nearest X-Forwarded-For hop that is not.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 {
		// No proxy is trusted: the peer it is, whatever it sent.
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String()
		}
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
