package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/identity/identitywire"
)

var (
	confirmTokenRE = regexp.MustCompile(`confirmation token: (\S+)`)
	resetTokenRE   = regexp.MustCompile(`password reset token: (\S+)`)
)

// mailedToken is the Barong token in the newest message to addr.
func mailedToken(t *testing.T, g *testkit.Gateway, addr string, re *regexp.Regexp) string {
	t.Helper()
	ms := g.Outbox(t, addr)
	if len(ms) == 0 {
		t.Fatalf("no message to %s", addr)
	}
	m := re.FindStringSubmatch(ms[0].Body)
	if m == nil {
		t.Fatalf("no token in the message to %s", addr)
	}
	return m[1]
}

func wantBarong(t *testing.T, what string, e testkit.Envelope, code fault.Code, msg string) {
	t.Helper()
	if e.Error.Code != int(code) || (msg != "" && e.Error.Message != msg) {
		t.Fatalf("%s: %+v, want %d %q", what, e.Error, code, msg)
	}
}

func TestSeed002EmailAndPasswordCodes(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			ctx := context.Background()
			if e := g.Call(t, "identity.users.create", map[string]string{"email": "bea@example.com", "password": strongPassword}); e.Error.Status {
				t.Fatalf("users.create: %+v", e.Error)
			}

			t.Run("email.generate_code shares the 90 s hold and answers alike for any address", func(t *testing.T) {
				// users.create sent the registration code just now.
				e := g.Call(t, "identity.users.email.generate_code", map[string]string{"email": "bea@example.com"})
				if e.Error.Code != int(fault.Throttled) || e.Error.RetryAfter <= 0 {
					t.Fatalf("resend within 90 s: %+v", e.Error)
				}
				for _, addr := range []string{"nobody@example.com", "not an email"} {
					if e := g.Call(t, "identity.users.email.generate_code", map[string]string{"email": addr}); e.Error.Status || string(e.Data) != "true" {
						t.Fatalf("%s: %+v %s", addr, e.Error, e.Data)
					}
				}
				// An unknown address is held like a known one.
				e = g.Call(t, "identity.users.email.generate_code", map[string]string{"email": "nobody@example.com"})
				if e.Error.Code != int(fault.Throttled) || e.Error.RetryAfter <= 0 {
					t.Fatalf("unknown resend within 90 s: %+v", e.Error)
				}
			})

			// The 90 s pass.
			if err := g.Accounts().KV.Release(ctx, "registration:email:bea@example.com"); err != nil {
				t.Fatal(err)
			}
			if e := g.Call(t, "identity.users.email.generate_code", map[string]string{"email": "bea@example.com", "lang": "en"}); e.Error.Status {
				t.Fatalf("generate_code: %+v", e.Error)
			}
			token := mailedToken(t, g, "bea@example.com", confirmTokenRE)

			t.Run("email.confirm_code refuses what does not verify", func(t *testing.T) {
				wrongCode := token[:len(token)-6] + "000000"
				if wrongCode == token {
					wrongCode = token[:len(token)-6] + "111111"
				}
				for _, tok := range []string{"garbage", wrongCode, "x." + token[len(token)-6:]} {
					wantBarong(t, tok, g.Call(t, "identity.users.email.confirm_code", map[string]string{"token": tok}),
						fault.CodeInvalid, "identity.user.active_or_doesnt_exist")
				}
				wantBarong(t, "bad lang", g.Call(t, "identity.users.email.confirm_code", map[string]string{"token": token, "lang": "EN"}), fault.Invalid, "")
			})

			var sess identitywire.Session
			t.Run("email.confirm_code confirms and signs in, once", func(t *testing.T) {
				e := g.Call(t, "identity.users.email.confirm_code", map[string]string{"token": token})
				if err := json.Unmarshal(e.Data, &sess); e.Error.Status || err != nil || sess.Token == "" || sess.State != "active" || sess.Level != 1 {
					t.Fatalf("confirm: %+v %s", e.Error, e.Data)
				}
				wantBarong(t, "second confirm", g.Call(t, "identity.users.email.confirm_code", map[string]string{"token": token}),
					fault.CodeInvalid, "identity.user.active_or_doesnt_exist")
				// Confirmed: any dialect logs in.
				g.Login(t, "bea@example.com", strongPassword)
				// A confirmed address asks again: the same answer, nothing to confirm.
				if err := g.Accounts().KV.Release(ctx, "registration:email:bea@example.com"); err != nil {
					t.Fatal(err)
				}
				if e := g.Call(t, "identity.users.email.generate_code", map[string]string{"email": "bea@example.com"}); e.Error.Status || string(e.Data) != "true" {
					t.Fatalf("confirmed address: %+v", e.Error)
				}
			})

			t.Run("password reset: mismatch and weak change nothing, a good one ends every session", func(t *testing.T) {
				other := g.Login(t, "bea@example.com", strongPassword)
				rs := g.Batch(t, "",
					testkit.Req("identity.users.password.generate_code", 1, map[string]string{"email": "bea@example.com"}),
					testkit.Req("identity.users.password.generate_code", 2, map[string]string{"email": "nobody@example.com"}))
				for i, e := range rs {
					if e.Error.Status || string(e.Data) != "true" {
						t.Fatalf("call %d: %+v %s", i, e.Error, e.Data)
					}
				}
				reset := mailedToken(t, g, "bea@example.com", resetTokenRE)
				const newPassword = "a brand new passphrase for bea"
				wantBarong(t, "mismatch", g.Call(t, "identity.users.password.confirm_code", map[string]string{
					"reset_password_token": reset, "password": newPassword, "confirm_password": newPassword + "!"}),
					fault.Invalid, "identity.user.passwords_doesnt_match")
				wantBarong(t, "weak", g.Call(t, "identity.users.password.confirm_code", map[string]string{
					"reset_password_token": reset, "password": "password1", "confirm_password": "password1"}),
					fault.PasswordWeak, "password.weak")
				wantBarong(t, "not a token", g.Call(t, "identity.users.password.confirm_code", map[string]string{
					"reset_password_token": "nope", "password": newPassword, "confirm_password": newPassword}),
					fault.CodeInvalid, "identity.user.utilized_token")
				// None of those used the token up or changed the password.
				g.Login(t, "bea@example.com", strongPassword)
				if e := g.Call(t, "identity.users.password.confirm_code", map[string]string{
					"reset_password_token": reset, "password": newPassword, "confirm_password": newPassword}); e.Error.Status {
					t.Fatalf("reset: %+v", e.Error)
				}
				for _, tok := range []string{sess.Token, other} {
					if e := g.CallAs(t, g.Client().WithToken(tok), "user.auth.check", nil); e.Error.Code != int(fault.SessionInvalid) {
						t.Fatalf("a session outlived the reset: %+v", e.Error)
					}
				}
				wantBarong(t, "old password", g.Call(t, "identity.sessions.create", map[string]string{"email": "bea@example.com", "password": strongPassword}),
					fault.WrongCredentials, "identity.session.invalid_params")
				if e := g.Call(t, "identity.sessions.create", map[string]string{"email": "bea@example.com", "password": newPassword}); e.Error.Status {
					t.Fatalf("new password: %+v", e.Error)
				}
				wantBarong(t, "token reused", g.Call(t, "identity.users.password.confirm_code", map[string]string{
					"reset_password_token": reset, "password": strongPassword, "confirm_password": strongPassword}),
					fault.CodeInvalid, "identity.user.utilized_token")
			})
		})
	}
}

// turnstileStub speaks Cloudflare's siteverify: "good" passes for secret s3cret.
func turnstileStub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		ok := r.PostForm.Get("secret") == "s3cret" && r.PostForm.Get("response") == "good"
		_ = json.NewEncoder(w).Encode(map[string]bool{"success": ok})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSeed002Captcha(t *testing.T) {
	srv := turnstileStub(t)
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env), testkit.Env(map[string]string{
				"PARTNERGATE_CAPTCHA": "turnstile", "PARTNERGATE_CAPTCHA_SECRET": "s3cret",
				"PARTNERGATE_CAPTCHA_SITE_KEY": "site-1", "PARTNERGATE_CAPTCHA_VERIFY_URL": srv.URL,
			}))
			var cf identitywire.ConfigsResult
			if e := g.Call(t, "identity.configs", nil); json.Unmarshal(e.Data, &cf) != nil || cf.CaptchaType != "turnstile" || cf.CaptchaID != "site-1" {
				t.Fatalf("configs %s", e.Data)
			}
			user := map[string]string{"email": "cap@example.com", "password": strongPassword}
			with := func(m map[string]string, answer string) map[string]string {
				out := map[string]string{"captcha_response": answer}
				for k, v := range m {
					out[k] = v
				}
				return out
			}
			for _, m := range []string{"identity.users.create", "identity.sessions.create", "identity.users.email.generate_code", "identity.users.password.generate_code"} {
				p := user
				if m != "identity.users.create" && m != "identity.sessions.create" {
					p = map[string]string{"email": user["email"]}
				}
				wantBarong(t, m+" without", g.Call(t, m, p), fault.CaptchaRequired, "identity.captcha.required")
				wantBarong(t, m+" refused", g.Call(t, m, with(p, "bad")), fault.CaptchaInvalid, "identity.captcha.verification_failed")
			}
			// Nothing above got past the captcha: no user, no message.
			wantBarong(t, "no user", g.Call(t, "identity.sessions.create", with(user, "good")), fault.WrongCredentials, "")
			if ms := g.Outbox(t, "cap@example.com"); len(ms) != 0 {
				t.Fatalf("%d messages sent past a refused captcha", len(ms))
			}
			rs := g.Batch(t, "",
				testkit.Req("identity.users.create", 1, with(user, "good")),
				testkit.Req("identity.users.create", 2, with(map[string]string{"email": "cap2@example.com", "password": strongPassword}, "")))
			if rs[0].Error.Status || rs[1].Error.Code != int(fault.CaptchaRequired) {
				t.Fatalf("batch: %+v / %+v", rs[0].Error, rs[1].Error)
			}
			// Methods Barong does not guard need no answer.
			if e := g.Call(t, "identity.password.validate", map[string]string{"password": strongPassword}); e.Error.Status {
				t.Fatalf("%+v", e.Error)
			}
			wantBarong(t, "register_geetest on turnstile", g.Call(t, "identity.users.register_geetest", nil), fault.NotFound, "")
		})
	}
}

func TestSeed002CaptchaVerifierDown(t *testing.T) {
	srv := turnstileStub(t)
	g := testkit.MustRunMain(t, testkit.Env(map[string]string{
		"PARTNERGATE_CAPTCHA": "recaptcha", "PARTNERGATE_CAPTCHA_SECRET": "s3cret",
		"PARTNERGATE_CAPTCHA_VERIFY_URL": srv.URL, "PARTNERGATE_CAPTCHA_ENDPOINTS": "session_create",
	}))
	g.RegisterUser(t, "dan@example.com", strongPassword)
	p := map[string]string{"email": "dan@example.com", "password": strongPassword, "captcha_response": "good"}
	if e := g.Call(t, "identity.sessions.create", p); e.Error.Status {
		t.Fatalf("%+v", e.Error)
	}
	// Only session_create is guarded here.
	if e := g.Call(t, "identity.users.password.generate_code", map[string]string{"email": "dan@example.com"}); e.Error.Status {
		t.Fatalf("unguarded endpoint: %+v", e.Error)
	}
	srv.Close()
	wantBarong(t, "verifier down", g.Call(t, "identity.sessions.create", p), fault.CaptchaUnavailable, "identity.captcha.verification_failed")
}

func TestSeed002GeeTest(t *testing.T) {
	const raw = "0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/register.php":
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": raw})
		case "/validate.php":
			_ = r.ParseForm()
			_ = json.NewEncoder(w).Encode(map[string]string{"seccode": md5hexTest(r.PostForm.Get("seccode"))})
		}
	}))
	t.Cleanup(srv.Close)
	g := testkit.MustRunMain(t, testkit.Env(map[string]string{
		"PARTNERGATE_CAPTCHA": "geetest", "PARTNERGATE_CAPTCHA_SECRET": "priv",
		"PARTNERGATE_CAPTCHA_SITE_KEY": "gt-1", "PARTNERGATE_CAPTCHA_VERIFY_URL": srv.URL,
	}))
	var ch identitywire.GeetestResult
	e := g.Call(t, "identity.users.register_geetest", nil)
	if err := json.Unmarshal(e.Data, &ch); e.Error.Status || err != nil || ch.Success != 1 || ch.GT != "gt-1" || ch.Challenge != md5hexTest(raw+"priv") {
		t.Fatalf("register_geetest: %+v %s", e.Error, e.Data)
	}
	answer, _ := json.Marshal(map[string]string{
		"geetest_challenge": ch.Challenge, "geetest_validate": md5hexTest("priv" + "geetest" + ch.Challenge), "geetest_seccode": "sc|jordan"})
	if e := g.Call(t, "identity.users.create", map[string]string{"email": "gee@example.com", "password": strongPassword, "captcha_response": string(answer)}); e.Error.Status {
		t.Fatalf("users.create: %+v", e.Error)
	}
	wantBarong(t, "members missing", g.Call(t, "identity.users.create", map[string]string{"email": "gee2@example.com", "password": strongPassword, "captcha_response": `{"geetest_challenge":"x"}`}),
		fault.CaptchaRequired, "identity.captcha.mandatory_fields")
}

func md5hexTest(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestSeed002TokensParallel: 20 parallel submissions of one mailed token,
// confirmation and reset alike, give one success (the rate classes are
// opened so that only the token decides).
func TestSeed002TokensParallel(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env), testkit.Env(looseRates))
			ctx := context.Background()
			if e := g.Call(t, "identity.users.create", map[string]string{"email": "par@example.com", "password": strongPassword}); e.Error.Status {
				t.Fatal(e.Error)
			}
			if err := g.Accounts().KV.Release(ctx, "registration:email:par@example.com"); err != nil {
				t.Fatal(err)
			}
			if e := g.Call(t, "identity.users.email.generate_code", map[string]string{"email": "par@example.com"}); e.Error.Status {
				t.Fatal(e.Error)
			}
			confirm := mailedToken(t, g, "par@example.com", confirmTokenRE)
			const next = "the parallel new passphrase"
			for _, c := range []struct {
				name   string
				method string
				params func() map[string]string
			}{
				{"email.confirm_code", "identity.users.email.confirm_code", func() map[string]string { return map[string]string{"token": confirm} }},
				{"password.confirm_code", "identity.users.password.confirm_code", func() map[string]string {
					if e := g.Call(t, "identity.users.password.generate_code", map[string]string{"email": "par@example.com"}); e.Error.Status {
						t.Fatal(e.Error)
					}
					return map[string]string{"reset_password_token": mailedToken(t, g, "par@example.com", resetTokenRE), "password": next, "confirm_password": next}
				}},
			} {
				p := c.params()
				var wg sync.WaitGroup
				res := make([]testkit.Envelope, 20)
				for i := range res {
					wg.Go(func() { res[i] = g.Call(t, c.method, p) })
				}
				wg.Wait()
				ok := 0
				for _, e := range res {
					switch {
					case !e.Error.Status:
						ok++
					case e.Error.Code != int(fault.CodeInvalid):
						t.Fatalf("%s: %+v", c.name, e.Error)
					}
				}
				if ok != 1 {
					t.Fatalf("%s: %d of 20 succeeded", c.name, ok)
				}
			}
		})
	}
}
