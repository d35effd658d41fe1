package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/account/accountwire"
)

func accountLogin(t *testing.T, g *testkit.Gateway, login, password string) accountwire.Tokens {
	t.Helper()
	env := g.Call(t, "account.login", accountwire.LoginParams{Login: login, Password: password})
	var tk accountwire.Tokens
	if err := json.Unmarshal(env.Data, &tk); err != nil || env.Error.Status || tk.WaviotJWT == "" || tk.RT == "" || tk.SessID == "" || tk.SC == "" {
		t.Fatalf("account.login: %s %+v", env.Data, env.Error)
	}
	return tk
}

func wantEnvCode(t *testing.T, what string, env testkit.Envelope, code fault.Code) {
	t.Helper()
	if !env.Error.Status || env.Error.Code != int(code) {
		t.Fatalf("%s: %s %+v, want code %d", what, env.Data, env.Error, code)
	}
}

// TestSeed004Tokens: a user registered through seed 000 logs in with
// account.login; its JWT verifies against the JWKS document with an
// independent verifier and works as a Bearer on another namespace; refresh
// rotates, reuse kills the family and its JWTs, logout ends a session.
func TestSeed004Tokens(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "iot@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)

			// An independent verifier, from the JWKS document alone.
			resp, err := http.Get(g.URL + "/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
				t.Fatalf("jwks: %s %v", body, err)
			}
			parsed, err := jwt.ParseSigned(tk.WaviotJWT, []jose.SignatureAlgorithm{jose.EdDSA})
			if err != nil {
				t.Fatal(err)
			}
			keys := set.Key(parsed.Headers[0].KeyID)
			var claims struct {
				jwt.Claims
				SID string `json:"sid"`
			}
			if len(keys) != 1 || parsed.Claims(keys[0].Key, &claims) != nil || claims.SID != tk.SessID || claims.Subject == "" ||
				claims.Expiry == nil || claims.ID == "" || len(claims.Audience) != 1 || claims.Issuer == "" {
				t.Fatalf("independent verification: %+v", claims)
			}

			// The JWT is a Bearer on seed 000's session methods.
			if r := g.Batch(t, tk.WaviotJWT, testkit.Req("user.auth.check", 1, nil)); r[0].Error.Status {
				t.Fatalf("user.auth.check with the JWT: %+v", r[0].Error)
			}
			// account.whoAmI with the JWT: the seed's members, in its types.
			w := g.Batch(t, tk.WaviotJWT, testkit.Req("account.whoAmI", 1, nil))[0]
			var who map[string]any
			if err := json.Unmarshal(w.Data, &who); err != nil || w.Error.Status || who["headEmail"] != email ||
				who["emailConfirmed"] != "1" || who["phoneConfirmed"] != "0" || who["activity"] != "1" || who["phone"] != nil ||
				who["account_id"] != claims.Subject || len(who) != 16 {
				t.Fatalf("whoAmI: %s %+v", w.Data, w.Error)
			}
			wantEnvCode(t, "whoAmI without a caller", g.Call(t, "account.whoAmI", nil), fault.Unauthenticated)
			// alg none with the same claims is refused.
			none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + strings.Split(tk.WaviotJWT, ".")[1] + "."
			wantEnvCode(t, "alg none", g.Batch(t, none, testkit.Req("user.auth.check", 1, nil))[0], fault.AccessTokenInvalid)

			// Refresh rotates.
			env := g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT})
			var next accountwire.Tokens
			if err := json.Unmarshal(env.Data, &next); err != nil || env.Error.Status || next.RT == tk.RT || next.SessID != tk.SessID {
				t.Fatalf("refresh: %s %+v", env.Data, env.Error)
			}
			wantEnvCode(t, "forged refresh token", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: next.RT[:len(next.RT)-2] + "AA"}), fault.RefreshTokenInvalid)
			wantEnvCode(t, "garbage refresh token", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: "nope"}), fault.RefreshTokenInvalid)
			// The forged one changed nothing: next still works... once we
			// have shown reuse of the first kills the family.
			wantEnvCode(t, "reused refresh token", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT}), fault.RefreshTokenReused)
			wantEnvCode(t, "refresh after reuse", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: next.RT}), fault.RefreshTokenInvalid)
			for _, jwtok := range []string{tk.WaviotJWT, next.WaviotJWT} {
				wantEnvCode(t, "JWT of the ended session", g.Batch(t, jwtok, testkit.Req("user.auth.check", 1, nil))[0], fault.AccessTokenInvalid)
			}

			// Logout ends a session; its refresh token is dead after.
			tk2 := accountLogin(t, g, email, pw)
			if env := g.Call(t, "account.logout", accountwire.LogoutParams{RT: tk2.RT}); env.Error.Status {
				t.Fatalf("logout: %+v", env.Error)
			}
			wantEnvCode(t, "refresh after logout", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk2.RT}), fault.RefreshTokenInvalid)
			wantEnvCode(t, "JWT after logout", g.Batch(t, tk2.WaviotJWT, testkit.Req("user.auth.check", 1, nil))[0], fault.AccessTokenInvalid)

			wantEnvCode(t, "wrong password", g.Call(t, "account.login", accountwire.LoginParams{Login: email, Password: "wrong password!"}), fault.WrongCredentials)

			// Log canary: no JWT, refresh token or its secret part in the log.
			logs := g.Logs.String()
			for _, secret := range []string{tk.WaviotJWT, tk.RT, tk.RT[strings.LastIndexByte(tk.RT, '.')+1:], next.RT, tk2.RT, pw} {
				if strings.Contains(logs, secret) {
					t.Fatalf("the log holds a secret (%d bytes)", len(secret))
				}
			}
		})
	}
}

// TestSeed004RefreshRace: the same refresh token sent 20 times at once
// gives exactly one new pair, and then the family is dead.
func TestSeed004RefreshRace(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "race@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			var mu sync.Mutex
			var wins []accountwire.Tokens
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 20 {
				wg.Go(func() {
					<-start
					env := g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT})
					if !env.Error.Status {
						var p accountwire.Tokens
						_ = json.Unmarshal(env.Data, &p)
						mu.Lock()
						wins = append(wins, p)
						mu.Unlock()
					} else if env.Error.Code != int(fault.RefreshTokenReused) && env.Error.Code != int(fault.RefreshTokenInvalid) {
						t.Errorf("refresh: %+v", env.Error)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(wins) != 1 {
				t.Fatalf("%d refreshes won, want 1", len(wins))
			}
			wantEnvCode(t, "the winner's token after the race", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: wins[0].RT}), fault.RefreshTokenInvalid)
		})
	}
}

// TestSeed004RevocationAcrossGateways: two gateways on one database and one
// Redis; a session ended through one stops its JWT on the other within 5 s
// (the other learns it from its polled in-memory list), and a key rotated
// on the store keeps old JWTs verifying everywhere.
func TestSeed004RevocationAcrossGateways(t *testing.T) {
	var shared *testkit.Backend
	for _, b := range testkit.Backends(t) {
		if b.Name != "embedded" {
			shared = &b
		}
	}
	if shared == nil {
		t.Skip("needs Postgres and Redis shared by two gateways")
	}
	g1 := testkit.MustRunMain(t, testkit.Env(shared.Env))
	g2 := testkit.MustRunMain(t, testkit.Env(shared.Env))
	const email, pw = "two@example.com", "correct horse battery staple"
	g1.RegisterUser(t, email, pw)
	tk := accountLogin(t, g1, email, pw)
	if r := g2.Batch(t, tk.WaviotJWT, testkit.Req("user.auth.check", 1, nil)); r[0].Error.Status {
		t.Fatalf("JWT of g1 on g2: %+v", r[0].Error)
	}
	if _, err := g2.Main.Tokens().Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := g1.Batch(t, tk.WaviotJWT, testkit.Req("user.auth.check", 1, nil)); r[0].Error.Status {
		t.Fatalf("JWT of the retired key: %+v", r[0].Error)
	}
	if env := g1.Call(t, "account.logout", accountwire.LogoutParams{RT: tk.RT}); env.Error.Status {
		t.Fatalf("logout: %+v", env.Error)
	}
	waitRevoked(t, g2, tk.WaviotJWT, "g2, after the logout on g1")
}

// waitRevoked polls g until it refuses jwt as revoked (2301): the
// revocation list reaches a gateway within a poll, and the contract is 5 s.
func waitRevoked(t *testing.T, g *testkit.Gateway, jwt, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := g.Batch(t, jwt, testkit.Req("user.auth.check", 1, nil))
		if r[0].Error.Code == int(fault.AccessTokenInvalid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the JWT is still accepted after 5 s: %+v", what, r[0].Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSeed004DeletionEndsTokenSessions: an account deletion through seed
// 000 (here authorised by the seed 004 JWT itself) ends seed 004's refresh
// families and revokes their JWTs, as it ends opaque sessions: the JWT is
// refused as revoked (2301), not merely as a missing user.
func TestSeed004DeletionEndsTokenSessions(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "delete-iot@example.com", "correct horse battery staple"
			g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			r := g.Batch(t, tk.WaviotJWT, testkit.Req("user.auth.delete", 1, nil))
			if r[0].Error.Status {
				t.Fatalf("user.auth.delete with the JWT: %+v", r[0].Error)
			}
			r = g.Batch(t, tk.WaviotJWT, testkit.Req("user.auth.delete_done", 2, map[string]string{"code": g.Code(t, email)}))
			if r[0].Error.Status {
				t.Fatalf("user.auth.delete_done: %+v", r[0].Error)
			}
			wantEnvCode(t, "refresh after the deletion", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT}), fault.RefreshTokenInvalid)
			waitRevoked(t, g, tk.WaviotJWT, "after the deletion")
		})
	}
}
