package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/alexedwards/argon2id"

	"partnergate/client"
	"partnergate/methods/auth/authwire"
	"partnergate/store"
)

// Loopback benchmarks: each figure is meant to be read as a ratio against
// its baseline from the same run (go test -bench 'Ping|Login' -count 5).

var benchPing = []byte(`{"jsonrpc":"2.0","method":"system.ping","id":1}`)

func benchPost(b *testing.B, url string, body []byte) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	b.SetParallelism(16) // 2 cores × 16 = 32 connections
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkPingGateway is system.ping through the whole gateway.
func BenchmarkPingGateway(b *testing.B) {
	g := mustRunMain(b, map[string]string{"PARTNERGATE_LOG_LEVEL": "warn", "PARTNERGATE_DEV": "false"})
	benchPost(b, g.URL+"/rpc", benchPing)
}

// BenchmarkPingBare is the limit: a bare net/http handler that decodes and
// encodes the same JSON.
func BenchmarkPingBare(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JSONRPC string          `json:"jsonrpc"`
			Method  string          `json:"method"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
			"result": map[string]any{"data": map[string]bool{"pong": true}, "error": map[string]any{"status": false, "code": 0, "message": ""}}})
	})}
	go srv.Serve(ln)
	defer srv.Close()
	benchPost(b, "http://"+ln.Addr().String()+"/rpc", benchPing)
}

var defaultArgonEnv = map[string]string{
	"PARTNERGATE_ARGON2_MEMORY": "19456", "PARTNERGATE_ARGON2_ITERATIONS": "2",
	"PARTNERGATE_HASH_WAIT": "10s", "PARTNERGATE_LOG_LEVEL": "warn",
	"PARTNERGATE_RATES": "login=1000000/1s/1000000",
}

// BenchmarkLoginGateway is auth.getUserByEmailAndPassword with the default
// argon2id parameters, 32 concurrent callers, one user.
func BenchmarkLoginGateway(b *testing.B) {
	g := mustRunMain(b, defaultArgonEnv)
	c := g.Partner(b, "auth")
	ctx := context.Background()
	if _, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: "bench@example.com", Password: strongPassword}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		cc := client.New(g.URL).WithPartner(c.KID, c.Secret)
		for pb.Next() {
			if _, err := client.Call[authwire.GetUserResult](ctx, cc, "auth.getUserByEmailAndPassword", authwire.GetUserParams{Email: "bench@example.com", Password: strongPassword}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkArgon2idVerify is the limit for logins: raw verifies with the
// same parameters on the same cores.
func BenchmarkArgon2idVerify(b *testing.B) {
	h, err := argon2id.CreateHash(strongPassword, &argon2id.Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := argon2id.ComparePasswordAndHash(strongPassword, h); !ok || err != nil {
				b.Error("verify failed")
				return
			}
		}
	})
}

// BenchmarkSessionCheck is user.auth.check over a bearer session with the
// shipped permission rows (86) and no restriction, then with 1,000
// restrictions loaded (IPs, v4 and v6 subnets, none matching): issue 12's
// row asks the second to run at 0.9 or more of the first.
func BenchmarkSessionCheck(b *testing.B) {
	g := mustRunMain(b, looseRates)
	_, tok := newVerifiedUser(b, g, "bench-check@example.com", strongPassword)
	body := []byte(`{"jsonrpc":"2.0","method":"user.auth.check","id":1}`)
	run := func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		hc := &http.Client{Transport: tr}
		b.SetParallelism(16)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodPost, g.URL+"/rpc", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("rows=86,restrictions=0", run)
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		r := store.Restriction{Category: store.RestrictBlacklist, State: store.RestrictionEnabled}
		switch i % 3 {
		case 0:
			r.Scope, r.Value = store.ScopeIP, fmt.Sprintf("203.0.%d.%d", i/250, i%250+1)
		case 1:
			r.Scope, r.Value = store.ScopeIPSubnet, fmt.Sprintf("10.%d.%d.0/24", i/250, i%250)
		default:
			r.Scope, r.Value = store.ScopeIPSubnet, fmt.Sprintf("2001:db8:%x::/48", i)
		}
		if _, err := g.Store().CreateRestriction(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Policy().Load(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("rows=86,restrictions=1000", run)
}
