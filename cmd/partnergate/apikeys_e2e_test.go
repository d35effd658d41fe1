package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"partnergate/core/fault"
	"partnergate/core/otp"
	"partnergate/internal/testkit"
	"partnergate/methods/resource/resourcewire"
)

// next is the code of the step after the clock's: accepted after code(),
// since each step, and every earlier one, is taken once.
func (a authenticator) next() string {
	a.t.Helper()
	c, err := totp.GenerateCode(a.secret, a.clk.Now().Add(otp.Period*time.Second))
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

func TestSeed002APIKeys(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_API_KEYS_MAX_PER_USER": "2"}
			for k, v := range looseRates {
				env[k] = v
			}
			for k, v := range b.Env {
				env[k] = v
			}
			clk := &otpClock{t: time.Now()}
			g := withOTPClock(t, clk, env)
			aliceID, alice := newVerifiedUser(t, g, "keys-alice@example.com", strongPassword)
			as := g.Client().WithToken(alice)
			call := func(method string, p any) testkit.Envelope { t.Helper(); return g.CallAs(t, as, method, p) }

			otpWantFault(t, "create without 2FA", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": "123456"}),
				fault.OTPNotEnabled, "resource.api_key.2fa_disabled")
			otpWantFault(t, "list without 2FA", call("resource.api_keys.list", map[string]string{"totp_code": "123456"}),
				fault.OTPNotEnabled, "resource.api_key.2fa_disabled")

			app, _, _ := enrolOTP(t, g, clk, alice)
			otpWantFault(t, "no code", call("resource.api_keys.create", map[string]string{"algorithm": "HS256"}),
				fault.OTPRequired, "resource.api_key.missing_otp")
			otpWantFault(t, "wrong code", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": app.wrong()}),
				fault.OTPInvalid, "resource.api_key.invalid_otp")
			otpWantFault(t, "5-digit code", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": "12345"}),
				fault.OTPMalformed, "resource.api_key.invalid_otp")
			code := app.fresh()
			// Bad input is refused before the code is checked, so it spends nothing.
			otpWantFault(t, "HS1", call("resource.api_keys.create", map[string]string{"algorithm": "HS1", "totp_code": code}),
				fault.Invalid, "resource.api_key.invalid_algorithm")
			otpWantFault(t, "bad scope", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "scope": "resource,Bad Scope", "totp_code": code}),
				fault.Invalid, "resource.api_key.invalid_scope")

			e := call("resource.api_keys.create", map[string]string{"algorithm": "HS512", "scope": "resource.documents, resource.data_storage", "totp_code": code})
			otpWantOK(t, "create", e)
			var k resourcewire.APIKey
			if err := json.Unmarshal(e.Data, &k); err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(k.Kid) || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(k.Secret) ||
				k.Algorithm != "HS512" || k.State != "active" || strings.Join(k.Scope, ",") != "resource.documents,resource.data_storage" {
				t.Fatalf("created %+v", k)
			}
			otpWantFault(t, "code replayed", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": code}),
				fault.OTPInvalid, "resource.api_key.invalid_otp")

			t.Run("secret sealed, shown once, never logged", func(t *testing.T) {
				st, err := g.Store().APIKey(context.Background(), k.Kid)
				if err != nil || st.UserID != aliceID || strings.Contains(st.SecretSealed, k.Secret) || st.SecretSealed == "" {
					t.Fatalf("stored %+v %v", st, err)
				}
				l := call("resource.api_keys.list", map[string]string{"totp_code": app.fresh()})
				otpWantOK(t, "list", l)
				if strings.Contains(string(l.Data), k.Secret) || strings.Contains(string(l.Data), `"secret"`) {
					t.Fatalf("list shows the secret: %s", l.Data)
				}
				var ks []resourcewire.APIKey
				if err := json.Unmarshal(l.Data, &ks); err != nil || len(ks) != 1 || ks[0].Kid != k.Kid {
					t.Fatalf("list %s", l.Data)
				}
				if strings.Contains(g.Logs.String(), k.Secret) {
					t.Fatal("the secret is in the log")
				}
			})
			t.Run("update, cap, delete in a batch", func(t *testing.T) {
				c1 := app.fresh()
				c2 := app.next()
				es := g.Batch(t, alice,
					testkit.Req("resource.api_keys.update", 1, map[string]string{"kid": k.Kid, "state": "disabled", "scope": "resource", "totp_code": c1}),
					testkit.Req("resource.api_keys.update", 2, map[string]string{"kid": k.Kid, "state": "revoked", "totp_code": c2}),
					testkit.Req("resource.api_keys.create", 3, map[string]string{"algorithm": "HS256", "totp_code": c2}),
				)
				var up resourcewire.APIKey
				if err := json.Unmarshal(es[0].Data, &up); es[0].Error.Status || err != nil || up.State != "disabled" || strings.Join(up.Scope, ",") != "resource" || up.Secret != "" {
					t.Fatalf("update: %+v %s", es[0].Error, es[0].Data)
				}
				otpWantFault(t, "bad state", es[1], fault.Invalid, "resource.api_key.invalid_state")
				otpWantOK(t, "second key", es[2])
				clk.step() // c2's step is used: the next fresh code is the one after it
				otpWantFault(t, "third key over a cap of 2", call("resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": app.fresh()}),
					fault.APIKeyLimitReached, "resource.api_key.limit_reached")
				otpWantFault(t, "unknown kid", call("resource.api_keys.delete", map[string]string{"kid": "0123456789abcdef", "totp_code": app.fresh()}),
					fault.NotFound, "record.not_found")
				otpWantOK(t, "delete", call("resource.api_keys.delete", map[string]string{"kid": k.Kid, "totp_code": app.fresh()}))
				if _, err := g.Store().APIKey(context.Background(), k.Kid); err == nil {
					t.Fatal("deleted key still stored")
				}
			})
			t.Run("another user's key is not found", func(t *testing.T) {
				_, bob := newVerifiedUser(t, g, "keys-bob@example.com", strongPassword)
				bapp, _, _ := enrolOTP(t, g, clk, bob)
				ks, _, err := g.Store().UserAPIKeys(context.Background(), aliceID, 10, 0)
				if err != nil || len(ks) != 1 {
					t.Fatalf("%v %v", ks, err)
				}
				e := g.CallAs(t, g.Client().WithToken(bob), "resource.api_keys.delete", map[string]string{"kid": ks[0].KID, "totp_code": bapp.fresh()})
				otpWantFault(t, "bob deletes alice's key", e, fault.NotFound, "record.not_found")
			})
		})
	}
}
