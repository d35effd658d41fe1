package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/rpc/console"
)

// consoleClient is a browser-like client of the console: it keeps the
// cookie as a browser does and sends what the page's script sends.
type consoleClient struct {
	t      testing.TB
	base   string
	cookie *http.Cookie
	csrf   string
}

type consoleReply struct {
	status int
	header http.Header
	body   []byte
	env    testkit.Envelope
}

func (c *consoleClient) do(method, path, body string, hdr map[string]string) consoleReply {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := consoleReply{status: resp.StatusCode, header: resp.Header, body: b}
	for _, ck := range resp.Cookies() {
		if ck.Name == console.CookieName {
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	if bytes.HasPrefix(b, []byte(`{"data"`)) {
		_ = json.Unmarshal(b, &r.env)
	} else {
		var rr struct{ Result testkit.Envelope }
		if json.Unmarshal(b, &rr) == nil {
			r.env = rr.Result
		}
	}
	return r
}

func (c *consoleClient) signIn(email, password string) consoleReply {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	r := c.do(http.MethodPost, "/console/api/session", string(b), nil)
	var d struct {
		CSRF string `json:"csrf"`
	}
	_ = json.Unmarshal(r.env.Data, &d)
	c.csrf = d.CSRF
	return r
}

func (c *consoleClient) rpc(body string) consoleReply {
	c.t.Helper()
	return c.do(http.MethodPost, "/console/api/rpc", body, map[string]string{console.CSRFHeader: c.csrf})
}

func TestConsoleOffByDefault(t *testing.T) {
	g := testkit.MustRunMain(t, testkit.Env(map[string]string{"PARTNERGATE_DEV": "false"}))
	c := &consoleClient{t: t, base: g.URL}
	if r := c.do(http.MethodGet, "/console/", "", nil); r.status != http.StatusNotFound {
		t.Fatalf("console served without PARTNERGATE_CONSOLE: %d", r.status)
	}
	if r := c.do(http.MethodPost, "/console/api/session", `{}`, nil); r.status != http.StatusNotFound {
		t.Fatalf("console sign-in served without PARTNERGATE_CONSOLE: %d", r.status)
	}
}

// TestConsoleOnOutsideDev: PARTNERGATE_CONSOLE=1 serves it without --dev
// (its cookie is then Secure: TestSecureCookie in rpc/console).
func TestConsoleOnOutsideDev(t *testing.T) {
	g := testkit.MustRunMain(t, testkit.Env(map[string]string{"PARTNERGATE_DEV": "false", "PARTNERGATE_CONSOLE": "1"}))
	c := &consoleClient{t: t, base: g.URL}
	if r := c.do(http.MethodGet, "/console/", "", nil); r.status != http.StatusOK || r.header.Get("Content-Security-Policy") != console.Policy {
		t.Fatalf("console not served with PARTNERGATE_CONSOLE=1: %d", r.status)
	}
	r := c.signIn("nobody@example.com", strongPassword)
	if r.env.Error.Code != int(fault.WrongCredentials) || c.cookie != nil {
		t.Fatalf("sign in as nobody: %s", r.body)
	}
}

func TestConsoleRoutes(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			ctx := context.Background()
			id, _ := g.RegisterUser(t, "ops@example.com", strongPassword)
			if err := g.Store().SetUserRole(ctx, id, "admin"); err != nil {
				t.Fatal(err)
			}
			c := &consoleClient{t: t, base: g.URL}

			t.Run("static files and headers", func(t *testing.T) {
				for _, p := range []string{"/console/", "/console/app.js", "/console/style.css", "/console/api.js"} {
					r := c.do(http.MethodGet, p, "", nil)
					if r.status != http.StatusOK {
						t.Fatalf("GET %s: %d", p, r.status)
					}
					h := r.header
					if h.Get("Content-Security-Policy") != console.Policy || !strings.Contains(console.Policy, "frame-ancestors 'none'") ||
						strings.Contains(console.Policy, "unsafe-inline") {
						t.Errorf("%s CSP %q", p, h.Get("Content-Security-Policy"))
					}
					if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
						t.Errorf("%s headers %v", p, h)
					}
				}
				if r := c.do(http.MethodGet, "/console/app.js", "", nil); !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
					t.Errorf("app.js Content-Type %q", r.header.Get("Content-Type"))
				}
				idx := c.do(http.MethodGet, "/console/", "", nil)
				if bytes.Contains(idx.body, []byte("<script>")) || bytes.Contains(idx.body, []byte("<style")) || bytes.Contains(idx.body, []byte("http")) && bytes.Contains(idx.body, []byte("src=\"http")) {
					t.Errorf("index.html has inline script, style or a remote source")
				}
				for _, p := range []string{"/console/nope.js", "/console/api/nope", "/console/web/index.html"} {
					if r := c.do(http.MethodGet, p, "", nil); r.status != http.StatusNotFound {
						t.Errorf("GET %s: %d, want 404", p, r.status)
					}
				}
				if r := c.do(http.MethodPost, "/console/app.js", "{}", nil); r.status != http.StatusMethodNotAllowed {
					t.Errorf("POST app.js: %d", r.status)
				}
			})

			t.Run("signed out", func(t *testing.T) {
				if r := c.do(http.MethodGet, "/console/api/session", "", nil); r.status != http.StatusUnauthorized || r.env.Error.Code != int(fault.ConsoleSignedOut) {
					t.Fatalf("session without cookie: %d %s", r.status, r.body)
				}
				if r := c.rpc(`{"jsonrpc":"2.0","method":"identity.sessions.delete","id":1}`); r.env.Error.Code != int(fault.ConsoleSignedOut) {
					t.Fatalf("rpc without cookie: %d %s", r.status, r.body)
				}
			})

			t.Run("wrong password", func(t *testing.T) {
				r := c.signIn("ops@example.com", "not the password at all")
				if !r.env.Error.Status || r.env.Error.Code != int(fault.WrongCredentials) || c.cookie != nil {
					t.Fatalf("wrong password: %s cookie=%v", r.body, c.cookie)
				}
				if r := c.do(http.MethodPost, "/console/api/session", `{"email":"a@b.c","password":"x","role":"admin"}`, nil); r.status != http.StatusBadRequest || r.env.Error.Code != int(fault.Invalid) {
					t.Fatalf("unknown member: %d %s", r.status, r.body)
				}
			})

			r := c.signIn("ops@example.com", strongPassword)
			if r.env.Error.Status || c.cookie == nil || c.csrf == "" {
				t.Fatalf("sign in: %s", r.body)
			}
			token := c.cookie.Value
			if bytes.Contains(r.body, []byte(token)) || bytes.Contains(r.body, []byte(`"token"`)) {
				t.Fatalf("the sign-in answer carries the session token: %s", r.body)
			}
			set := r.header.Get("Set-Cookie")
			for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
				if !strings.Contains(set, want) {
					t.Errorf("Set-Cookie %q lacks %s", set, want)
				}
			}
			if strings.Contains(set, "Secure") {
				t.Errorf("dev (loopback, plain HTTP) cookie is Secure, the browser would drop it: %q", set)
			}

			t.Run("session answers the same CSRF token", func(t *testing.T) {
				r := c.do(http.MethodGet, "/console/api/session", "", nil)
				var d struct {
					CSRF    string   `json:"csrf"`
					Methods []string `json:"methods"`
				}
				if err := json.Unmarshal(r.env.Data, &d); err != nil || d.CSRF != c.csrf {
					t.Fatalf("session: %s", r.body)
				}
				for _, m := range d.Methods {
					if !console.ConsoleMethod(m) {
						t.Errorf("methods lists %s", m)
					}
				}
			})

			t.Run("csrf", func(t *testing.T) {
				body := `{"jsonrpc":"2.0","method":"admin.nothing","id":1}`
				for name, h := range map[string]string{"none": "", "wrong": console.CSRFToken("another session's token"), "truncated": c.csrf[:10]} {
					r := c.do(http.MethodPost, "/console/api/rpc", body, map[string]string{console.CSRFHeader: h})
					if r.status != http.StatusForbidden || r.env.Error.Code != int(fault.ConsoleCSRF) {
						t.Errorf("%s CSRF token: %d %s", name, r.status, r.body)
					}
				}
				if r := c.do(http.MethodPost, "/console/api/logout", `{}`, nil); r.env.Error.Code != int(fault.ConsoleCSRF) || c.cookie == nil {
					t.Errorf("logout without CSRF: %s", r.body)
				}
			})

			t.Run("cross origin", func(t *testing.T) {
				body := `{"jsonrpc":"2.0","method":"identity.sessions.delete","id":1}`
				for name, h := range map[string]map[string]string{
					"origin":         {"Origin": "https://evil.example"},
					"sec-fetch-site": {"Sec-Fetch-Site": "cross-site"},
					"same-site":      {"Sec-Fetch-Site": "same-site"},
					"text/plain":     {"Content-Type": "text/plain"},
					"form":           {"Content-Type": "application/x-www-form-urlencoded"},
				} {
					h[console.CSRFHeader] = c.csrf
					r := c.do(http.MethodPost, "/console/api/rpc", body, h)
					if r.status != http.StatusForbidden || r.env.Error.Code != int(fault.ConsoleCrossSite) {
						t.Errorf("%s: %d %s", name, r.status, r.body)
					}
				}
				if r := c.do(http.MethodPost, "/console/api/session", `{"email":"ops@example.com","password":"`+strongPassword+`"}`,
					map[string]string{"Origin": "https://evil.example"}); r.env.Error.Code != int(fault.ConsoleCrossSite) {
					t.Errorf("cross-origin sign-in: %s", r.body)
				}
				if r := c.do(http.MethodPost, "/console/api/rpc", `{"jsonrpc":"2.0","method":"admin.x","id":1}`,
					map[string]string{console.CSRFHeader: c.csrf, "Origin": g.URL, "Sec-Fetch-Site": "same-origin"}); r.env.Error.Code == int(fault.ConsoleCrossSite) {
					t.Errorf("same-origin call refused: %s", r.body)
				}
			})

			t.Run("only admin methods", func(t *testing.T) {
				for _, body := range []string{
					`{"jsonrpc":"2.0","method":"user.auth.check","id":1}`,
					`{"jsonrpc":"2.0","method":"identity.sessions.create","params":{"email":"ops@example.com","password":"x"},"id":1}`,
					`{"jsonrpc":"2.0","method":"dev.outbox.list","params":{"to":"ops@example.com"},"id":1}`,
					`{"jsonrpc":"2.0","method":"rpc.discover","id":1}`,
					`{"jsonrpc":"2.0","method":"admin.","id":1}`,
					`{"jsonrpc":"2.0","method":"administrator.x","id":1}`,
					`{"jsonrpc":"2.0","id":1}`,
					`{"jsonrpc":"2.0","method":["admin.x"],"id":1}`,
					`[{"jsonrpc":"2.0","method":"admin.x","id":1},{"jsonrpc":"2.0","method":"resource.users.me","id":2}]`,
					`[]`, `not json`, `{"jsonrpc":"2.0","method":"\u0075ser.auth.check","id":1}`,
				} {
					r := c.rpc(body)
					if r.status != http.StatusForbidden || r.env.Error.Code != int(fault.ConsoleMethod) {
						t.Errorf("%s: %d %s", body, r.status, r.body)
					}
				}
			})

			t.Run("forwarded as the cookie's session", func(t *testing.T) {
				// An admin method the gateway does not serve reaches the
				// transport, which answers it as it would on /rpc.
				r := c.rpc(`{"jsonrpc":"2.0","method":"admin.no.such.method","id":7}`)
				var pe struct {
					ID    int
					Error struct{ Code int }
				}
				if err := json.Unmarshal(r.body, &pe); err != nil || pe.ID != 7 || pe.Error.Code != -32601 {
					t.Fatalf("unknown admin method: %d %s", r.status, r.body)
				}
				// A batch forwards as a batch.
				r = c.rpc(`[{"jsonrpc":"2.0","method":"admin.a","id":1},{"jsonrpc":"2.0","method":"admin.b","id":2}]`)
				var batch []json.RawMessage
				if err := json.Unmarshal(r.body, &batch); err != nil || len(batch) != 2 {
					t.Fatalf("batch: %s", r.body)
				}
				// Every access rule applies unchanged: this admin has no 2FA.
				if r := c.rpc(`{"jsonrpc":"2.0","method":"admin.levels.list","id":3}`); r.env.Error.Code != int(fault.TwoFactorRequired) {
					t.Fatalf("admin call without 2FA: %s", r.body)
				}
				// The cookie's token is an ordinary session.
				if e := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil); e.Error.Status {
					t.Fatalf("the console's session is not a session: %+v", e.Error)
				}
			})

			t.Run("a member is refused admin calls", func(t *testing.T) {
				g.RegisterUser(t, "mem@example.com", strongPassword)
				m := &consoleClient{t: t, base: g.URL}
				if r := m.signIn("mem@example.com", strongPassword); r.env.Error.Status {
					t.Fatalf("member sign in: %s", r.body)
				}
				r := m.rpc(`[{"jsonrpc":"2.0","method":"admin.levels.list","id":1},{"jsonrpc":"2.0","method":"admin.users.list","id":2}]`)
				var batch []struct{ Result testkit.Envelope }
				if err := json.Unmarshal(r.body, &batch); err != nil || len(batch) != 2 {
					t.Fatalf("member batch: %s", r.body)
				}
				for i, b := range batch {
					if b.Result.Error.Code != int(fault.Forbidden) {
						t.Errorf("member call %d: %+v", i, b.Result.Error)
					}
				}
			})

			t.Run("logout ends the session", func(t *testing.T) {
				r := c.do(http.MethodPost, "/console/api/logout", `{}`, map[string]string{console.CSRFHeader: c.csrf})
				if r.env.Error.Status || c.cookie != nil {
					t.Fatalf("logout: %s cookie=%v", r.body, c.cookie)
				}
				if e := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil); e.Error.Code != int(fault.SessionInvalid) {
					t.Fatalf("session after logout: %+v", e.Error)
				}
				// The old cookie, replayed, reaches a dead session.
				c.cookie = &http.Cookie{Name: console.CookieName, Value: token}
				c.csrf = console.CSRFToken(token)
				if r := c.rpc(`{"jsonrpc":"2.0","method":"identity.sessions.delete","id":1}`); r.env.Error.Code != int(fault.SessionInvalid) {
					t.Fatalf("replayed cookie: %s", r.body)
				}
			})
		})
	}
}
