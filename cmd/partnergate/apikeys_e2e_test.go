package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"partnergate/core/apikeys"
	"partnergate/core/fault"
	"partnergate/core/otp"
	"partnergate/internal/testkit"
	"partnergate/methods/resource/resourcewire"
	"partnergate/store"
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
			t.Run("activity trail", func(t *testing.T) {
				as, err := g.Store().Activities(context.Background(), store.ActivityFilter{UserID: aliceID, Topic: "api_keys", Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				n := map[string]int{}
				for _, a := range as {
					n[a.Action+"/"+a.Result]++
					if strings.Contains(a.Data, k.Secret) || a.IP == "" {
						t.Fatalf("entry %+v", a)
					}
				}
				// Creates: HS512 and the second key; failed: 2FA off, no code,
				// wrong, 5-digit and replayed codes, and the third key's.
				if n["create/succeed"] != 2 || n["update/succeed"] != 1 || n["delete/succeed"] != 1 || n["create/failed"] < 4 {
					t.Fatalf("trail %v", n)
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

// userKeyHeaders signs one request with a user API key: Barong's
// X-Auth-Apikey, X-Auth-Nonce (ms) and X-Auth-Signature.
func userKeyHeaders(alg, kid, secret string, at time.Time) map[string]string {
	nonce := strconv.FormatInt(at.UnixMilli(), 10)
	return map[string]string{"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": apikeys.Sign(alg, secret, nonce, kid)}
}

// TestSeed002UserKeyCalls: a user API key signs calls as its user, on
// the user's own resource.* methods within its scope only; the nonce is
// checked against the clock and used once; deny by default elsewhere.
func TestSeed002UserKeyCalls(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range looseRates {
				env[k] = v
			}
			for k, v := range b.Env {
				env[k] = v
			}
			clk := &otpClock{t: time.Now()}
			g := withOTPClock(t, clk, env)
			_, alice := newVerifiedUser(t, g, "uk-alice@example.com", strongPassword)
			app, _, _ := enrolOTP(t, g, clk, alice)
			e := g.CallAs(t, g.Client().WithToken(alice), "resource.api_keys.create",
				map[string]string{"algorithm": "HS384", "scope": "resource.documents", "totp_code": app.fresh()})
			otpWantOK(t, "create", e)
			var k resourcewire.APIKey
			if err := json.Unmarshal(e.Data, &k); err != nil {
				t.Fatal(err)
			}
			// Alice has one document; the key sees it.
			otpWantOK(t, "upload", g.CallAs(t, g.Client().WithToken(alice), "resource.documents.create", docParams(pngFile)))
			ctx := context.Background()
			n := 0
			signed := func() apiCaller {
				n++ // a distinct millisecond per request
				return apiCaller{base: g.URL, header: userKeyHeaders("HS384", k.Kid, k.Secret, time.Now().Add(time.Duration(n)*time.Millisecond))}
			}

			r := signed().call(ctx, "resource.documents.list", nil)
			var ds []resourcewire.Document
			if r.Err != nil || r.Proto != nil || r.Env.Error.Status || json.Unmarshal(r.Env.Data, &ds) != nil || len(ds) != 1 {
				t.Fatalf("signed list: %v", r)
			}
			if r := signed().callPath(ctx, "resource.documents.list", nil); r.Env.Error.Status || r.Proto != nil {
				t.Fatalf("signed list, path style: %v", r)
			}
			for _, tc := range []struct {
				method string
				params any
				code   fault.Code
			}{
				{"resource.data_storage.create", map[string]string{"title": "t", "data": "{}"}, fault.Forbidden}, // outside the scope
				{"resource.api_keys.list", map[string]string{"totp_code": "123456"}, fault.Forbidden},            // never by key
				{"resource.otp.disable", map[string]string{"code": "123456"}, fault.Forbidden},
				{"user.settings.get", nil, fault.Forbidden},
				{"files.create", map[string]string{"data": b64(pngFile)}, fault.Forbidden},
				{"identity.ping", nil, 0}, // public
			} {
				r := signed().call(ctx, tc.method, tc.params)
				if r.Err != nil || r.Proto != nil || r.Env.Error.Code != int(tc.code) {
					t.Errorf("%s by key: %v, want %d", tc.method, r, tc.code)
				}
			}

			t.Run("headers refused", func(t *testing.T) {
				replay := signed()
				if r := replay.call(ctx, "resource.documents.list", nil); r.Env.Error.Status {
					t.Fatalf("first use: %v", r)
				}
				stale := apiCaller{base: g.URL, header: userKeyHeaders("HS384", k.Kid, k.Secret, time.Now().Add(-time.Minute))}
				wrong := signed()
				wrong.header["X-Auth-Signature"] = apikeys.Sign("HS384", strings.Repeat("0", 64), wrong.header["X-Auth-Nonce"], k.Kid)
				alg := signed()
				alg.header["X-Auth-Signature"] = apikeys.Sign("HS256", k.Secret, alg.header["X-Auth-Nonce"], k.Kid)
				both := signed().withToken(alice)
				half := signed()
				delete(half.header, "X-Auth-Signature")
				for _, tc := range []struct {
					name string
					c    apiCaller
					code fault.Code
				}{
					{"replayed nonce", replay, fault.NonceReplayed},
					{"stale nonce", stale, fault.TimestampStale},
					{"wrong secret", wrong, fault.APIKeyInvalid},
					{"wrong hash", alg, fault.APIKeyInvalid},
					{"with a bearer too", both, fault.SignatureMalformed},
					{"no signature", half, fault.SignatureMissing},
				} {
					r := tc.c.call(ctx, "resource.documents.list", nil)
					if r.Err != nil || r.Env.Error.Code != int(tc.code) || string(r.Env.Data) != "null" {
						t.Errorf("%s: %v, want %d", tc.name, r, tc.code)
					}
				}
			})
			t.Run("batch under one signature", func(t *testing.T) {
				rs, err := signed().batch(ctx, rpcBody("resource.documents.list", 1, nil),
					rpcBody("resource.data_storage.create", 2, map[string]string{"title": "t", "data": "{}"}))
				if err != nil || len(rs) != 2 || rs[0].Env.Error.Status || rs[1].Env.Error.Code != int(fault.Forbidden) {
					t.Fatalf("batch: %v %v", rs, err)
				}
			})
			t.Run("a disabled key stops", func(t *testing.T) {
				otpWantOK(t, "disable", g.CallAs(t, g.Client().WithToken(alice), "resource.api_keys.update",
					map[string]string{"kid": k.Kid, "state": "disabled", "totp_code": app.fresh()}))
				if r := signed().call(ctx, "resource.documents.list", nil); r.Env.Error.Code != int(fault.APIKeyInvalid) {
					t.Fatalf("disabled key: %v", r)
				}
				if strings.Contains(g.Logs.String(), k.Secret) {
					t.Fatal("the secret is in the log")
				}
			})
		})
	}
}

// userKeyCaller gives the session's user 2FA and an API key without a
// scope (every resource.* method a key may call), and returns a caller
// that signs each request afresh with it, for the access matrix.
func userKeyCaller(t *testing.T, g *testkit.Gateway, token string) func(string) apiCaller {
	t.Helper()
	clk := &otpClock{t: time.Now()}
	app, _, _ := enrolOTP(t, g, clk, token)
	e := g.CallAs(t, g.Client().WithToken(token), "resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": app.next()})
	otpWantOK(t, "matrix key", e)
	var k resourcewire.APIKey
	if err := json.Unmarshal(e.Data, &k); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	last := time.Now()
	return func(string) apiCaller {
		mu.Lock()
		defer mu.Unlock()
		at := time.Now()
		if !at.After(last.Add(time.Millisecond)) {
			at = last.Add(time.Millisecond)
		}
		last = at
		return apiCaller{base: g.URL, header: userKeyHeaders("HS256", k.Kid, k.Secret, at)}
	}
}

// canaryKeysAndFiles is TestLogCanary's part for seed 002's API keys and
// the uploads: a user with 2FA makes a key (its secret, the TOTP codes and
// the signatures are canaries), signs calls with it (one with a wrong
// secret), uploads a file and a document (their base64 may be stored as
// blobs, never logged), and deletes the key.
func canaryKeysAndFiles(t *testing.T, g *testkit.Gateway, cn *canaries) {
	t.Helper()
	ctx := context.Background()
	pw := secretText("Canary-keys-")
	cn.add(pw)
	_, tok := newVerifiedUser(t, g, "canary-keys@example.com", pw)
	cn.add(tok)
	clk := &otpClock{t: time.Now()}
	app, recovery, enabledWith := enrolOTP(t, g, clk, tok)
	cn.add(app.secret)
	cn.add(recovery...)
	code := app.next()
	cn.code(enabledWith, code)
	user := apiCaller{base: g.URL}.withToken(tok)
	r := user.call(ctx, "resource.api_keys.create", map[string]string{"algorithm": "HS256", "totp_code": code})
	var k resourcewire.APIKey
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &k) != nil || k.Secret == "" {
		t.Fatalf("key: %v", r)
	}
	cn.add(k.Secret)
	h := userKeyHeaders("HS256", k.Kid, k.Secret, time.Now())
	cn.add(h["X-Auth-Signature"])
	mustCode(t, apiCaller{base: g.URL, header: h}.call(ctx, "resource.documents.list", nil), 0, "signed by key")
	wrong := secretText("Canary-wrong-key-")
	cn.add(wrong)
	h = userKeyHeaders("HS256", k.Kid, wrong, time.Now().Add(time.Millisecond))
	cn.add(h["X-Auth-Signature"])
	mustCode(t, apiCaller{base: g.URL, header: h}.call(ctx, "resource.documents.list", nil), int(fault.APIKeyInvalid), "wrong key secret")

	marker := secretText("CanaryFile-")
	img := append(append([]byte(nil), pngFile[:16]...), []byte(marker)...)
	cn.logOnly = append(cn.logOnly, b64(img), marker)
	mustCode(t, user.call(ctx, "files.create", map[string]string{"data": b64(img)}), 0, "files.create")
	doc := append(append([]byte(nil), pdfFile[:9]...), []byte(marker)...)
	cn.logOnly = append(cn.logOnly, b64(doc))
	mustCode(t, user.call(ctx, "resource.documents.create", docParams(doc)), 0, "documents.create")
	mustCode(t, user.call(ctx, "resource.data_storage.create", map[string]string{"title": "canary", "data": `{"v":"` + marker + `"}`}), 0, "data_storage.create")
	// The gateway's clock is the real one and the next step's code is
	// spent: a recovery code (accepted once, as a second factor) deletes.
	mustCode(t, user.call(ctx, "resource.api_keys.delete", map[string]string{"kid": k.Kid, "totp_code": recovery[0]}), 0, "delete key")
}
