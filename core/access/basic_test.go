package access_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"partnergate/core/access"
	"partnergate/core/fault"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasic(t *testing.T) {
	for _, tt := range []struct {
		name, header, user, pass string
		ok                       bool
	}{
		{"plain", "Basic " + b64("kate:secret"), "kate", "secret", true},
		{"scheme any case", "bAsIc " + b64("kate:secret"), "kate", "secret", true},
		{"utf-8", "Basic " + b64("Дима:пароль"), "Дима", "пароль", true},
		{"colon in password", "Basic " + b64("kate:a:b:c"), "kate", "a:b:c", true},
		{"empty password", "Basic " + b64("kate:"), "kate", "", true},
		{"extra spaces", "Basic   " + b64("kate:secret") + " ", "kate", "secret", true},
		{"no colon", "Basic " + b64("katesecret"), "", "", false},
		{"empty username", "Basic " + b64(":secret"), "", "", false},
		{"not utf-8", "Basic " + b64("k\xffte:secret"), "", "", false},
		{"control character", "Basic " + b64("kate:sec\nret"), "", "", false},
		{"not base64", "Basic kate:secret", "", "", false},
		{"unpadded", "Basic " + strings.TrimRight(b64("kate:secre"), "="), "", "", false},
		{"bearer", "Bearer " + b64("kate:secret"), "", "", false},
		{"no token", "Basic ", "", "", false},
		{"no space", "Basic" + b64("kate:secret"), "", "", false},
		{"two tokens", "Basic " + b64("kate:a") + " " + b64("x:y"), "", "", false},
		{"empty", "", "", "", false},
		{"too long", "Basic " + b64("kate:"+strings.Repeat("x", access.MaxBasicHeader)), "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, p, err := access.ParseBasic(tt.header)
			if !tt.ok {
				if fault.CodeOf(err) != fault.BasicMalformed {
					t.Fatalf("got %q, %q, %v; want BasicMalformed", u, p, err)
				}
				return
			}
			if err != nil || u != tt.user || p != tt.pass {
				t.Fatalf("got %q, %q, %v; want %q, %q", u, p, err, tt.user, tt.pass)
			}
		})
	}
}

// FuzzParseBasic: any header either fails with BasicMalformed or yields a
// non-empty, colon-free, valid UTF-8 username that re-encodes to the same
// credentials.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"Basic " + b64("kate:secret"), "Basic " + b64("a:b:c"), "basic Og==", "Basic", "Basic " + b64("k\xff:x")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		u, p, err := access.ParseBasic(header)
		if err != nil {
			if fault.CodeOf(err) != fault.BasicMalformed {
				t.Fatalf("%q: %v", header, err)
			}
			return
		}
		if u == "" || strings.Contains(u, ":") || !utf8.ValidString(u) || !utf8.ValidString(p) {
			t.Fatalf("%q: bad result %q, %q", header, u, p)
		}
		u2, p2, err := access.ParseBasic("Basic " + b64(u+":"+p))
		if err != nil || u2 != u || p2 != p {
			t.Fatalf("%q: round trip %q, %q, %v", header, u2, p2, err)
		}
	})
}
