package main

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"partnergate/client"
	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/auth/authwire"
	"partnergate/methods/identity/identitywire"
)

var barongUserMembers = []string{"uid", "email", "role", "level", "otp", "state", "referral_uid", "data", "created_at", "updated_at"}

func TestSeed002Identity(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			ctx := context.Background()
			anon := g.Client()

			created := g.Call(t, "identity.users.create", map[string]string{
				"email": "Bea@Example.com", "password": strongPassword, "lang": "en", "data": `{"country":"NL","age":30}`,
			})
			if created.Error.Status {
				t.Fatalf("users.create: %+v", created.Error)
			}
			var nu identitywire.User
			if err := json.Unmarshal(created.Data, &nu); err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^ID[0-9A-F]{10}$`).MatchString(nu.UID) || nu.State != "pending" || nu.Level != 0 {
				t.Fatalf("created user %+v", nu)
			}
			if nu.Data != `{"age":30,"country":"NL"}` {
				t.Fatalf("data %q", nu.Data)
			}
			if g.Code(t, "bea@example.com") == "" {
				t.Fatal("no registration code in the outbox")
			}
			// An unverified email gets no session here, as in every dialect.
			if e := g.Call(t, "identity.sessions.create", map[string]string{"email": "bea@example.com", "password": strongPassword}); e.Error.Code != int(fault.EmailNotVerified) || e.Error.Message != "identity.session.not_active" {
				t.Fatalf("unverified login: %+v", e.Error)
			}
			// A user registered and verified through seed 000 logs in here.
			g.RegisterUser(t, "eve@example.com", strongPassword)
			se := g.Call(t, "identity.sessions.create", map[string]string{"email": "EVE@example.com", "password": strongPassword})
			var s identitywire.Session
			if err := json.Unmarshal(se.Data, &s); se.Error.Status || err != nil || s.Token == "" || s.State != "active" || s.Level != 1 || s.Email != "eve@example.com" {
				t.Fatalf("seed 000 user logs in: %+v %s", se.Error, se.Data)
			}

			t.Run("user object has exactly Barong's members", func(t *testing.T) {
				e := g.Call(t, "identity.sessions.create", map[string]string{"email": "eve@example.com", "password": strongPassword})
				if e.Error.Status {
					t.Fatalf("%+v", e.Error)
				}
				var m map[string]json.RawMessage
				if err := json.Unmarshal(e.Data, &m); err != nil {
					t.Fatal(err)
				}
				var got []string
				for k := range m {
					if k != "token" && k != "expires_at" {
						got = append(got, k)
					}
				}
				want := append([]string(nil), barongUserMembers...)
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("members %v, want %v", got, want)
				}
			})

			t.Run("one user base: auth.registerUser logs in here and the other way round", func(t *testing.T) {
				p := g.Partner(t, "auth")
				if _, err := client.Call[authwire.RegisterUserResult](ctx, p, "auth.registerUser", authwire.RegisterUserParams{Email: "cy@example.com", Password: strongPassword}); err != nil {
					t.Fatal(err)
				}
				// The same state rules hold in every dialect: auth.registerUser
				// leaves the email unverified, which user.auth.login refuses too.
				e := g.Call(t, "identity.sessions.create", map[string]string{"email": "cy@example.com", "password": strongPassword})
				u := g.CallAs(t, anon, "user.auth.login", map[string]string{"login": "cy@example.com", "password": strongPassword})
				if e.Error.Code != u.Error.Code {
					t.Fatalf("identity %+v, user %+v", e.Error, u.Error)
				}
				if e.Error.Status && e.Error.Message != "identity.session.not_active" {
					t.Fatalf("message %q", e.Error.Message)
				}
				got, err := client.Call[authwire.GetUserResult](ctx, p, "auth.getUserByEmailAndPassword", authwire.GetUserParams{Email: "bea@example.com", Password: strongPassword})
				if err != nil || !strings.EqualFold(got.User.Email, "bea@example.com") {
					t.Fatalf("%+v %v", got, err)
				}
				if string(got.User.Params["country"]) != `"NL"` {
					t.Fatalf("data not shared as params: %+v", got.User.Params)
				}
			})

			t.Run("uid is the user's own, and refid names a real user", func(t *testing.T) {
				// The uid users.create showed is the one every later answer shows.
				if s.UID == nu.UID || !regexp.MustCompile(`^ID[0-9A-F]{10}$`).MatchString(s.UID) {
					t.Fatalf("uids %q %q", s.UID, nu.UID)
				}
				again := g.Call(t, "identity.sessions.create", map[string]string{"email": "eve@example.com", "password": strongPassword})
				var a identitywire.Session
				if err := json.Unmarshal(again.Data, &a); err != nil || a.UID != s.UID || a.ReferralUID != nil {
					t.Fatalf("uid moved: %s", again.Data)
				}
				ref := g.Call(t, "identity.users.create", map[string]string{"email": "ref@example.com", "password": strongPassword, "refid": s.UID})
				var ru identitywire.User
				if err := json.Unmarshal(ref.Data, &ru); ref.Error.Status || err != nil || ru.ReferralUID == nil || *ru.ReferralUID != s.UID {
					t.Fatalf("referred user: %+v %s", ref.Error, ref.Data)
				}
				// In one batch: a known refid is taken, an unknown one refused.
				rs := g.Batch(t, "",
					testkit.Req("identity.users.create", 1, map[string]string{"email": "ref2@example.com", "password": strongPassword, "refid": ru.UID}),
					testkit.Req("identity.users.create", 2, map[string]string{"email": "ref3@example.com", "password": strongPassword, "refid": "ID0000000000"}))
				if rs[0].Error.Status || rs[1].Error.Code != int(fault.ReferralUnknown) || rs[1].Error.Message != "identity.user.referral_doesnt_exist" {
					t.Fatalf("batch: %+v / %+v", rs[0].Error, rs[1].Error)
				}
			})

			t.Run("wrong password and unknown email answer alike with Barong's key", func(t *testing.T) {
				wrong := g.Call(t, "identity.sessions.create", map[string]string{"email": "bea@example.com", "password": "not the password at all"})
				unknown := g.Call(t, "identity.sessions.create", map[string]string{"email": "nobody@example.com", "password": "not the password at all"})
				for _, e := range []testkit.Envelope{wrong, unknown} {
					if e.Error.Code != int(fault.WrongCredentials) || e.Error.Message != "identity.session.invalid_params" {
						t.Fatalf("%+v", e.Error)
					}
				}
			})

			t.Run("users.create refusals", func(t *testing.T) {
				for _, c := range []struct {
					name   string
					params map[string]string
					code   fault.Code
					msg    string
				}{
					{"taken", map[string]string{"email": "BEA@example.com", "password": strongPassword}, fault.AlreadyExists, "email.taken"},
					{"weak", map[string]string{"email": "dee@example.com", "password": "password1"}, fault.PasswordWeak, "password.weak"},
					{"bad refid", map[string]string{"email": "dee@example.com", "password": strongPassword, "refid": "XY123"}, fault.Invalid, "identity.user.invalid_referral_format"},
					{"unknown refid", map[string]string{"email": "dee@example.com", "password": strongPassword, "refid": "ID0123456789"}, fault.ReferralUnknown, "identity.user.referral_doesnt_exist"},
					{"data not an object", map[string]string{"email": "dee@example.com", "password": strongPassword, "data": `[1]`}, fault.Invalid, ""},
					{"data nested", map[string]string{"email": "dee@example.com", "password": strongPassword, "data": `{"a":{"b":1}}`}, fault.Invalid, ""},
					{"bad lang", map[string]string{"email": "dee@example.com", "password": strongPassword, "lang": "EN"}, fault.Invalid, ""},
				} {
					e := g.Call(t, "identity.users.create", c.params)
					if e.Error.Code != int(c.code) || (c.msg != "" && e.Error.Message != c.msg) {
						t.Errorf("%s: %+v", c.name, e.Error)
					}
				}
				// None of the refusals created dee.
				e := g.Call(t, "identity.sessions.create", map[string]string{"email": "dee@example.com", "password": strongPassword})
				if e.Error.Code != int(fault.WrongCredentials) {
					t.Fatalf("a refused registration created the user: %+v", e.Error)
				}
			})

			t.Run("sessions.delete ends the session", func(t *testing.T) {
				c := anon.WithToken(s.Token)
				if e := g.CallAs(t, c, "identity.sessions.delete", nil); e.Error.Status {
					t.Fatalf("%+v", e.Error)
				}
				if e := g.CallAs(t, c, "identity.sessions.delete", nil); e.Error.Code != int(fault.SessionInvalid) {
					t.Fatalf("second delete: %+v", e.Error)
				}
			})

			t.Run("ping, time, version, configs, password.validate", func(t *testing.T) {
				if e := g.Call(t, "identity.ping", nil); string(e.Data) != `{"ping":"pong"}` {
					t.Fatalf("ping %s", e.Data)
				}
				var tm identitywire.TimeResult
				if e := g.Call(t, "identity.time", nil); json.Unmarshal(e.Data, &tm) != nil || tm.Time < 1e9 {
					t.Fatalf("time %s", e.Data)
				}
				if e := g.Call(t, "identity.version", nil); e.Error.Status {
					t.Fatalf("version %+v", e.Error)
				}
				var cf identitywire.ConfigsResult
				if e := g.Call(t, "identity.configs", nil); json.Unmarshal(e.Data, &cf) != nil || cf.SessionExpiresIn <= 0 || cf.CaptchaType != "none" {
					t.Fatalf("configs %s", e.Data)
				}
				for pw, want := range map[string]bool{strongPassword: true, "password1": false, "short": false} {
					var v identitywire.PasswordValidateResult
					e := g.Call(t, "identity.password.validate", map[string]string{"password": pw})
					if json.Unmarshal(e.Data, &v) != nil || v.Accepted != want {
						t.Errorf("%q: %s", pw, e.Data)
					}
				}
			})
		})
	}
}
