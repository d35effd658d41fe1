package kv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// miniClient carries its miniredis so the suite can move server time along
// with the KV clock; a real server has no such hook and real sleeps are used.
type miniClient struct {
	redis.UniversalClient
	mr *miniredis.Miniredis
}

func (c miniClient) FastForward(d time.Duration) { c.mr.FastForward(d) }

type fastForwarder interface{ FastForward(time.Duration) }

func newMiniClient(t *testing.T) redis.UniversalClient {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return miniClient{UniversalClient: c, mr: mr}
}

func TestMiniredis(t *testing.T) { runSuite(t, newMiniClient) }

func TestRealRedis(t *testing.T) {
	url := os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARTNERGATE_TEST_REDIS_URL must be set in CI")
		}
		t.Skip("real-Redis tests skipped: set PARTNERGATE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run them")
	}
	runSuite(t, func(t *testing.T) redis.UniversalClient {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(PARTNERGATE_TEST_REDIS_URL): %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	})
}

// env is one subtest's world: its own key prefix and a clock that is fake on
// miniredis and real on a real server.
type env struct {
	t      *testing.T
	client redis.UniversalClient
	kv     *KV
	prefix string
	ff     fastForwarder

	mu  sync.Mutex
	now time.Time
}

func newEnv(t *testing.T, newClient func(t *testing.T) redis.UniversalClient) *env {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e := &env{t: t, client: newClient(t), prefix: "pgtest:" + hex.EncodeToString(b) + ":"}
	if ff, ok := e.client.(fastForwarder); ok {
		e.ff = ff
		e.now = time.Now().Truncate(time.Millisecond)
	}
	e.kv = New(e.client, WithPrefix(e.prefix), WithClock(e.clock))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys := e.keys(ctx)
		for _, k := range keys {
			// Whatever a test wrote must expire on its own.
			if d, err := e.client.PTTL(ctx, k).Result(); err == nil && d <= 0 && d != -2*time.Nanosecond {
				t.Errorf("key %q has no TTL (PTTL %v)", k, d)
			}
			_ = e.client.Del(ctx, k).Err()
		}
	})
	return e
}

func (e *env) fake() bool { return e.ff != nil }

func (e *env) clock() time.Time {
	if !e.fake() {
		return time.Now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	if !e.fake() {
		time.Sleep(d)
		return
	}
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
	e.ff.FastForward(d)
}

// keys lists this env's keys, including the limiter's "rate:"-prefixed ones.
func (e *env) keys(ctx context.Context) []string {
	e.t.Helper()
	var out []string
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		for _, pat := range []string{e.prefix + "*", "rate:" + e.prefix + "*"} {
			it := c.Scan(ctx, 0, pat, 100).Iterator()
			for it.Next(ctx) {
				mu.Lock()
				out = append(out, it.Val())
				mu.Unlock()
			}
			if err := it.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	c := e.client
	if m, ok := c.(miniClient); ok {
		c = m.UniversalClient
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		e.t.Fatalf("scan: %v", err)
	}
	return out
}

func (e *env) pttl(key string) time.Duration {
	e.t.Helper()
	d, err := e.client.PTTL(context.Background(), key).Result()
	if err != nil {
		e.t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

func runSuite(t *testing.T, newClient func(t *testing.T) redis.UniversalClient) {
	ctx := context.Background()

	t.Run("session lifecycle", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		s := store.Session{TokenHash: "h1", UserID: "u1", IP: "192.0.2.1", UserAgent: `ua "quoted" \ {"exp":1}`,
			ExpiresAt: now.Add(time.Hour)}
		if err := e.kv.CreateSession(ctx, s, 10*time.Minute); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := e.kv.Session(ctx, "h1", 10*time.Minute)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if got.TokenHash != "h1" || got.UserID != "u1" || got.IP != s.IP || got.UserAgent != s.UserAgent ||
			!got.ExpiresAt.Equal(s.ExpiresAt.Truncate(time.Millisecond)) ||
			got.Created.Before(now.Truncate(time.Millisecond)) || got.Created.After(now.Add(time.Second)) ||
			!got.LastSeen.Equal(got.Created) {
			t.Fatalf("Session = %+v, want fields of %+v", got, s)
		}
		if d := e.pttl(e.kv.sessionKey("h1")); d <= 0 || d > 10*time.Minute {
			t.Fatalf("session PTTL = %v, want (0, 10m]", d)
		}
		if err := e.kv.CreateSession(ctx, s, time.Minute); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("duplicate CreateSession = %v, want ErrAlreadyExists", err)
		}
		if err := e.kv.DeleteSession(ctx, "h1"); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		if _, err := e.kv.Session(ctx, "h1", time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Session after delete = %v, want ErrNotFound", err)
		}
		if err := e.kv.DeleteSession(ctx, "h1"); err != nil {
			t.Fatalf("second DeleteSession = %v, want nil", err)
		}

		bad := []struct {
			name string
			s    store.Session
			idle time.Duration
		}{
			{"no hash", store.Session{UserID: "u", ExpiresAt: now.Add(time.Hour)}, time.Minute},
			{"no user", store.Session{TokenHash: "x", ExpiresAt: now.Add(time.Hour)}, time.Minute},
			{"no idle", store.Session{TokenHash: "x", UserID: "u", ExpiresAt: now.Add(time.Hour)}, 0},
			{"expired", store.Session{TokenHash: "x", UserID: "u", ExpiresAt: now.Add(-time.Second)}, time.Minute},
			{"no expiry", store.Session{TokenHash: "x", UserID: "u"}, time.Minute},
		}
		for _, tc := range bad {
			if err := e.kv.CreateSession(ctx, tc.s, tc.idle); err == nil {
				t.Errorf("%s: CreateSession succeeded", tc.name)
			}
		}
	})

	t.Run("session sliding and absolute limit", func(t *testing.T) {
		e := newEnv(t, newClient)
		// Real Redis needs real time: u=100ms keeps the total sleep at 800ms.
		u := 100 * time.Millisecond
		if e.fake() {
			u = 10 * time.Minute
		}
		idle := 3 * u
		slack := 25 * time.Millisecond
		if e.fake() {
			slack = 0
		}
		start := e.clock()
		exp := start.Add(7 * u).Truncate(time.Millisecond)
		for _, h := range []string{"a", "b"} {
			if err := e.kv.CreateSession(ctx, store.Session{TokenHash: h, UserID: "u", ExpiresAt: exp}, idle); err != nil {
				t.Fatalf("CreateSession %s: %v", h, err)
			}
		}
		get := func(step string, h string, wantOK bool) store.Session {
			t.Helper()
			s, err := e.kv.Session(ctx, h, idle)
			if wantOK && err != nil {
				t.Fatalf("%s: Session(%s) = %v, want it alive", step, h, err)
			}
			if !wantOK && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: Session(%s) = %+v, %v, want ErrNotFound", step, h, s, err)
			}
			if wantOK {
				before := e.clock()
				d := e.pttl(e.kv.sessionKey(h))
				if d <= 0 || d > idle {
					t.Fatalf("%s: PTTL = %v, want (0, %v]", step, d, idle)
				}
				// Redis counts the TTL from when it runs the script, so on a
				// real server the key may outlive ExpiresAt by the request
				// latency; the script itself refuses it after ExpiresAt.
				if before.Add(d).After(exp.Add(slack)) {
					t.Fatalf("%s: PTTL %v runs past the absolute expiry", step, d)
				}
			}
			return s
		}

		e.advance(2 * u)
		s := get("t=2u", "a", true)
		if e.fake() {
			if !s.LastSeen.Equal(start.Add(2 * u)) {
				t.Fatalf("LastSeen = %v, want %v", s.LastSeen, start.Add(2*u))
			}
			e.advance(30 * time.Second)
			if s := get("t=2u+30s", "a", true); !s.LastSeen.Equal(start.Add(2 * u)) {
				t.Fatalf("LastSeen rewritten within a minute: %v", s.LastSeen)
			}
			e.advance(2*u - 30*time.Second)
		} else {
			e.advance(2 * u)
		}
		get("t=4u", "a", true)
		get("t=4u", "b", false) // idle since creation
		e.advance(2 * u)
		get("t=6u", "a", true)
		if d := e.pttl(e.kv.sessionKey("a")); d > u {
			t.Fatalf("slide at t=6u set PTTL %v, past the absolute limit", d)
		}
		if e.fake() {
			// Move only the KV clock past ExpiresAt: the key is still in Redis,
			// yet the script must refuse it and drop it.
			e.mu.Lock()
			e.now = e.now.Add(u + time.Millisecond)
			e.mu.Unlock()
			get("t=7u+1ms, Redis TTL lagging", "a", false)
			if n, _ := e.client.Exists(ctx, e.kv.sessionKey("a")).Result(); n != 0 {
				t.Fatal("session past ExpiresAt left in Redis")
			}
			return
		}
		e.advance(2 * u) // well within idle of the last use, past ExpiresAt
		get("t=8u", "a", false)
	})

	t.Run("user sessions", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		mk := func(h, user string, i int) {
			t.Helper()
			s := store.Session{TokenHash: h, UserID: user, Created: now.Add(time.Duration(i) * time.Second),
				ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Minute)}
			if err := e.kv.CreateSession(ctx, s, 30*time.Minute); err != nil {
				t.Fatalf("CreateSession %s: %v", h, err)
			}
		}
		mk("s3", "u1", 3)
		mk("s1", "u1", 1)
		mk("s2", "u1", 2)
		mk("s4", "u1", 4)
		mk("o1", "u2", 1)
		hashes := func(user string) string {
			t.Helper()
			ss, err := e.kv.UserSessions(ctx, user)
			if err != nil {
				t.Fatalf("UserSessions(%s): %v", user, err)
			}
			var hs []string
			for _, s := range ss {
				hs = append(hs, s.TokenHash)
			}
			return strings.Join(hs, ",")
		}
		if got := hashes("u1"); got != "s1,s2,s3,s4" {
			t.Fatalf("UserSessions = %s", got)
		}
		idx := e.kv.userSessionsKey("u1")
		if d := e.pttl(idx); d <= time.Hour || d > time.Hour+4*time.Minute {
			t.Fatalf("index PTTL = %v, want the latest absolute expiry", d)
		}
		if err := e.kv.DeleteSession(ctx, "s2"); err != nil {
			t.Fatal(err)
		}
		if err := e.client.Del(ctx, e.kv.sessionKey("s3")).Err(); err != nil { // expired behind the index's back
			t.Fatal(err)
		}
		if got := hashes("u1"); got != "s1,s4" {
			t.Fatalf("UserSessions after delete = %s", got)
		}
		if n, _ := e.client.ZCard(ctx, idx).Result(); n != 2 {
			t.Fatalf("index holds %d entries, want dangling ones pruned to 2", n)
		}
		mk("s5", "u1", 5)
		n, err := e.kv.DeleteUserSessions(ctx, "u1", "s4")
		if err != nil || n != 2 {
			t.Fatalf("DeleteUserSessions = %d, %v, want 2", n, err)
		}
		if got := hashes("u1"); got != "s4" {
			t.Fatalf("UserSessions after revoke = %s", got)
		}
		if _, err := e.kv.Session(ctx, "s1", time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked session still readable: %v", err)
		}
		if n, err := e.kv.DeleteUserSessions(ctx, "u1", ""); err != nil || n != 1 {
			t.Fatalf("DeleteUserSessions all = %d, %v, want 1", n, err)
		}
		if got := hashes("u1"); got != "" {
			t.Fatalf("UserSessions after revoking all = %s", got)
		}
		if got := hashes("u2"); got != "o1" {
			t.Fatalf("other user's sessions = %s", got)
		}
		if n, err := e.kv.DeleteUserSessions(ctx, "nobody", ""); err != nil || n != 0 {
			t.Fatalf("DeleteUserSessions(nobody) = %d, %v", n, err)
		}
	})

	t.Run("nonce", func(t *testing.T) {
		e := newEnv(t, newClient)
		steps := []struct {
			kid, nonce string
			want       bool
		}{
			{"k1", "n1", true},
			{"k1", "n1", false},
			{"k2", "n1", true},
			{"k1:n", "1", true},
			{"k1", "n2", true},
		}
		for _, s := range steps {
			got, err := e.kv.UseNonce(ctx, s.kid, s.nonce, time.Minute)
			if err != nil || got != s.want {
				t.Fatalf("UseNonce(%s, %s) = %v, %v, want %v", s.kid, s.nonce, got, err, s.want)
			}
		}
		var fresh atomic.Int32
		parallel(t, 20, func() error {
			ok, err := e.kv.UseNonce(ctx, "k1", "race", time.Minute)
			if ok {
				fresh.Add(1)
			}
			return err
		})
		if fresh.Load() != 1 {
			t.Fatalf("%d of 20 parallel UseNonce were fresh, want 1", fresh.Load())
		}
		if e.fake() {
			e.advance(time.Minute + time.Millisecond)
			if ok, _ := e.kv.UseNonce(ctx, "k1", "n1", time.Minute); !ok {
				t.Fatal("nonce not fresh again after its TTL")
			}
		}
	})

	t.Run("failures", func(t *testing.T) {
		e := newEnv(t, newClient)
		if f, err := e.kv.Failures(ctx, "acct:a"); err != nil || f.Count != 0 || !f.Last.IsZero() {
			t.Fatalf("Failures(none) = %+v, %v", f, err)
		}
		parallel(t, 100, func() error {
			_, err := e.kv.AddFailure(ctx, "acct:a", time.Minute)
			return err
		})
		f, err := e.kv.Failures(ctx, "acct:a")
		if err != nil || f.Count != 100 {
			t.Fatalf("after 100 parallel AddFailure: %+v, %v", f, err)
		}
		if e.fake() && !f.Last.Equal(e.clock()) {
			t.Fatalf("Last = %v, want %v", f.Last, e.clock())
		}
		if d := e.pttl(e.kv.failuresKey("acct:a")); d <= 0 || d > time.Minute {
			t.Fatalf("failures PTTL = %v", d)
		}
		if f, err := e.kv.AddFailure(ctx, "ip:192.0.2.1", time.Minute); err != nil || f.Count != 1 {
			t.Fatalf("AddFailure(ip) = %+v, %v", f, err)
		}
		if err := e.kv.ResetFailures(ctx, "acct:a"); err != nil {
			t.Fatal(err)
		}
		if f, _ := e.kv.Failures(ctx, "acct:a"); f.Count != 0 {
			t.Fatalf("after reset: %+v", f)
		}
		if e.fake() {
			e.advance(50 * time.Second)
			_, _ = e.kv.AddFailure(ctx, "ip:192.0.2.1", time.Minute) // restarts the window
			e.advance(50 * time.Second)
			if f, _ := e.kv.Failures(ctx, "ip:192.0.2.1"); f.Count != 2 {
				t.Fatalf("window did not restart on failure: %+v", f)
			}
			e.advance(11 * time.Second)
			if f, _ := e.kv.Failures(ctx, "ip:192.0.2.1"); f.Count != 0 {
				t.Fatalf("counter outlived its window: %+v", f)
			}
		}
	})

	t.Run("incr", func(t *testing.T) {
		e := newEnv(t, newClient)
		for want := int64(1); want <= 3; want++ {
			if n, err := e.kv.Incr(ctx, "cap:x", time.Hour); err != nil || n != want {
				t.Fatalf("Incr = %d, %v, want %d", n, err, want)
			}
		}
		if d := e.pttl(e.kv.prefix + "cnt:cap:x"); d <= 0 || d > time.Hour {
			t.Fatalf("counter PTTL = %v", d)
		}
		parallel(t, 50, func() error { _, err := e.kv.Incr(ctx, "cap:y", time.Hour); return err })
		if n, _ := e.kv.Incr(ctx, "cap:y", time.Hour); n != 51 {
			t.Fatalf("after 50 parallel Incr the next is %d, want 51", n)
		}
		if e.fake() {
			e.advance(40 * time.Minute)
			if n, _ := e.kv.Incr(ctx, "cap:x", time.Hour); n != 4 {
				t.Fatalf("Incr within window = %d, want 4", n)
			}
			e.advance(20*time.Minute + time.Millisecond) // the window is not extended
			if n, _ := e.kv.Incr(ctx, "cap:x", time.Hour); n != 1 {
				t.Fatalf("Incr in a new window = %d, want 1", n)
			}
		}
	})

	t.Run("allow", func(t *testing.T) {
		e := newEnv(t, newClient)
		for i := range 3 {
			ok, retry, err := e.kv.Allow(ctx, "login:ip", 1, time.Minute, 3)
			if err != nil || !ok || retry != 0 {
				t.Fatalf("call %d: Allow = %v, %v, %v, want allowed", i, ok, retry, err)
			}
		}
		ok, retry, err := e.kv.Allow(ctx, "login:ip", 1, time.Minute, 3)
		if err != nil || ok || retry <= 0 || retry > time.Minute {
			t.Fatalf("after burst: Allow = %v, %v, %v, want refused with 0 < retryAfter <= 1m", ok, retry, err)
		}
		if ok, _, _ := e.kv.Allow(ctx, "login:other", 1, time.Minute, 3); !ok {
			t.Fatal("separate key was limited")
		}
		for _, bad := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
			if _, _, err := e.kv.Allow(ctx, "k", bad[0], time.Duration(bad[1])*time.Second, bad[2]); err == nil {
				t.Errorf("Allow(%v) accepted invalid limits", bad)
			}
		}
	})

	t.Run("tokens", func(t *testing.T) {
		e := newEnv(t, newClient)
		if err := e.kv.PutToken(ctx, "verify", "abc", []byte("payload"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, err := e.kv.TakeToken(ctx, "verify", "abc"); err != nil || string(v) != "payload" {
			t.Fatalf("TakeToken = %q, %v", v, err)
		}
		if _, err := e.kv.TakeToken(ctx, "verify", "abc"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second TakeToken = %v, want ErrNotFound", err)
		}
		if err := e.kv.PutToken(ctx, "verify", "race", []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		parallel(t, 20, func() error {
			_, err := e.kv.TakeToken(ctx, "verify", "race")
			if err == nil {
				wins.Add(1)
				return nil
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		})
		if wins.Load() != 1 {
			t.Fatalf("%d of 20 parallel TakeToken succeeded, want 1", wins.Load())
		}
		for _, p := range []string{"", "a:b"} {
			if err := e.kv.PutToken(ctx, p, "h", nil, time.Minute); err == nil {
				t.Errorf("PutToken accepted purpose %q", p)
			}
		}
		if err := e.kv.PutToken(ctx, "verify", "h", nil, 0); err == nil {
			t.Error("PutToken accepted a zero TTL")
		}
		if e.fake() {
			_ = e.kv.PutToken(ctx, "reset", "old", []byte("v"), time.Minute)
			e.advance(time.Minute)
			if _, err := e.kv.TakeToken(ctx, "reset", "old"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("expired token taken: %v", err)
			}
		}
	})

	t.Run("user snapshot", func(t *testing.T) {
		e := newEnv(t, newClient)
		_, fence, err := e.kv.UserSnapshot(ctx, "u1")
		if !errors.Is(err, store.ErrNotFound) || fence != "" {
			t.Fatalf("empty UserSnapshot = %q, %v; want no fence, ErrNotFound", fence, err)
		}
		if ok, err := e.kv.PutUserSnapshot(ctx, "u1", []byte("v1"), fence, time.Minute); err != nil || !ok {
			t.Fatalf("fill with current fence = %v, %v; want stored", ok, err)
		}
		data, fence, err := e.kv.UserSnapshot(ctx, "u1")
		if err != nil || string(data) != "v1" {
			t.Fatalf("UserSnapshot = %q, %v", data, err)
		}
		if d := e.pttl(e.kv.snapshotKey("u1")); d <= 0 || d > time.Minute {
			t.Fatalf("snapshot PTTL = %v", d)
		}
		if err := e.kv.DropUserSnapshot(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.kv.UserSnapshot(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UserSnapshot after drop = %v, want ErrNotFound", err)
		}
		// The fence read before the drop no longer fills.
		if ok, err := e.kv.PutUserSnapshot(ctx, "u1", []byte("stale"), fence, time.Minute); err != nil || ok {
			t.Fatalf("fill with an old fence = %v, %v; want refused", ok, err)
		}
		_, fence, _ = e.kv.UserSnapshot(ctx, "u1")
		if ok, err := e.kv.PutUserSnapshot(ctx, "u1", []byte("v2"), fence, time.Minute); err != nil || !ok {
			t.Fatalf("fill with the new fence = %v, %v; want stored", ok, err)
		}
		if d := e.pttl(e.kv.snapshotGenKey("u1")); d <= 0 || d > snapshotGenTTL {
			t.Fatalf("generation PTTL = %v", d)
		}
		if _, err := e.kv.PutUserSnapshot(ctx, "u1", []byte("v"), "", 0); err == nil {
			t.Fatal("PutUserSnapshot with TTL 0 succeeded")
		}
	})

	t.Run("every key has a TTL", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(e.kv.CreateSession(ctx, store.Session{TokenHash: "h", UserID: "u", ExpiresAt: now.Add(time.Hour)}, time.Minute))
		_, err := e.kv.Session(ctx, "h", time.Minute)
		must(err)
		_, err = e.kv.UseNonce(ctx, "k", "n", time.Minute)
		must(err)
		_, err = e.kv.AddFailure(ctx, "s", time.Minute)
		must(err)
		_, err = e.kv.Incr(ctx, "c", time.Minute)
		must(err)
		_, _, err = e.kv.Allow(ctx, "r", 10, time.Second, 10)
		must(err)
		must(e.kv.PutToken(ctx, "p", "t", []byte("v"), time.Minute))
		_, err = e.kv.PutUserSnapshot(ctx, "u", []byte("v"), "", time.Minute)
		must(err)
		must(e.kv.DropUserSnapshot(ctx, "u2"))
		keys := e.keys(ctx)
		if len(keys) != 9 {
			t.Fatalf("found %d keys, want 9: %v", len(keys), keys)
		}
		for _, k := range keys {
			if d := e.pttl(k); d <= 0 {
				t.Errorf("key %q: PTTL %v", k, d)
			}
		}
	})
}

// parallel runs fn n times at once and fails on any error.
func parallel(t *testing.T, n int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if err := fn(); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
