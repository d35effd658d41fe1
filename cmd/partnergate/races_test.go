package main

// Races (SECURITY.md 8, 9, 23): the same thing asked many times at once,
// over HTTP against a real gateway, on the embedded stores and on Postgres +
// Redis. Each test releases its goroutines together from a barrier so the
// calls overlap as much as the machine allows; the assertions hold for any
// interleaving, so they are exact, never "most of the time".

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/store"

	"partnergate/cmd/partnergate/gateway"
	"partnergate/internal/testkit"
)

// together runs fn(0..n-1) in n goroutines released at once and returns
// the replies in index order.
func together(n int, fn func(i int) gwReply) []gwReply {
	out := make([]gwReply, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = fn(i)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// tally counts replies by code (0 success, -1 no answer).
func tally(rs []gwReply) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.code()]++
	}
	return m
}

// uniq is a per-run suffix for identifiers, so reruns against a shared Redis
// never meet an earlier run's resend holds or counters.
func uniq() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func TestRaces(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, b.Env, looseRates, trustLoopback, map[string]string{"PARTNERGATE_HASH_WAIT": "60s"})
			ctx := context.Background()
			anon := apiCaller{base: g.URL}.withXFF(testIP())
			partner := anon.withPartner(g.Partner(t, "auth"))
			run := uniq()

			t.Run("50 registrations of one email: one user, 49 already exists", func(t *testing.T) {
				email := "race-reg-" + run + "@example.com"
				before, err := g.Store().CountUsers(ctx)
				if err != nil {
					t.Fatal(err)
				}
				rs := together(50, func(i int) gwReply {
					// Both namespaces, the address in varying case: one
					// identifier whatever the spelling.
					e := email
					if i%3 == 1 {
						e = strings.ToUpper(email[:1]) + email[1:]
					}
					if i%2 == 0 {
						return partner.call(ctx, "auth.registerUser", map[string]string{"email": e, "password": strongPassword})
					}
					return anon.call(ctx, "user.auth.registration", map[string]string{"email": e, "password": strongPassword})
				})
				if got := tally(rs); got[0] != 1 || got[int(fault.AlreadyExists)] != 49 {
					t.Fatalf("outcomes by code: %v (want 1 success, 49 × %d)", got, fault.AlreadyExists)
				}
				for _, r := range rs {
					if r.code() == int(fault.AlreadyExists) && (r.Env.Error.Message != fault.AlreadyExists.Message() || string(r.Env.Data) != "null") {
						t.Fatalf("not a clean refusal: %v", r)
					}
				}
				after, err := g.Store().CountUsers(ctx)
				if err != nil || after != before+1 {
					t.Fatalf("users %d → %d (%v)", before, after, err)
				}
				if _, err := g.Store().UserByIdentifier(ctx, store.KindEmail, email); err != nil {
					t.Fatal(err)
				}
			})

			t.Run("20 verifications with one correct code: one success", func(t *testing.T) {
				email := "race-verify-" + run + "@example.com"
				r := anon.call(ctx, "user.auth.registration", map[string]string{"email": email, "password": strongPassword})
				var id string
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
					t.Fatal(r)
				}
				code := outboxCode(t, g, email)
				rs := together(20, func(int) gwReply {
					return anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": code})
				})
				if got := tally(rs); got[0] != 1 || got[int(fault.CodeInvalid)] != 19 {
					t.Fatalf("outcomes by code: %v (want 1 success, 19 × %d)", got, fault.CodeInvalid)
				}
				sessions := 0
				for _, r := range rs {
					var u struct{ Session *struct{ Token string } }
					if r.code() == 0 && json.Unmarshal(r.Env.Data, &u) == nil && u.Session != nil && u.Session.Token != "" {
						sessions++
					}
				}
				if sessions != 1 {
					t.Fatalf("%d sessions handed out", sessions)
				}
			})

			t.Run("10 resends send once", func(t *testing.T) {
				email := "race-resend-" + run + "@example.com"
				// Seed 001 registration sends no code, so no hold is running.
				r := partner.call(ctx, "auth.registerUser", map[string]string{"email": email, "password": strongPassword})
				var reg struct{ UserID string }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &reg) != nil {
					t.Fatal(r)
				}
				rs := together(10, func(int) gwReply {
					return anon.call(ctx, "user.auth.resend", map[string]string{"user_id": reg.UserID, "type": "email"})
				})
				if got := tally(rs); got[0] != 1 || got[int(fault.Throttled)] != 9 {
					t.Fatalf("outcomes by code: %v (want 1 sent, 9 × %d)", got, fault.Throttled)
				}
				for _, r := range rs {
					if r.code() == int(fault.Throttled) && (r.Env.Error.RetryAfter < 1 || r.Env.Error.RetryAfter > 90) {
						t.Fatalf("retryAfter %d", r.Env.Error.RetryAfter)
					}
				}
				if n := outboxCount(t, g, email); n != 1 {
					t.Fatalf("%d messages sent, want 1", n)
				}
			})

			t.Run("100 failed logins count exactly 100", func(t *testing.T) {
				// A gateway on the same stores whose backoff is lifted, so
				// every attempt reaches the password check: the subject is
				// the counter, which must lose no increment however the
				// calls interleave.
				loose := mustRunMainWith(t, func(m *gateway.Main) {
					m.Accounts().Throttle.FreeFailures, m.Accounts().Throttle.IPFreeFailures, m.Accounts().Throttle.HourlyAttempts = 1000, 1000, 1000
				}, b.Env, looseRates, trustLoopback, map[string]string{"PARTNERGATE_HASH_WAIT": "60s"})
				email := "race-login-" + run + "@example.com"
				id := registerPartner(t, apiCaller{base: loose.URL}.withPartner(loose.Partner(t, "auth")), email)
				ip := testIP()
				c := apiCaller{base: loose.URL}.withXFF(ip)
				rs := together(100, func(i int) gwReply {
					return c.call(ctx, "user.auth.login", map[string]string{"login": email, "password": fmt.Sprintf("wrong password %d", i)})
				})
				if got := tally(rs); got[int(fault.WrongCredentials)] != 100 {
					t.Fatalf("outcomes by code: %v (want 100 × %d)", got, fault.WrongCredentials)
				}
				for subject, want := range map[string]int64{"u:" + id: 100, "ip:" + ip: 100} {
					f, err := loose.Accounts().KV.Failures(ctx, subject)
					if err != nil || f.Count != want {
						t.Fatalf("counter %s = %d (%v), want %d", subject, f.Count, err, want)
					}
				}
			})

			t.Run("100 simultaneous failed logins under the default backoff: 5 password checks", func(t *testing.T) {
				// Every attempt reads the counter before any failure lands; a
				// backoff that only read it would let them all through.
				email := "race-backoff-" + run + "@example.com"
				id := registerPartner(t, partner, email)
				c := anon.withXFF(testIP())
				began := time.Now()
				rs := together(100, func(i int) gwReply {
					return c.call(ctx, "user.auth.login", map[string]string{"login": email, "password": fmt.Sprintf("wrong password %d", i)})
				})
				took := time.Since(began)
				got := tally(rs)
				wrong, throttled := got[int(fault.WrongCredentials)], got[int(fault.Throttled)]
				// Five free failures, then one more each time a backoff (1 s,
				// 2 s, 4 s, ...) ran out while the burst was still going.
				allowed := 5 + bits.Len(uint(took/time.Second))
				if wrong+throttled != 100 || wrong < 5 || wrong > allowed {
					t.Fatalf("outcomes by code: %v in %s (want only %d and %d, 5 to %d of the former)",
						got, took.Round(time.Millisecond), fault.WrongCredentials, fault.Throttled, allowed)
				}
				f, err := g.Accounts().KV.Failures(ctx, "u:"+id)
				if err != nil || f.Count < int64(wrong) || f.Count > 100 {
					t.Fatalf("counter %d (%v), with %d wrong-password answers", f.Count, err, wrong)
				}
			})

			t.Run("parallel settings updates lose no field", func(t *testing.T) {
				_, tok := newVerifiedUser(t, g, "race-settings-"+run+"@example.com", strongPassword)
				c := anon.withToken(tok)
				for round := 0; round < 3; round++ {
					want := map[string]any{
						"first_name": fmt.Sprintf("First%d", round), "last_name": fmt.Sprintf("Last%d", round),
						"avatar": fmt.Sprintf("https://example.com/a%d.png", round), "sex": round + 1, "news": round%2 == 0,
						"restriction_1": round != 0, "restriction_2": round != 1, "restriction_3": round != 2,
						"restriction_4": round == 0, "restriction_5": round == 1, "lang": []string{"de", "fr", "ja"}[round],
						"birthday": int64(631152000 + round*86400), "dating.model": fmt.Sprintf("model%d", round),
					}
					keys := make([]string, 0, len(want))
					for k := range want {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					rs := together(len(keys), func(i int) gwReply {
						return c.call(ctx, "user.settings.set", map[string]any{keys[i]: want[keys[i]]})
					})
					if got := tally(rs); got[0] != len(keys) {
						t.Fatalf("round %d: outcomes %v", round, got)
					}
					r := c.call(ctx, "user.settings.get", nil)
					var have map[string]json.RawMessage
					if r.code() != 0 || json.Unmarshal(r.Env.Data, &have) != nil {
						t.Fatal(r)
					}
					for _, k := range keys {
						if w, _ := json.Marshal(want[k]); string(have[k]) != string(w) {
							t.Errorf("round %d: %s = %s, want %s (a concurrent update lost it)", round, k, have[k], w)
						}
					}
				}
			})

			t.Run("20 uses of one TOTP code over five methods: one success", func(t *testing.T) {
				raceTOTP(t, g, anon, partner, run)
			})
		})
	}
}

// registerPartner registers an email with a password through seed 001 (no
// code is sent) and returns the user id.
func registerPartner(t testing.TB, partner apiCaller, email string) string {
	t.Helper()
	r := partner.call(context.Background(), "auth.registerUser", map[string]string{"email": email, "password": strongPassword})
	var reg struct{ UserID string }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &reg) != nil || reg.UserID == "" {
		t.Fatalf("register %s: %v", email, r)
	}
	return reg.UserID
}
