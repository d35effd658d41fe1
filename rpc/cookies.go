package rpc

import (
	"context"
	"net/http"
)

// cookieSink collects the cookies the methods of one path-style call set.
type cookieSink struct {
	cookies []*http.Cookie
}

type cookieKey struct{}

// SetCookie asks the transport to send c with the reply of the call
// running under ctx, and reports whether it will: only the path style
// (one call, one HTTP reply) sends cookies; on /rpc, where a batch shares
// one reply, they are dropped and the method's result must carry what the
// client needs. A cookie that fails http.Cookie.Valid is dropped too.
func SetCookie(ctx context.Context, c *http.Cookie) bool {
	s, ok := ctx.Value(cookieKey{}).(*cookieSink)
	if !ok || c == nil || c.Valid() != nil {
		return false
	}
	s.cookies = append(s.cookies, c)
	return true
}

// PathStyle reports whether the call running under ctx came by the path
// style, where credentials may also come as cookies.
func PathStyle(ctx context.Context) bool {
	_, ok := ctx.Value(cookieKey{}).(*cookieSink)
	return ok
}
