package access

import (
	"net/http"
	"strings"
	"testing"

	"partnergate/core/fault"
)

const testRT = "pgr_0193e7a8-3b1c-7cde-8f00-123456789abc.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

func TestParseTokenCookies(t *testing.T) {
	jwt := "eyJhbGciOiJFZERTQSJ9.e30.sig"
	xrw := map[string]string{CSRFHeader: "XMLHttpRequest"}
	for _, tc := range []struct {
		name    string
		cookies []string
		headers map[string]string
		want    TokenCookies
		bad     bool
	}{
		{"none", nil, nil, TokenCookies{}, false},
		{"others only, no header needed", []string{"theme=dark; lang=en"}, nil, TokenCookies{}, false},
		{"seed form", []string{"ck=" + jwt + ";rt=" + testRT + ";sessid=AAAAAAAAAAAAAAAAAAAAAA;"}, xrw,
			TokenCookies{Access: jwt, Refresh: testRT, SessionID: "AAAAAAAAAAAAAAAAAAAAAA"}, false},
		{"WAVIOT_JWT name", []string{"WAVIOT_JWT=" + jwt}, xrw, TokenCookies{Access: jwt}, false},
		{"ck and WAVIOT_JWT alike", []string{"WAVIOT_JWT=" + jwt + "; ck=" + jwt}, xrw, TokenCookies{Access: jwt}, false},
		{"two headers", []string{"ck=" + jwt, "rt=" + testRT}, xrw, TokenCookies{Access: jwt, Refresh: testRT}, false},
		{"ck and WAVIOT_JWT differ", []string{"WAVIOT_JWT=" + jwt + "; ck=x" + jwt}, xrw, TokenCookies{}, true},
		{"rt twice", []string{"rt=a; rt=b"}, xrw, TokenCookies{}, true},
		{"no X-Requested-With", []string{"ck=" + jwt}, nil, TokenCookies{}, true},
		{"sessid of another session", []string{"rt=" + testRT + "; sessid=CCCCCCCCCCCCCCCCCCCCCC"}, xrw, TokenCookies{}, true},
		{"oversized JWT", []string{"ck=" + strings.Repeat("a", MaxCookieJWT+1)}, xrw, TokenCookies{}, true},
		{"oversized rt", []string{"rt=" + strings.Repeat("a", MaxCookieOther+1)}, xrw, TokenCookies{}, true},
		{"100 KB header", []string{"x=" + strings.Repeat("a", 100<<10)}, xrw, TokenCookies{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, c := range tc.cookies {
				h.Add("Cookie", c)
			}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, err := ParseTokenCookies(h)
			if tc.bad {
				if fault.CodeOf(err) != fault.CookieInvalid {
					t.Fatalf("got %+v, %v; want CookieInvalid", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseTokenCookies(f *testing.F) {
	f.Add("ck=a.b.c;rt="+testRT+";sessid=AAAAAAAAAAAAAAAAAAAAAA;", true)
	f.Add("WAVIOT_JWT=\"quoted\"; rt=;; =x", false)
	f.Add("rt=a; rt=b", true)
	f.Fuzz(func(t *testing.T, cookie string, xrw bool) {
		h := http.Header{}
		h.Add("Cookie", cookie)
		if xrw {
			h.Set(CSRFHeader, "XMLHttpRequest")
		}
		got, err := ParseTokenCookies(h)
		if err != nil {
			if fault.CodeOf(err) != fault.CookieInvalid || got.Present() {
				t.Fatalf("%q: %+v %v", cookie, got, err)
			}
			return
		}
		if got.Present() && !xrw {
			t.Fatalf("%q: credentials accepted without %s", cookie, CSRFHeader)
		}
		if len(got.Access) > MaxCookieJWT || len(got.Refresh) > MaxCookieOther || len(got.SessionID) > MaxCookieOther {
			t.Fatalf("%q: over a cap: %+v", cookie, got)
		}
		for _, v := range []string{got.Access, got.Refresh, got.SessionID} {
			if v != "" && !strings.Contains(cookie, v) {
				t.Fatalf("%q: value %q not from the header", cookie, v)
			}
		}
	})
}
