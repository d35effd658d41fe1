package account

import (
	"context"
	"net/http"
	"time"

	"partnergate/core/access"
	"partnergate/core/fault"
	"partnergate/core/tokens"
	"partnergate/rpc"
)

// cookie is one of the seed's credential cookies: Secure, HttpOnly,
// SameSite=Lax, for the whole host.
func cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// setCookies sets the pair as the seed's cookies on the path style (on
// /rpc they are dropped: the result carries the same members).
func (s *Service) setCookies(ctx context.Context, p tokens.Pair) {
	if !rpc.PathStyle(ctx) {
		return
	}
	life := tokens.DefaultRefreshLifetime
	if s.Tokens != nil && s.Tokens.Lifetime > 0 {
		life = s.Tokens.Lifetime
	}
	jwtAge := max(int(time.Until(p.AccessExp).Seconds()), 1)
	rpc.SetCookie(ctx, cookie(access.CookieJWT, p.Access, jwtAge))
	rpc.SetCookie(ctx, cookie(access.CookieRefresh, p.Refresh, int(life.Seconds())))
	rpc.SetCookie(ctx, cookie(access.CookieSession, p.SessionID, int(life.Seconds())))
}

// clearCookies expires the seed's cookies (logout).
func clearCookies(ctx context.Context) {
	if !rpc.PathStyle(ctx) {
		return
	}
	for _, n := range []string{access.CookieJWT, access.CookieCK, access.CookieRefresh, access.CookieSession} {
		rpc.SetCookie(ctx, cookie(n, "", -1))
	}
}

// refreshToken is the rt param or, on the path style, the rt cookie; the
// param wins when both are sent.
func refreshToken(r *http.Request, param string) (string, error) {
	if param != "" {
		return param, nil
	}
	if rpc.PathStyle(r.Context()) {
		tc, err := access.ParseTokenCookies(r.Header)
		if err != nil {
			return "", err
		}
		if tc.Refresh != "" {
			return tc.Refresh, nil
		}
	}
	return "", fault.Field(fault.Invalid, "rt", "required (on the path style, or as the rt cookie)")
}
