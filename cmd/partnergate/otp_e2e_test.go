package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"partnergate/cmd/partnergate/gateway"
	"partnergate/core/fault"
	"partnergate/core/otp"
	"partnergate/internal/testkit"
	"partnergate/methods/account/accountwire"
	"partnergate/methods/identity/identitywire"
	"partnergate/methods/resource/resourcewire"
	"partnergate/methods/user/userwire"
)

// otpClock is the gateways' TOTP clock in these tests: it starts at the
// real time and moves on by whole steps when a test needs a fresh code, so
// no test waits for the 30-second step to change.
type otpClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *otpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *otpClock) step() {
	c.mu.Lock()
	c.t = c.t.Add(otp.Period * time.Second)
	c.mu.Unlock()
}

// withOTPClock starts a gateway whose second factor reads clk.
func withOTPClock(t *testing.T, clk *otpClock, env map[string]string) *testkit.Gateway {
	t.Helper()
	return testkit.MustRunMain(t, testkit.Env(env), testkit.Setup(func(m *gateway.Main) {
		m.Accounts().SecondFactor.(*otp.Service).Now = clk.Now
	}))
}

// authenticator is the user's app: the secret from the otpauth URL.
type authenticator struct {
	t      *testing.T
	clk    *otpClock
	secret string
}

// code is the code of the clock's current step.
func (a authenticator) code() string {
	a.t.Helper()
	c, err := totp.GenerateCode(a.secret, a.clk.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// fresh moves the clock to the next step and returns its code.
func (a authenticator) fresh() string {
	a.clk.step()
	return a.code()
}

// wrong is a 6-digit code of none of the steps the gateway accepts now.
func (a authenticator) wrong() string {
	a.t.Helper()
	valid := map[string]bool{}
	for d := -2; d <= 2; d++ {
		c, _ := totp.GenerateCode(a.secret, a.clk.Now().Add(time.Duration(d)*otp.Period*time.Second))
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", 100000+i*7919); !valid[c] {
			return c
		}
	}
}

func otpWantOK(t *testing.T, what string, env testkit.Envelope) {
	t.Helper()
	if env.Error.Status {
		t.Fatalf("%s: %+v %s", what, env.Error, env.Data)
	}
}

func otpWantFault(t *testing.T, what string, env testkit.Envelope, code fault.Code, message string) {
	t.Helper()
	if !env.Error.Status || env.Error.Code != int(code) || (message != "" && env.Error.Message != message) {
		t.Fatalf("%s: %+v %s, want %d %q", what, env.Error, env.Data, code, message)
	}
}

// enrolOTP turns 2FA on for the session's user through resource.otp.*
// and returns the app, the recovery codes and the code that enabled it.
func enrolOTP(t *testing.T, g *testkit.Gateway, clk *otpClock, token string) (authenticator, []string, string) {
	t.Helper()
	c := g.Client().WithToken(token)
	qr := g.CallAs(t, c, "resource.otp.generate_qrcode", nil)
	otpWantOK(t, "generate_qrcode", qr)
	var res resourcewire.OTPQRCode
	if err := json.Unmarshal(qr.Data, &res); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data.Barcode)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("barcode is not a base64 PNG: %v", err)
	}
	key, err := potp.NewKeyFromURL(res.Data.URL)
	if err != nil || key.Type() != "totp" || key.Secret() == "" {
		t.Fatalf("url %q: %v", res.Data.URL, err)
	}
	app := authenticator{t: t, clk: clk, secret: key.Secret()}
	used := app.code()
	en := g.CallAs(t, c, "resource.otp.enable", map[string]string{"code": used})
	otpWantOK(t, "enable", en)
	var er resourcewire.OTPEnableResult
	if err := json.Unmarshal(en.Data, &er); err != nil || len(er.RecoveryCodes) != otp.RecoveryCodes {
		t.Fatalf("enable: %s %v", en.Data, err)
	}
	return app, er.RecoveryCodes, used
}

// TestTOTP: resource.otp.* end to end, and once 2FA is on, every password
// login in every namespace refuses a missing, wrong or replayed code and
// accepts a fresh one or an unused recovery code, once.
func TestTOTP(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clk := &otpClock{t: time.Now()}
			g := withOTPClock(t, clk, mergeEnv(b.Env, looseRates))
			const email = "otp@example.com"
			_, tok := g.RegisterUser(t, email, strongPassword)
			me := g.Client().WithToken(tok)

			otpWantFault(t, "verify before enable", g.CallAs(t, me, "resource.otp.verify", map[string]string{"code": "123456"}), fault.OTPNotEnabled, "resource.otp.not_enabled")
			otpWantFault(t, "disable before enable", g.CallAs(t, me, "resource.otp.disable", map[string]string{"code": "123456"}), fault.OTPNotEnabled, "resource.otp.not_enabled")
			otpWantFault(t, "enable before generate", g.CallAs(t, me, "resource.otp.enable", map[string]string{"code": "123456"}), fault.OTPNotGenerated, "resource.otp.invalid")
			otpWantFault(t, "anonymous generate", g.Call(t, "resource.otp.generate_qrcode", nil), fault.Unauthenticated, "")

			// A second session, opened with the password alone, ends when 2FA goes on.
			other := g.Call(t, "identity.sessions.create", map[string]string{"email": email, "password": strongPassword})
			otpWantOK(t, "second session", other)
			var os identitywire.Session
			_ = json.Unmarshal(other.Data, &os)
			if os.OTP {
				t.Fatal("otp true before enable")
			}

			// Bad codes at enable change nothing.
			qr := g.CallAs(t, me, "resource.otp.generate_qrcode", nil)
			otpWantOK(t, "generate_qrcode", qr)
			var first resourcewire.OTPQRCode
			_ = json.Unmarshal(qr.Data, &first)
			firstKey, err := potp.NewKeyFromURL(first.Data.URL)
			if err != nil {
				t.Fatal(err)
			}
			firstApp := authenticator{t: t, clk: clk, secret: firstKey.Secret()}
			for _, c := range []struct {
				code string
				want fault.Code
				key  string
			}{
				{"12345", fault.OTPMalformed, "resource.otp.invalid"},
				{"ABCDE-FGHIJ-KLMNO-PQRST", fault.OTPMalformed, "resource.otp.invalid"},
				{"", fault.OTPRequired, ""},
				{firstApp.wrong(), fault.OTPInvalid, "resource.otp.invalid"},
			} {
				otpWantFault(t, "enable with "+c.code, g.CallAs(t, me, "resource.otp.enable", map[string]string{"code": c.code}), c.want, c.key)
			}
			if e := g.CallAs(t, me, "resource.otp.verify", map[string]string{"code": firstApp.code()}); e.Error.Code != int(fault.OTPNotEnabled) {
				t.Fatalf("a refused enable turned 2FA on: %+v", e.Error)
			}
			app, recovery, replayed := enrolOTP(t, g, clk, tok)
			otpWantFault(t, "the other session after enable", g.CallAs(t, g.Client().WithToken(os.Token), "identity.sessions.delete", nil), fault.SessionInvalid, "")
			otpWantFault(t, "generate while on", g.CallAs(t, me, "resource.otp.generate_qrcode", nil), fault.OTPAlreadyEnabled, "resource.otp.already_enabled")
			otpWantFault(t, "enable twice", g.CallAs(t, me, "resource.otp.enable", map[string]string{"code": app.fresh()}), fault.OTPAlreadyEnabled, "resource.otp.already_enabled")
			clk.step()

			partner := g.Partner(t, "auth")
			logins := []struct {
				name, method     string
				params           func(pw, code string) map[string]string
				missing, invalid string
				partner          bool
			}{
				{"identity.sessions.create", "identity.sessions.create", func(pw, code string) map[string]string {
					return map[string]string{"email": email, "password": pw, "otp_code": code}
				}, "identity.session.missing_otp", "identity.session.invalid_otp", false},
				{"user.auth.login", "user.auth.login", func(pw, code string) map[string]string {
					return map[string]string{"login": email, "password": pw, "otp_code": code}
				}, "", "", false},
				{"auth.getUserByEmailAndPassword", "auth.getUserByEmailAndPassword", func(pw, code string) map[string]string {
					return map[string]string{"email": email, "password": pw, "otpCode": code}
				}, "", "", true},
				{"account.login", "account.login", func(pw, code string) map[string]string {
					return map[string]string{"login": email, "password": pw, "otpCode": code}
				}, "", "", false},
			}
			call := func(partnerCall bool, method string, params any) testkit.Envelope {
				if partnerCall {
					return g.CallAs(t, partner, method, params)
				}
				return g.Call(t, method, params)
			}
			for _, l := range logins {
				t.Run(l.name, func(t *testing.T) {
					// The password comes first: a wrong one answers as ever, code or no code.
					otpWantFault(t, "wrong password, no code", call(l.partner, l.method, l.params("not the password at all", "")), fault.WrongCredentials, "")
					otpWantFault(t, "wrong password, fresh code", call(l.partner, l.method, l.params("not the password at all", app.code())), fault.WrongCredentials, "")
					otpWantFault(t, "no code", call(l.partner, l.method, l.params(strongPassword, "")), fault.OTPRequired, l.missing)
					otpWantFault(t, "wrong code", call(l.partner, l.method, l.params(strongPassword, app.wrong())), fault.OTPInvalid, l.invalid)
					otpWantFault(t, "replayed code", call(l.partner, l.method, l.params(strongPassword, replayed)), fault.OTPInvalid, l.invalid)
					otpWantFault(t, "5-digit code", call(l.partner, l.method, l.params(strongPassword, "12345")), fault.OTPMalformed, l.invalid)
					code := app.code()
					otpWantOK(t, "fresh code", call(l.partner, l.method, l.params(strongPassword, code)))
					otpWantFault(t, "the same code again", call(l.partner, l.method, l.params(strongPassword, code)), fault.OTPInvalid, l.invalid)
					replayed = code
					clk.step()
				})
			}

			t.Run("identity user object shows otp", func(t *testing.T) {
				e := g.Call(t, "identity.sessions.create", identitywire.SessionCreateParams{Email: email, Password: strongPassword, OTPCode: app.fresh()})
				otpWantOK(t, "login", e)
				var s identitywire.Session
				if err := json.Unmarshal(e.Data, &s); err != nil || !s.OTP || s.Token == "" {
					t.Fatalf("user object: %s", e.Data)
				}
			})

			t.Run("recovery code once, in any namespace", func(t *testing.T) {
				rc := strings.ToLower(recovery[0])
				otpWantOK(t, "recovery code", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: strongPassword, OTPCode: rc}))
				otpWantFault(t, "recovery code again", g.Call(t, "user.auth.login", userwire.LoginParams{Login: email, Password: strongPassword, OTPCode: recovery[0]}), fault.OTPInvalid, "")
				otpWantFault(t, "recovery code again", g.Call(t, "identity.sessions.create", identitywire.SessionCreateParams{Email: email, Password: strongPassword, OTPCode: recovery[0]}), fault.OTPInvalid, "identity.session.invalid_otp")
			})

			t.Run("recovery_done asks for the code after the recovery code", func(t *testing.T) {
				var rec userwire.RecoveryResult
				e := g.Call(t, "user.auth.recovery", userwire.RecoveryParams{Login: email})
				otpWantOK(t, "recovery", e)
				_ = json.Unmarshal(e.Data, &rec)
				code := g.Code(t, email)
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				// A wrong recovery code says nothing about 2FA.
				otpWantFault(t, "wrong recovery code", g.Call(t, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: wrong}), fault.CodeInvalid, "")
				otpWantFault(t, "no otp", g.Call(t, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: code}), fault.OTPRequired, "")
				otpWantFault(t, "wrong otp", g.Call(t, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: code, OTPCode: app.wrong()}), fault.OTPInvalid, "")
				// The recovery code was not used up: the same one works with the second factor.
				e = g.Call(t, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: code, OTPCode: app.fresh()})
				var u userwire.Object
				if err := json.Unmarshal(e.Data, &u); e.Error.Status || err != nil || u.Session == nil {
					t.Fatalf("recovery_done with otp: %+v %s", e.Error, e.Data)
				}
			})

			t.Run("batch", func(t *testing.T) {
				code := app.fresh()
				out := g.Batch(t, "",
					testkit.Req("identity.sessions.create", 1, map[string]string{"email": email, "password": strongPassword}),
					testkit.Req("user.auth.login", 2, map[string]string{"login": email, "password": strongPassword, "otp_code": code}),
					testkit.Req("account.login", 3, map[string]string{"login": email, "password": strongPassword, "otpCode": code}),
				)
				otpWantFault(t, "batch: no code", out[0], fault.OTPRequired, "identity.session.missing_otp")
				otpWantOK(t, "batch: fresh code", out[1])
				otpWantFault(t, "batch: the same code in the next call", out[2], fault.OTPInvalid, "")
				v := app.fresh()
				out = g.Batch(t, tok,
					testkit.Req("resource.otp.verify", 1, map[string]string{"code": app.wrong()}),
					testkit.Req("resource.otp.verify", 2, map[string]string{"code": v}),
					testkit.Req("resource.otp.verify", 3, map[string]string{"code": v}),
					testkit.Req("resource.otp.generate_qrcode", 4, nil),
				)
				otpWantFault(t, "batch verify wrong", out[0], fault.OTPInvalid, "resource.otp.invalid")
				otpWantOK(t, "batch verify", out[1])
				otpWantFault(t, "batch verify replayed", out[2], fault.OTPInvalid, "resource.otp.invalid")
				otpWantFault(t, "batch generate while on", out[3], fault.OTPAlreadyEnabled, "resource.otp.already_enabled")
			})

			t.Run("20 parallel verifies of one code: one success", func(t *testing.T) {
				// A user of its own: the refusals count as guesses and back
				// the user off, which would spill into the next steps.
				_, ptok := g.RegisterUser(t, "otp-parallel@example.com", strongPassword)
				papp, _, _ := enrolOTP(t, g, clk, ptok)
				pme := g.Client().WithToken(ptok)
				code := papp.fresh()
				var ok, refused atomic.Int32
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						e := g.CallAs(t, pme, "resource.otp.verify", map[string]string{"code": code})
						switch {
						case !e.Error.Status:
							ok.Add(1)
						case e.Error.Code == int(fault.OTPInvalid), e.Error.Code == int(fault.Throttled):
							refused.Add(1)
						default:
							t.Errorf("parallel verify: %+v", e.Error)
						}
					})
				}
				wg.Wait()
				if ok.Load() != 1 || refused.Load() != 19 {
					t.Fatalf("%d successes, %d refusals; want 1 and 19", ok.Load(), refused.Load())
				}
			})

			t.Run("disable", func(t *testing.T) {
				otpWantFault(t, "disable with a wrong code", g.CallAs(t, me, "resource.otp.disable", map[string]string{"code": app.wrong()}), fault.OTPInvalid, "resource.otp.invalid")
				otpWantOK(t, "disable", g.CallAs(t, me, "resource.otp.disable", map[string]string{"code": app.fresh()}))
				otpWantFault(t, "verify after disable", g.CallAs(t, me, "resource.otp.verify", map[string]string{"code": app.fresh()}), fault.OTPNotEnabled, "resource.otp.not_enabled")
				otpWantOK(t, "login without a code again", g.Call(t, "user.auth.login", userwire.LoginParams{Login: email, Password: strongPassword}))
				e := g.Call(t, "identity.sessions.create", identitywire.SessionCreateParams{Email: email, Password: strongPassword})
				var s identitywire.Session
				if err := json.Unmarshal(e.Data, &s); e.Error.Status || err != nil || s.OTP {
					t.Fatalf("after disable: %+v %s", e.Error, e.Data)
				}
				otpWantFault(t, "an old recovery code after disable", g.CallAs(t, me, "resource.otp.verify", map[string]string{"code": recovery[1]}), fault.OTPNotEnabled, "")
			})
		})
	}
}

// TestTOTPGuessThrottle: wrong codes after a correct password back the user
// off like wrong passwords (1003 with retryAfter), in every namespace at
// once, and then even the right code waits.
func TestTOTPGuessThrottle(t *testing.T) {
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, looseRates)
	const email = "guess@example.com"
	_, tok := g.RegisterUser(t, email, strongPassword)
	app, _, _ := enrolOTP(t, g, clk, tok)
	clk.step()
	wrong := app.wrong()
	// Five free failures, spread over three namespaces: one counter.
	for i, method := range []string{"user.auth.login", "account.login", "user.auth.login", "identity.sessions.create", "account.login"} {
		var p map[string]string
		switch method {
		case "identity.sessions.create":
			p = map[string]string{"email": email, "password": strongPassword, "otp_code": wrong}
		case "user.auth.login":
			p = map[string]string{"login": email, "password": strongPassword, "otp_code": wrong}
		default:
			p = map[string]string{"login": email, "password": strongPassword, "otpCode": wrong}
		}
		otpWantFault(t, fmt.Sprintf("wrong code %d (%s)", i+1, method), g.Call(t, method, p), fault.OTPInvalid, "")
	}
	e := g.Call(t, "user.auth.login", map[string]string{"login": email, "password": strongPassword, "otp_code": wrong})
	if e.Error.Code != int(fault.Throttled) || e.Error.RetryAfter <= 0 {
		t.Fatalf("sixth wrong code: %+v, want 1003 with retryAfter", e.Error)
	}
	e = g.CallAs(t, g.Client().WithToken(tok), "resource.otp.verify", map[string]string{"code": app.code()})
	if e.Error.Code != int(fault.Throttled) {
		t.Fatalf("right code while backed off: %+v, want 1003", e.Error)
	}
}

// TestTOTPTwoGateways: two gateways on one PostgreSQL and one Redis, one
// code posted to both at once 10 times each: one acceptance in all.
func TestTOTPTwoGateways(t *testing.T) {
	bs := testkit.Backends(t)
	if len(bs) < 2 {
		t.Skip("needs PostgreSQL and Redis (PARTNERGATE_TEST_DATABASE_URL, PARTNERGATE_TEST_REDIS_URL): SKIPPED")
	}
	env := mergeEnv(bs[1].Env, looseRates)
	clk := &otpClock{t: time.Now()}
	g1, g2 := withOTPClock(t, clk, env), withOTPClock(t, clk, env)
	_, tok := g1.RegisterUser(t, "two@example.com", strongPassword)
	app, _, _ := enrolOTP(t, g2, clk, tok)
	code := app.fresh()
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		g := g1
		if i%2 == 1 {
			g = g2
		}
		wg.Go(func() {
			e := g.Call(t, "user.auth.login", userwire.LoginParams{Login: "two@example.com", Password: strongPassword, OTPCode: code})
			switch {
			case !e.Error.Status:
				ok.Add(1)
			case e.Error.Code != int(fault.OTPInvalid) && e.Error.Code != int(fault.Throttled):
				t.Errorf("login: %+v", e.Error)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d logins with one code over two gateways, want 1", ok.Load())
	}
}
