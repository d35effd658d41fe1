package access

import (
	"net/http"
	"strings"

	"partnergate/core/fault"
	"partnergate/core/tokens"
)

// Seed 004's credential cookies. account.login and account.refresh set
// CookieJWT, CookieRefresh and CookieSession on the path style; the seed's
// clients send the access JWT back as CookieJWT or as CookieCK.
const (
	CookieJWT     = "WAVIOT_JWT"
	CookieCK      = "ck"
	CookieRefresh = "rt"
	CookieSession = "sessid"
)

// Caps on credential cookie values, in bytes.
const (
	MaxCookieJWT   = tokens.MaxTokenBytes
	MaxCookieOther = 256
	// MaxCookieHeader bounds the Cookie headers looked at, together; the
	// server's 64 KiB header cap refuses larger requests before this.
	MaxCookieHeader = 16 << 10
)

// CSRFHeader is the header a request carrying credential cookies must
// have: the seed's clients send "X-Requested-With: XMLHttpRequest", which
// a cross-site form cannot.
const CSRFHeader = "X-Requested-With"

// TokenCookies are the credentials a request carries as cookies.
type TokenCookies struct {
	Access    string
	Refresh   string
	SessionID string
}

// Present reports whether any credential cookie was sent.
func (t TokenCookies) Present() bool {
	return t.Access != "" || t.Refresh != "" || t.SessionID != ""
}

// ParseTokenCookies reads the credential cookies of h. Other cookies are
// ignored. fault.CookieInvalid when the Cookie headers are over
// MaxCookieHeader, a credential cookie is over its cap or sent twice with
// different values (ck and WAVIOT_JWT count as one), sessid names another
// session than rt, or credential cookies come without CSRFHeader.
func ParseTokenCookies(h http.Header) (TokenCookies, error) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return TokenCookies{}, nil
	}
	bad := fault.New(fault.CookieInvalid)
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	if total > MaxCookieHeader {
		return TokenCookies{}, bad
	}
	var out TokenCookies
	set := func(dst *string, v string, max int) bool {
		if len(v) > max || (*dst != "" && *dst != v) {
			return false
		}
		*dst = v
		return true
	}
	for _, l := range lines {
		cs, err := http.ParseCookie(tidyCookies(l))
		if err != nil {
			// A header the standard parser refuses: look no further at it,
			// but a credential in it must not pass unnoticed.
			if strings.Contains(l, CookieJWT+"=") || strings.Contains(l, CookieRefresh+"=") || strings.Contains(l, CookieCK+"=") {
				return TokenCookies{}, bad
			}
			continue
		}
		for _, c := range cs {
			ok := true
			switch c.Name {
			case CookieJWT, CookieCK:
				ok = set(&out.Access, c.Value, MaxCookieJWT)
			case CookieRefresh:
				ok = set(&out.Refresh, c.Value, MaxCookieOther)
			case CookieSession:
				ok = set(&out.SessionID, c.Value, MaxCookieOther)
			}
			if !ok {
				return TokenCookies{}, bad
			}
		}
	}
	if !out.Present() {
		return out, nil
	}
	if h.Get(CSRFHeader) == "" {
		return TokenCookies{}, bad
	}
	if out.Refresh != "" && out.SessionID != "" {
		if sid, ok := tokens.RefreshSessionID(out.Refresh); ok && sid != out.SessionID {
			return TokenCookies{}, bad
		}
	}
	return out, nil
}

// tidyCookies drops the empty parts of a Cookie header ("a=1;b=2;", the
// seed's clients' form), which the standard parser refuses.
func tidyCookies(l string) string {
	parts := strings.Split(l, ";")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
