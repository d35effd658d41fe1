package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/rpc/console"
)

// fakeRPC answers identity.sessions.create as the transport would, so the
// console's own handling is tested apart from the gateway (the gateway's
// end-to-end tests are in cmd/partnergate/console_e2e_test.go).
func fakeRPC(t *testing.T, seen *http.Request) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = *r
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"data":{"uid":"ID0000000001","email":"a@example.com","role":"admin",` +
			`"token":"tok_0123456789abcdef0123456789","expires_at":"2030-01-01T00:00:00Z"},"error":{"status":false,"code":0,"message":""}}}`))
	})
}

func TestSecureCookie(t *testing.T) {
	for _, secure := range []bool{true, false} {
		var seen http.Request
		h := console.New(console.Config{RPC: fakeRPC(t, &seen), Secure: secure})
		req := httptest.NewRequest(http.MethodPost, "/console/api/session", strings.NewReader(`{"email":"a@example.com","password":"pw","otp_code":"123456"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer someone-elses")
		req.Header.Set("X-Api-Key", "k")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		set := w.Header().Get("Set-Cookie")
		if strings.Contains(set, "Secure") != secure || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") {
			t.Errorf("secure=%v: Set-Cookie %q", secure, set)
		}
		if !strings.Contains(set, "tok_0123456789abcdef0123456789") || strings.Contains(w.Body.String(), "tok_") {
			t.Errorf("token not in the cookie only: %q %s", set, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"csrf":"`+console.CSRFToken("tok_0123456789abcdef0123456789")+`"`) {
			t.Errorf("no CSRF token: %s", w.Body)
		}
		if seen.URL.Path != "/rpc" || seen.Header.Get("Authorization") != "" || seen.Header.Get("X-Api-Key") != "" {
			t.Errorf("forwarded with the browser's credentials: %v %v", seen.URL, seen.Header)
		}
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"jsonrpc":"2.0","method":"admin.users.list","id":1}`, true},
		{` [{"jsonrpc":"2.0","method":"admin.users.list","id":1},{"jsonrpc":"2.0","method":"identity.sessions.delete"}] `, true},
		{`{"jsonrpc":"2.0","method":"identity.sessions.create","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"identity.sessions","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"Admin.users.list","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"admin","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"admin.","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"user.auth.check","id":1}`, false},
		{`{"jsonrpc":"2.0","METHOD":"admin.x","method":"user.auth.check","id":1}`, false},
		{`[{"jsonrpc":"2.0","method":"admin.x","id":1},{"jsonrpc":"2.0","method":"user.auth.check","id":2}]`, false},
		{`[{"jsonrpc":"2.0","method":"admin.x","id":1},"user.auth.check"]`, false},
		{`[]`, false}, {``, false}, {`null`, false}, {`"admin.x"`, false}, {`{}`, false},
		{`{"method":1}`, false}, {`{"jsonrpc":"2.0","method":"user.x","method":"admin.x","id":1}`, false},
		{`{"jsonrpc":"2.0","method":"admin.x","id":1} {}`, false}, {`[[{"method":"admin.x"}]]`, false},
	} {
		if got := console.Allowed([]byte(tc.body)) == nil; got != tc.ok {
			t.Errorf("Allowed(%s) = %v, want %v", tc.body, got, tc.ok)
		}
	}
	if fe := console.Allowed([]byte(`{}`)); fe.Code != fault.ConsoleMethod {
		t.Errorf("refusal code %d", fe.Code)
	}
}

// FuzzAllowed: whatever Allowed accepts, every call in it names a console
// method, as the transport will read it.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{`{"jsonrpc":"2.0","method":"admin.x","id":1}`, `[{"method":"admin.a"},{"method":"identity.sessions.delete"}]`,
		`{"method":"admin.x","method":"user.x"}`, `{"method":"user.x","method":"admin.x"}`, `{"method":"\u0061dmin.x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if console.Allowed(body) != nil {
			return
		}
		// Accepted: every method string in it is a console method.
		for _, name := range methodStrings(string(body)) {
			if !console.ConsoleMethod(name) {
				t.Fatalf("accepted %q with method %q", body, name)
			}
		}
	})
}

// methodStrings is a plain scan for "method":"..." values without escapes.
func methodStrings(s string) []string {
	var out []string
	for {
		i := strings.Index(s, `"method":"`)
		if i < 0 {
			return out
		}
		s = s[i+len(`"method":"`):]
		j := strings.IndexAny(s, `"\`)
		if j < 0 {
			return out
		}
		if s[j] == '"' {
			out = append(out, s[:j])
		}
		s = s[j:]
	}
}

func TestCSRFTokenBoundToSession(t *testing.T) {
	a, b := console.CSRFToken("session-token-a-0123456789"), console.CSRFToken("session-token-b-0123456789")
	if a == b || a != console.CSRFToken("session-token-a-0123456789") || len(a) < 40 {
		t.Fatalf("csrf tokens %q %q", a, b)
	}
}
