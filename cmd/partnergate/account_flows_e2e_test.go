package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/core/geo/geotest"
	"partnergate/internal/testkit"
	"partnergate/methods/account/accountwire"
	"partnergate/store"
)

// rawCall posts one JSON-RPC call with the given headers and returns its
// envelope and the HTTP response.
func rawCall(t *testing.T, g *testkit.Gateway, path, method string, params any, headers map[string]string) (testkit.Envelope, *http.Response) {
	t.Helper()
	var body []byte
	if path == "/rpc" {
		body = []byte(testkit.Req(method, 1, params))
	} else {
		body, _ = json.Marshal(params)
		path += method
	}
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env testkit.Envelope
	if resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge {
		// net/http's own refusal, before any handler: no JSON.
		return env, resp
	}
	if path == "/rpc" {
		var r struct{ Result testkit.Envelope }
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v: %s", method, err, b)
		}
		env = r.Result
	} else if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v: %s", method, err, b)
	}
	return env, resp
}

func wantOK(t *testing.T, what string, env testkit.Envelope) {
	t.Helper()
	if env.Error.Status {
		t.Fatalf("%s: %+v %s", what, env.Error, env.Data)
	}
}

func wantFields(t *testing.T, what string, env testkit.Envelope, code fault.Code, fields ...string) {
	t.Helper()
	wantEnvCode(t, what, env, code)
	for _, f := range fields {
		if env.Error.Fields[f] == "" {
			t.Errorf("%s: no field %q in %v", what, f, env.Error.Fields)
		}
	}
	if len(env.Error.Fields) != len(fields) {
		t.Errorf("%s: fields %v, want exactly %v", what, env.Error.Fields, fields)
	}
}

// TestSeed004Signup: account.signup's per-field errors change nothing; a
// sign-up with email and the seed's phone form confirms both channels
// with account.signup.confirm and then logs in; resend answers alike for
// unknown logins; a batch signs up and refuses the duplicate.
func TestSeed004Signup(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, phone, pw = "jack@example.com", "442071838750", "yet another password 42"

			bad := g.Call(t, "account.signup", accountwire.SignupParams{LastName: "Smith", FirstName: strings.Repeat("J", 65),
				HeadEmail: "not-an-email", Phone: "123", Password: "short", RepPassword: "other"})
			wantFields(t, "bad signup", bad, fault.Invalid, "firstName", "headEmail", "phone", "password", "repPassword")
			wantFields(t, "nothing to sign up with", g.Call(t, "account.signup", accountwire.SignupParams{Password: pw, RepPassword: pw}),
				fault.Invalid, "headEmail", "phone")
			// The refused sign-ups left nothing behind: the email is free.
			env := g.Call(t, "account.signup", accountwire.SignupParams{LastName: "Smith", FirstName: "Jack", HeadEmail: email,
				Phone: phone, Password: pw, RepPassword: pw})
			wantOK(t, "signup", env)
			var res accountwire.Result
			if json.Unmarshal(env.Data, &res) != nil || !res.Success || !strings.Contains(res.Message, "confirmation") {
				t.Fatalf("signup result %s", env.Data)
			}
			wantEnvCode(t, "duplicate", g.Call(t, "account.signup", accountwire.SignupParams{HeadEmail: "JACK@example.com", Password: pw, RepPassword: pw}), fault.AlreadyExists)
			wantEnvCode(t, "login before confirming", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: pw}), fault.NotVerified)

			// Resend answers alike for an unknown login and a held one.
			wantOK(t, "resend unknown", g.Call(t, "account.signup.resend", accountwire.ResendParams{Login: "nobody@example.com"}))
			wantEnvCode(t, "resend held", g.Call(t, "account.signup.resend", accountwire.ResendParams{Login: email}), fault.Throttled)

			wantEnvCode(t, "unknown login", g.Call(t, "account.signup.confirm", accountwire.ConfirmParams{Login: "nobody@example.com", Code: "123456"}), fault.CodeInvalid)
			wantEnvCode(t, "wrong code", g.Call(t, "account.signup.confirm", accountwire.ConfirmParams{Login: email, Code: "000000"}), fault.CodeInvalid)
			wantOK(t, "confirm email", g.Call(t, "account.signup.confirm", accountwire.ConfirmParams{Login: email, Code: g.Code(t, email)}))
			wantEnvCode(t, "login with the phone unconfirmed", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: pw}), fault.PhoneNotVerified)
			// The seed's phone form (no "+") as the confirmation login.
			wantOK(t, "confirm phone", g.Call(t, "account.signup.confirm", accountwire.ConfirmParams{Login: phone, Code: g.Code(t, "+"+phone)}))
			tk := accountLogin(t, g, "+"+phone, pw)
			w := g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0]
			var who accountwire.WhoAmI
			if json.Unmarshal(w.Data, &who) != nil || who.FirstName != "Jack" || who.LastName != "Smith" || who.HeadEmail == nil ||
				*who.HeadEmail != email || who.Phone == nil || *who.Phone != "+"+phone || who.EmailConfirmed != "1" || who.PhoneConfirmed != "1" {
				t.Fatalf("whoAmI after signup: %s", w.Data)
			}

			// A batch: a sign-up, then the same email again.
			p, _ := json.Marshal(accountwire.SignupParams{HeadEmail: "batch@example.com", Password: pw, RepPassword: pw})
			var sp map[string]any
			_ = json.Unmarshal(p, &sp)
			r := g.Batch(t, "", testkit.Req("account.signup", 1, sp), testkit.Req("account.signup", 2, sp),
				testkit.Req("account.signup.confirm", 3, accountwire.ConfirmParams{Login: "batch@example.com", Code: "12345x"}))
			wantOK(t, "batch signup", r[0])
			wantEnvCode(t, "batch duplicate", r[1], fault.AlreadyExists)
			wantEnvCode(t, "batch malformed code", r[2], fault.CodeInvalid)

			// 20 parallel sign-ups of one email: one user, the rest 2006.
			var wg sync.WaitGroup
			codes := make([]int, 20)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e, _ := rawCall(t, g, "/rpc", "account.signup", accountwire.SignupParams{HeadEmail: "race@example.com", Password: pw, RepPassword: pw}, nil)
					codes[i] = e.Error.Code
				}()
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case 0:
					won++
				case int(fault.AlreadyExists):
				default:
					t.Errorf("parallel signup answered %d", c)
				}
			}
			if won != 1 {
				t.Fatalf("%d parallel sign-ups of one email succeeded, want 1", won)
			}
			if strings.Contains(g.Logs.String(), pw) {
				t.Error("a sign-up password reached the log")
			}
		})
	}
}

// TestSeed004Update: account.update edits the names at once and holds a
// new email until account.update.confirm; bad input changes nothing.
func TestSeed004Update(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "edit@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			who := func() accountwire.WhoAmI {
				t.Helper()
				w := g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0]
				var out accountwire.WhoAmI
				if err := json.Unmarshal(w.Data, &out); err != nil || w.Error.Status {
					t.Fatalf("whoAmI: %s %+v", w.Data, w.Error)
				}
				return out
			}
			str := func(s string) *string { return &s }
			wantEnvCode(t, "update anonymous", g.Call(t, "account.update", accountwire.UpdateParams{FirstName: str("X")}), fault.Unauthenticated)

			r := g.Batch(t, tk.WaviotJWT,
				testkit.Req("account.update", 1, accountwire.UpdateParams{FirstName: str("Bad\u0001"), LastName: str("Fine"), HeadEmail: str("nope")}),
				testkit.Req("account.update", 2, map[string]any{}),
				testkit.Req("account.update", 3, accountwire.UpdateParams{FirstName: str("Jack"), LastName: str("Smith")}),
				testkit.Req("account.whoAmI", 4, nil))
			wantFields(t, "bad update", r[0], fault.Invalid, "firstName", "headEmail")
			if r[0].Error.Message != "Invalid Data Provided." {
				t.Errorf("message %q", r[0].Error.Message)
			}
			wantEnvCode(t, "empty update", r[1], fault.Invalid)
			wantOK(t, "update names", r[2])
			var w accountwire.WhoAmI
			if json.Unmarshal(r[3].Data, &w) != nil || w.FirstName != "Jack" || w.LastName != "Smith" {
				t.Fatalf("after update: %s", r[3].Data)
			}

			const next = "edited@example.com"
			env := g.Batch(t, tk.WaviotJWT, testkit.Req("account.update", 1, accountwire.UpdateParams{HeadEmail: str(next)}))[0]
			var ur accountwire.UpdateResult
			if json.Unmarshal(env.Data, &ur) != nil || !ur.Success || len(ur.Pending) != 1 || ur.Pending[0] != "headEmail" {
				t.Fatalf("update email: %s %+v", env.Data, env.Error)
			}
			if h := who().HeadEmail; h == nil || *h != email {
				t.Fatalf("email changed before its code: %v", h)
			}
			wantEnvCode(t, "wrong change code", g.Batch(t, tk.WaviotJWT, testkit.Req("account.update.confirm", 1, accountwire.CodeParams{Code: "000000"}))[0], fault.CodeInvalid)
			wantOK(t, "confirm change", g.Batch(t, tk.WaviotJWT, testkit.Req("account.update.confirm", 1, accountwire.CodeParams{Code: g.Code(t, next)}))[0])
			if h := who().HeadEmail; h == nil || *h != next {
				t.Fatalf("email after confirm: %v", h)
			}
			accountLogin(t, g, next, pw)
		})
	}
}

// TestSeed004PasswordChange: the seed's per-field errors; a wrong current
// password counts like a failed login; a change keeps the caller's
// session and ends every other one, token and opaque.
func TestSeed004PasswordChange(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw, pw2 = "pwchange@example.com", "correct horse battery staple", "another fine passphrase 7"
			_, opaque := g.RegisterUser(t, email, pw)
			a := accountLogin(t, g, email, pw)
			other := accountLogin(t, g, email, pw)
			call := func(token string, p any) testkit.Envelope {
				return g.Batch(t, token, testkit.Req("account.password.change", 1, p))[0]
			}
			missing := call(a.WaviotJWT, map[string]any{})
			wantFields(t, "missing both", missing, fault.Invalid, "password_old", "password_new")
			if missing.Error.Fields["password_old"] != "Old password is not provided" || missing.Error.Fields["password_new"] != "New password is not provided" ||
				missing.Error.Message != "Incorrect request" {
				t.Errorf("seed messages: %+v", missing.Error)
			}
			wantFields(t, "wrong old", call(a.WaviotJWT, accountwire.PasswordChangeParams{PasswordOld: "wrong password!", PasswordNew: pw2}), fault.WrongCredentials, "password_old")
			wantFields(t, "weak new", call(a.WaviotJWT, accountwire.PasswordChangeParams{PasswordOld: pw, PasswordNew: "short"}), fault.PasswordTooShort, "password_new")
			wantFields(t, "same", call(a.WaviotJWT, accountwire.PasswordChangeParams{PasswordOld: pw, PasswordNew: pw}), fault.Invalid, "password_new")
			wantEnvCode(t, "anonymous", g.Call(t, "account.password.change", accountwire.PasswordChangeParams{PasswordOld: pw, PasswordNew: pw2}), fault.Unauthenticated)
			// Nothing changed so far: every session still works.
			wantOK(t, "other JWT before", g.Batch(t, other.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0])

			wantOK(t, "change", call(a.WaviotJWT, accountwire.PasswordChangeParams{PasswordOld: pw, PasswordNew: pw2}))
			if ms := g.Outbox(t, email); len(ms) == 0 || !strings.Contains(ms[0].Body, "password") || strings.Contains(ms[0].Body, pw2) {
				t.Fatalf("no password change notice (or one with the password): %+v", ms)
			}
			wantOK(t, "caller's JWT after", g.Batch(t, a.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0])
			wantEnvCode(t, "other JWT after", g.Batch(t, other.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0], fault.AccessTokenInvalid)
			wantEnvCode(t, "other refresh after", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: other.RT}), fault.RefreshTokenInvalid)
			wantEnvCode(t, "opaque session after", g.Batch(t, opaque, testkit.Req("user.auth.check", 1, nil))[0], fault.SessionInvalid)
			wantOK(t, "caller's refresh after", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: a.RT}))
			wantEnvCode(t, "old password", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: pw}), fault.WrongCredentials)
			accountLogin(t, g, email, pw2)
			// The other dialects see the new password too.
			g.Login(t, email, pw2)
		})
	}
}

var resetLink = regexp.MustCompile(`(http://[^\s]+/reset-password)\?token=([A-Za-z0-9_-]+)`)

// TestSeed004Recovery: account.recoverPassword answers alike for a known
// and an unknown email and sends a link built from the configured base;
// account.resetPassword takes its token once, ending every session.
func TestSeed004Recovery(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_PUBLIC_URL": "http://id.example.test/"}
			for k, v := range b.Env {
				env[k] = v
			}
			g := testkit.MustRunMain(t, testkit.Env(env))
			const email, pw, pw2 = "lost@example.com", "correct horse battery staple", "a brand new passphrase 9"
			_, opaque := g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)

			r := g.Batch(t, "", testkit.Req("account.recoverPassword", 1, accountwire.RecoverParams{Email: email}),
				testkit.Req("account.recoverPassword", 2, accountwire.RecoverParams{Email: "stranger@example.com"}),
				testkit.Req("account.recoverPassword", 3, accountwire.RecoverParams{Email: email}))
			wantOK(t, "recover known", r[0])
			wantOK(t, "recover unknown", r[1])
			if string(r[0].Data) != string(r[1].Data) || !strings.Contains(string(r[0].Data), `"success":true`) || !strings.Contains(string(r[0].Data), `"type":"email"`) {
				t.Fatalf("answers differ: %s vs %s", r[0].Data, r[1].Data)
			}
			wantEnvCode(t, "recover again at once", r[2], fault.Throttled)
			wantEnvCode(t, "unknown again at once", g.Call(t, "account.recoverPassword", accountwire.RecoverParams{Email: "stranger@example.com"}), fault.Throttled)

			ms := g.Outbox(t, email)
			if len(ms) == 0 {
				t.Fatal("no recovery message")
			}
			m := resetLink.FindStringSubmatch(ms[0].Body)
			if m == nil || m[1] != "http://id.example.test/reset-password" {
				t.Fatalf("no link from the public URL in %q", ms[0].Body)
			}
			token := m[2]
			reset := func(p accountwire.ResetParams) testkit.Envelope { return g.Call(t, "account.resetPassword", p) }
			wantEnvCode(t, "unknown token", reset(accountwire.ResetParams{Token: "x" + token, Password: pw2}), fault.RecoveryLinkInvalid)
			wantFields(t, "weak", reset(accountwire.ResetParams{Token: token, Password: "short"}), fault.PasswordTooShort, "password")
			wantFields(t, "mismatch", reset(accountwire.ResetParams{Token: token, Password: pw2, RepPassword: pw}), fault.Invalid, "repPassword")
			// user.auth.recovery's token (handed to its caller) is no link.
			rec := g.Call(t, "user.auth.recovery", map[string]string{"login": "other@example.com"})
			var rr struct{ Token string }
			_ = json.Unmarshal(rec.Data, &rr)
			wantEnvCode(t, "a code-flow token", reset(accountwire.ResetParams{Token: rr.Token, Password: pw2}), fault.RecoveryLinkInvalid)

			wantOK(t, "reset", reset(accountwire.ResetParams{Token: token, Password: pw2, RepPassword: pw2}))
			wantEnvCode(t, "token again", reset(accountwire.ResetParams{Token: token, Password: pw2}), fault.RecoveryLinkInvalid)
			wantEnvCode(t, "JWT after reset", g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0], fault.AccessTokenInvalid)
			wantEnvCode(t, "refresh after reset", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT}), fault.RefreshTokenInvalid)
			wantEnvCode(t, "opaque after reset", g.Batch(t, opaque, testkit.Req("user.auth.check", 1, nil))[0], fault.SessionInvalid)
			wantEnvCode(t, "old password", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: pw}), fault.WrongCredentials)
			accountLogin(t, g, email, pw2)

			logs := g.Logs.String()
			if strings.Contains(logs, token) || strings.Contains(logs, pw2) {
				t.Error("the reset token or the new password reached the log")
			}
		})
	}
}

// TestSeed004Settings: the seed's set and get; names validated, values
// typed, null removes, the cap holds; refusals change nothing.
func TestSeed004Settings(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "meters@example.com", "correct horse battery staple"
			_, opaque := g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			set := map[string]any{"notifications-tariffs__push": 1, "notifications-tariffs__sms": 1, "notifications-tariffs__email": 0}
			r := g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, set), testkit.Req("account.settings.get", 2, nil))
			var sr accountwire.SettingsSetResult
			if json.Unmarshal(r[0].Data, &sr) != nil || !sr.Success || sr.SetCount != 3 || len(sr.Result) != 3 || !sr.Result["notifications-tariffs__email"] {
				t.Fatalf("set: %s %+v", r[0].Data, r[0].Error)
			}
			var got accountwire.Settings
			if json.Unmarshal(r[1].Data, &got) != nil || len(got.API) != 3 || got.API[0].Name != "notifications-tariffs__email" ||
				got.API[0].Value != "0" || got.API[0].Type != "number" || got.API[0].CreatedTS < 1e9 {
				t.Fatalf("get: %s", r[1].Data)
			}
			// The opaque session of seed 000 reads the same settings.
			if o := g.Batch(t, opaque, testkit.Req("account.settings.get", 1, nil))[0]; string(o.Data) != string(r[1].Data) {
				t.Fatalf("opaque get %s", o.Data)
			}
			for _, bad := range []map[string]any{
				{"bad name": 1, "notifications-tariffs__push": 0},
				{"Upper": 1}, {"x_y": 1}, {"-x": 1}, {strings.Repeat("a", 65): 1},
				{"ok-name": map[string]any{"nested": 1}}, {"ok-name": []int{1}}, {"ok-name": strings.Repeat("v", 1025)},
			} {
				e := g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, bad))[0]
				wantEnvCode(t, fmt.Sprintf("bad %v", bad), e, fault.Invalid)
			}
			wantEnvCode(t, "empty set", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, map[string]any{}))[0], fault.Invalid)
			wantOK(t, "typed and null", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1,
				map[string]any{"theme": "dark", "beta-opt-in": true, "notifications-tariffs__sms": nil}))[0])
			e := g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.get", 1, nil))[0]
			_ = json.Unmarshal(e.Data, &got)
			byName := map[string]accountwire.Setting{}
			for _, s := range got.API {
				byName[s.Name] = s
			}
			if len(byName) != 4 || byName["theme"].Value != "dark" || byName["theme"].Type != "string" || byName["beta-opt-in"].Value != "true" ||
				byName["notifications-tariffs__push"].Value != "1" {
				t.Fatalf("after bad sets and a typed one: %s", e.Data)
			}
			// The cap: 100 per user; one more is refused whole.
			fill := map[string]any{}
			for i := range 46 {
				fill[fmt.Sprintf("fill-%d", i)] = i
			}
			wantOK(t, "fill to 50", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, fill))[0])
			fill = map[string]any{}
			for i := range 50 {
				fill[fmt.Sprintf("more-%d", i)] = i
			}
			wantOK(t, "fill to 100", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, fill))[0])
			wantEnvCode(t, "over the cap", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, map[string]any{"one-more": 1, "theme": "light"}))[0], fault.SettingsLimit)
			e = g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.get", 1, nil))[0]
			_ = json.Unmarshal(e.Data, &got)
			if len(got.API) != 100 || !strings.Contains(string(e.Data), `"dark"`) {
				t.Fatalf("after the refused set: %d settings", len(got.API))
			}
			fill = map[string]any{}
			for i := range 51 {
				fill[fmt.Sprintf("many-%d", i)] = i
			}
			wantEnvCode(t, "over the per-call cap", g.Batch(t, tk.WaviotJWT, testkit.Req("account.settings.set", 1, fill))[0], fault.Invalid)
			wantEnvCode(t, "anonymous", g.Call(t, "account.settings.get", nil), fault.Unauthenticated)
		})
	}
}

// TestSeed004AuthHistory: logins and refreshes of every namespace, newest
// first, with browser, OS and device from the user agent and the place
// from the configured database; paged by id.
func TestSeed004AuthHistory(t *testing.T) {
	mmdb := filepath.Join(t.TempDir(), "world.mmdb")
	if err := geotest.Write(mmdb, map[string]geo.Place{
		"127.0.0.0/8": {Country: "FR", CountryName: "France", Continent: "EU", City: "Paris", Lat: 48.85341, Lon: 2.3488},
	}); err != nil {
		t.Fatal(err)
	}
	const chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36"
	const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_GEOIP_DB": mmdb}
			for k, v := range b.Env {
				env[k] = v
			}
			g := testkit.MustRunMain(t, testkit.Env(env))
			const email, pw = "history@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			e, _ := rawCall(t, g, "/rpc", "account.login", accountwire.LoginParams{Login: email, Password: pw}, map[string]string{"User-Agent": chrome})
			var tk accountwire.Tokens
			if json.Unmarshal(e.Data, &tk) != nil || tk.RT == "" {
				t.Fatalf("login: %s", e.Data)
			}
			wantEnvCode(t, "failed login", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: "wrong password!"}), fault.WrongCredentials)
			// A login through seed 002 counts too.
			if e, _ := rawCall(t, g, "/rpc", "identity.sessions.create", map[string]string{"email": email, "password": pw}, map[string]string{"User-Agent": iphone}); e.Error.Status {
				t.Fatalf("identity login: %+v", e.Error)
			}
			e, _ = rawCall(t, g, "/rpc", "account.refresh", accountwire.RefreshParams{RT: tk.RT}, map[string]string{"User-Agent": "curl/8.5.0"})
			_ = json.Unmarshal(e.Data, &tk)

			hist := func(p accountwire.AuthHistoryParams) []accountwire.AuthEntry {
				t.Helper()
				r := g.Batch(t, tk.WaviotJWT, testkit.Req("account.authHistory", 1, p))[0]
				var out []accountwire.AuthEntry
				if err := json.Unmarshal(r.Data, &out); err != nil || r.Error.Status {
					t.Fatalf("authHistory: %s %+v", r.Data, r.Error)
				}
				return out
			}
			all := hist(accountwire.AuthHistoryParams{})
			if len(all) != 3 {
				t.Fatalf("%d entries, want 3 (refresh, identity login, account login): %+v", len(all), all)
			}
			ref, idl, acl := all[0], all[1], all[2]
			if ref.Action != "refresh" || ref.Type != "api" || idl.Action != "login" || acl.Action != "login" || !(ref.ID > idl.ID && idl.ID > acl.ID) {
				t.Fatalf("order or actions: %+v", all)
			}
			if acl.Browser.Family != "Chrome" || acl.Browser.Version == nil || *acl.Browser.Version != "75.0.3770.142" ||
				acl.OS.Family != "macOS" || acl.Device.Family != "Other" || acl.Device.Brand != nil || acl.Type != "browser" ||
				acl.UserAgent != chrome || acl.IP != "127.0.0.1" {
				t.Errorf("chrome entry: %+v", acl)
			}
			if idl.OS.Family != "iOS" || idl.Device.Family != "iPhone" || idl.Device.Brand == nil || *idl.Device.Brand != "Apple" {
				t.Errorf("iphone entry: %+v", idl)
			}
			if acl.Country == nil || acl.Country.ISO != "FR" || acl.Country.NameEN != "France" || acl.City == nil || acl.City.NameEN != "Paris" ||
				acl.City.Lat == nil || *acl.City.Lat != 48.85341 || acl.MapLinks["google"] != "https://google.com/maps/search/48.85341,2.34880" {
				t.Errorf("place: %+v %+v %v", acl.Country, acl.City, acl.MapLinks)
			}
			if len(acl.TS) != 10 || len(acl.DateTime) != len("25.07.2019 11:51:08") {
				t.Errorf("times %q %q", acl.TS, acl.DateTime)
			}
			page := hist(accountwire.AuthHistoryParams{Limit: 2})
			rest := hist(accountwire.AuthHistoryParams{Limit: 2, Before: page[1].ID})
			if len(page) != 2 || len(rest) != 1 || rest[0].ID != acl.ID {
				t.Fatalf("pages %+v then %+v", page, rest)
			}
			wantEnvCode(t, "limit too big", g.Batch(t, tk.WaviotJWT, testkit.Req("account.authHistory", 1, accountwire.AuthHistoryParams{Limit: 101}))[0], fault.Invalid)
			wantEnvCode(t, "anonymous", g.Call(t, "account.authHistory", nil), fault.Unauthenticated)
		})
	}
}

// TestSeed004Cookies: on the path style account.login and account.refresh
// set the seed's cookies (Secure, HttpOnly, SameSite=Lax), the seed's
// clients' ck/rt/sessid cookies authenticate and refresh, and bad cookies
// get a documented error; /rpc sets none.
func TestSeed004Cookies(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "cookie@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			const path = "/api/v0/partnerRpc/"
			xrw := "XMLHttpRequest"

			env, resp := rawCall(t, g, path, "account.login", accountwire.LoginParams{Login: email, Password: pw}, nil)
			wantOK(t, "path login", env)
			var tk accountwire.Tokens
			_ = json.Unmarshal(env.Data, &tk)
			got := map[string]*http.Cookie{}
			for _, c := range resp.Cookies() {
				got[c.Name] = c
				if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
					t.Errorf("cookie %s attributes: %+v", c.Name, c)
				}
			}
			if len(got) != 3 || got["WAVIOT_JWT"].Value != tk.WaviotJWT || got["rt"].Value != tk.RT || got["sessid"].Value != tk.SessID {
				t.Fatalf("login cookies %v for %+v", resp.Header.Values("Set-Cookie"), tk)
			}
			if _, r := rawCall(t, g, "/rpc", "account.login", accountwire.LoginParams{Login: email, Password: pw}, nil); len(r.Cookies()) != 0 {
				t.Fatalf("/rpc set cookies: %v", r.Header.Values("Set-Cookie"))
			}

			seed := "ck=" + tk.WaviotJWT + ";rt=" + tk.RT + ";sessid=" + tk.SessID + ";"
			env, _ = rawCall(t, g, path, "account.whoAmI", map[string]any{}, map[string]string{"Cookie": seed, "X-Requested-With": xrw})
			wantOK(t, "whoAmI by cookie", env)
			env, _ = rawCall(t, g, path, "account.whoAmI", map[string]any{}, map[string]string{"Cookie": seed})
			wantEnvCode(t, "cookie without X-Requested-With", env, fault.CookieInvalid)
			env, _ = rawCall(t, g, path, "account.whoAmI", map[string]any{}, map[string]string{"Cookie": "ck=" + strings.Repeat("a", 10<<10), "X-Requested-With": xrw})
			wantEnvCode(t, "10 KB ck", env, fault.CookieInvalid)
			env, _ = rawCall(t, g, path, "account.whoAmI", map[string]any{}, map[string]string{"Cookie": "ck=not-a-jwt", "X-Requested-With": xrw})
			wantEnvCode(t, "ck not a JWT", env, fault.AccessTokenInvalid)
			// 100 KB of cookies: refused by the server's header cap.
			_, r := rawCall(t, g, path, "system.ping", map[string]any{}, map[string]string{"Cookie": "x=" + strings.Repeat("a", 100<<10)})
			if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("100 KB cookie: HTTP %d", r.StatusCode)
			}
			// Cookies are the path style's only: /rpc ignores them.
			env, _ = rawCall(t, g, "/rpc", "account.whoAmI", nil, map[string]string{"Cookie": seed, "X-Requested-With": xrw})
			wantEnvCode(t, "cookie on /rpc", env, fault.Unauthenticated)

			env, _ = rawCall(t, g, path, "account.refresh", map[string]any{}, map[string]string{"Cookie": "rt=" + tk.RT + "; sessid=AAAAAAAAAAAAAAAAAAAAAA", "X-Requested-With": xrw})
			wantEnvCode(t, "sessid of another session", env, fault.CookieInvalid)
			env, resp = rawCall(t, g, path, "account.refresh", map[string]any{}, map[string]string{"Cookie": seed, "X-Requested-With": xrw})
			wantOK(t, "refresh by cookie", env)
			var next accountwire.Tokens
			_ = json.Unmarshal(env.Data, &next)
			nc := map[string]string{}
			for _, c := range resp.Cookies() {
				nc[c.Name] = c.Value
			}
			if next.RT == tk.RT || nc["rt"] != next.RT || nc["WAVIOT_JWT"] != next.WaviotJWT {
				t.Fatalf("refresh cookies %v", resp.Header.Values("Set-Cookie"))
			}
			env, _ = rawCall(t, g, path, "account.refresh", map[string]any{}, nil)
			wantEnvCode(t, "refresh without rt", env, fault.Invalid)

			env, resp = rawCall(t, g, path, "account.logout", map[string]any{}, map[string]string{"Cookie": "rt=" + next.RT, "X-Requested-With": xrw})
			wantOK(t, "logout by cookie", env)
			for _, c := range resp.Cookies() {
				if c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("logout left cookie %+v", c)
				}
			}
			if len(resp.Cookies()) != 4 {
				t.Errorf("logout cleared %d cookies", len(resp.Cookies()))
			}
			wantEnvCode(t, "JWT after logout", g.Batch(t, next.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0], fault.AccessTokenInvalid)
			logs := g.Logs.String()
			for _, s := range []string{tk.WaviotJWT, tk.RT, next.RT, next.WaviotJWT} {
				if strings.Contains(logs, s) {
					t.Error("a token reached the log")
				}
			}
		})
	}
}

// TestDisabledUserTokensStop: deactivating a user stops its access JWTs
// and opaque sessions on the next call, without waiting for them to
// expire; deleting one makes them invalid.
func TestDisabledUserTokensStop(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "banned@example.com", "correct horse battery staple"
			id, opaque := g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			wantOK(t, "before", g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0])
			wantOK(t, "opaque before", g.Batch(t, opaque, testkit.Req("user.auth.check", 1, nil))[0])
			if _, err := g.Accounts().Store.UpdateUser(t.Context(), id, func(u store.User) (store.User, error) {
				u.State = store.StateDisabled
				return u, nil
			}); err != nil {
				t.Fatal(err)
			}
			wantEnvCode(t, "JWT of a deactivated user", g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0], fault.UserDisabled)
			wantEnvCode(t, "JWT on seed 000", g.Batch(t, tk.WaviotJWT, testkit.Req("user.settings.get", 1, nil))[0], fault.UserDisabled)
			wantEnvCode(t, "opaque of a deactivated user", g.Batch(t, opaque, testkit.Req("account.settings.get", 1, nil))[0], fault.UserDisabled)
			if _, err := g.Accounts().Store.UpdateUser(t.Context(), id, func(u store.User) (store.User, error) {
				u.State = store.StateActive
				return u, nil
			}); err != nil {
				t.Fatal(err)
			}
			wantOK(t, "re-activated", g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0])
			if err := g.Accounts().Store.DeleteUser(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			wantEnvCode(t, "JWT of a deleted user", g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0], fault.AccessTokenInvalid)
		})
	}
}
