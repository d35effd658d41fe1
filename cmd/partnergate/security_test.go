package main

// Attacks from issue 17, each reproduced end to end against a real gateway:
// what was found by a black-box attack stays in the suite as its proof.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/core/partners"
	"partnergate/rpc"
)

// TestPreAccountTakeover (SECURITY.md 10): a squatter registers the
// victim's email with a password of their own and waits; the victim
// recovers the account through the email. The victim's proof must revoke
// everything the squatter set before it: the password (both seeds' logins
// refuse it), the squatter's sessions, and the squatter's own verified
// phone, which would otherwise let them recover the account back.
func TestPreAccountTakeover(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			g := mustRunMain(t, b.env)
			ctx := context.Background()
			anon := apiCaller{base: g.URL}
			partner := anon.withPartner(g.partner(t, "auth"))
			const squatterPW = "squatter's own passphrase 1"

			recoverAs := func(t *testing.T, login string) string {
				t.Helper()
				r := anon.call(ctx, "user.auth.recovery", map[string]string{"login": login})
				var rec struct{ Token string }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
					t.Fatalf("recovery %s: %v", login, r)
				}
				r = anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": outboxCode(t, g, login)})
				var u struct{ Session struct{ Token string } }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil || u.Session.Token == "" {
					t.Fatalf("recovery_done %s: %v", login, r)
				}
				return u.Session.Token
			}

			t.Run("seed 001 squatter", func(t *testing.T) {
				victim := "victim-one@example.com"
				mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": victim, "password": squatterPW}), 0, "squatter registers")
				mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": victim, "password": squatterPW}), 0, "squatter's password before the owner's proof")
				tok := recoverAs(t, victim)
				mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": victim, "password": squatterPW}), int(fault.WrongCredentials), "seed 001 login with the squatter's password")
				mustCode(t, anon.call(ctx, "user.auth.login", map[string]string{"login": victim, "password": squatterPW}), int(fault.WrongCredentials), "seed 000 login with the squatter's password")
				mustCode(t, anon.withToken(tok).call(ctx, "user.auth.check", nil), 0, "the owner's session")
			})

			t.Run("seed 000 squatter with a verified phone", func(t *testing.T) {
				victim, phone := "victim-two@example.com", "+442071838998"
				r := anon.call(ctx, "user.auth.registration", map[string]string{"email": victim, "phone": phone, "password": squatterPW})
				var id string
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
					t.Fatal(r)
				}
				// The squatter owns the phone and proves it; the email stays
				// unverified, so seed 000 gives no session yet.
				mustCode(t, anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "phone_code": outboxCode(t, g, phone)}), int(fault.EmailNotVerified), "squatter verifies the phone")
				tok := recoverAs(t, victim)
				for _, login := range []string{victim, phone} {
					mustCode(t, anon.call(ctx, "user.auth.login", map[string]string{"login": login, "password": squatterPW}), int(fault.WrongCredentials), "seed 000 login by "+login)
				}
				mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": victim, "password": squatterPW}), int(fault.WrongCredentials), "seed 001 login")
				// The phone left the account with the squatter's claim: its
				// recovery is a decoy now, whose code never verifies.
				r = anon.call(ctx, "user.auth.recovery", map[string]string{"login": phone})
				var rec struct{ Token string }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
					t.Fatal(r)
				}
				mustCode(t, anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": outboxCode(t, g, phone)}), int(fault.CodeInvalid), "squatter recovers through the phone")
				r = anon.withToken(tok).call(ctx, "user.auth.check", nil)
				var u struct{ Phone string }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil || u.Phone != "" {
					t.Fatalf("the owner's account after the claim: %v", r)
				}
			})
		})
	}
}

// TestSignatureBindsMethod (SECURITY.md 15): the partner signature covers
// the request path, so a body signed for one path-style method is refused
// when posted to another (where before it was accepted: the body of a login
// check registered a user), and a signature made for the path style does
// not pass on /rpc or the other way round.
func TestSignatureBindsMethod(t *testing.T) {
	g := mustRunMain(t)
	ctx := context.Background()
	p := g.partner(t, "auth")
	sent := func(signedFor, postTo string, body []byte) gwReply {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		nonce := newNonce()
		c := apiCaller{base: g.URL, header: map[string]string{
			"X-Api-Key": p.KID, "X-Api-Timestamp": ts, "X-Api-Nonce": nonce,
			"X-Api-Signature": partners.Sign(p.Secret, ts, nonce, p.KID, signedFor, body),
		}}
		if postTo == "/rpc" {
			return c.rpc(ctx, body)
		}
		status, b, err := c.post(ctx, postTo, body)
		r := gwReply{Status: status, Raw: b, Err: err}
		if err == nil && json.Unmarshal(b, &r.Env) != nil {
			r.Err = fmt.Errorf("HTTP %d: not an envelope: %q", status, b)
		}
		return r
	}
	login := rpc.PathPrefix + "auth.getUserByEmailAndPassword"
	register := rpc.PathPrefix + "auth.registerUser"
	params := []byte(`{"email":"swapped@example.com","password":"a passphrase for swapping"}`)

	mustCode(t, sent(login, login, params), int(fault.WrongCredentials), "signed for the method it is sent to")
	mustCode(t, sent(login, register, params), int(fault.SignatureInvalid), "a login body posted to registerUser")
	// Nothing was registered by the refused call.
	mustCode(t, sent(register, register, params), 0, "signed for registerUser")

	call := rpcBody("auth.getUserByEmailAndPassword", 1, params)
	mustCode(t, sent("/rpc", "/rpc", call), 0, "/rpc signed for /rpc")
	mustCode(t, sent(login, "/rpc", call), int(fault.SignatureInvalid), "/rpc signed for the path style")
	mustCode(t, sent("", "/rpc", call), int(fault.SignatureInvalid), "/rpc signed without a path")
}
