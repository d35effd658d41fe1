package kv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// What only Redis has: the key layout (per-user hash tags, the session
// index) and a TTL on every key. Behaviour seen through store.State is
// kvtest's.

func testPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "pgtest:" + hex.EncodeToString(b) + ":"
}

// checkKeysOnCleanup fails the test if any key under prefix has no TTL when
// it ends, then deletes them: whatever a test wrote must expire on its own.
func checkKeysOnCleanup(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, c, prefix)
		if err != nil {
			t.Errorf("scan: %v", err)
			return
		}
		for _, k := range keys {
			if d, err := c.PTTL(ctx, k).Result(); err == nil && d <= 0 && d != -2*time.Nanosecond {
				t.Errorf("key %q has no TTL (PTTL %v)", k, d)
			}
			_ = c.Del(ctx, k).Err()
		}
	})
}

// scanKeys lists the keys under prefix, including the limiter's
// "rate:"-prefixed ones, on every master of a Cluster.
func scanKeys(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	var out []string
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		for _, pat := range []string{prefix + "*", "rate:" + prefix + "*"} {
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
	if m, ok := c.(miniClient); ok {
		c = m.UniversalClient
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return out, cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	}
	return out, scan(ctx, c)
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
	e := &env{t: t, client: newClient(t), prefix: testPrefix()}
	if ff, ok := e.client.(fastForwarder); ok {
		e.ff = ff
		e.now = time.Now().Truncate(time.Millisecond)
	}
	e.kv = New(e.client, WithPrefix(e.prefix), WithClock(e.clock))
	checkKeysOnCleanup(t, e.client, e.prefix)
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

func (e *env) keys(ctx context.Context) []string {
	e.t.Helper()
	keys, err := scanKeys(ctx, e.client, e.prefix)
	if err != nil {
		e.t.Fatalf("scan: %v", err)
	}
	return keys
}

func (e *env) pttl(key string) time.Duration {
	e.t.Helper()
	d, err := e.client.PTTL(context.Background(), key).Result()
	if err != nil {
		e.t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func runKeys(t *testing.T, newClient func(t *testing.T) redis.UniversalClient) {
	ctx := context.Background()

	t.Run("session TTL", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		must(t, e.kv.CreateSession(ctx, store.Session{TokenHash: "h1", UserID: "u1", ExpiresAt: now.Add(time.Hour)}, 10*time.Minute))
		if d := e.pttl(e.kv.sessionKey("h1")); d <= 0 || d > 10*time.Minute {
			t.Fatalf("session PTTL = %v, want (0, 10m]", d)
		}
		// Sliding never pushes the key past the absolute expiry.
		exp := now.Add(90 * time.Second).Truncate(time.Millisecond)
		must(t, e.kv.CreateSession(ctx, store.Session{TokenHash: "h2", UserID: "u1", ExpiresAt: exp}, 10*time.Minute))
		_, err := e.kv.Session(ctx, "h2", 10*time.Minute)
		must(t, err)
		before := e.clock()
		d := e.pttl(e.kv.sessionKey("h2"))
		// Redis counts the TTL from when it runs the script, so on a real
		// server the key may outlive ExpiresAt by the request latency.
		slack := 25 * time.Millisecond
		if e.fake() {
			slack = 0
		}
		if d <= 0 || before.Add(d).After(exp.Add(slack)) {
			t.Fatalf("slid PTTL %v runs past the absolute expiry", d)
		}
		if !e.fake() {
			return
		}
		// Past ExpiresAt by the KV clock while Redis still holds the key:
		// the script refuses the session and drops the key.
		e.mu.Lock()
		e.now = exp.Add(time.Millisecond)
		e.mu.Unlock()
		if _, err := e.kv.Session(ctx, "h2", 10*time.Minute); err == nil {
			t.Fatal("session read past ExpiresAt")
		}
		if n, _ := e.client.Exists(ctx, e.kv.sessionKey("h2")).Result(); n != 0 {
			t.Fatal("session past ExpiresAt left in Redis")
		}
	})

	t.Run("session index", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		for i, h := range []string{"s1", "s2", "s3", "s4"} {
			must(t, e.kv.CreateSession(ctx, store.Session{TokenHash: h, UserID: "u1",
				ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Minute)}, 30*time.Minute))
		}
		idx := e.kv.userSessionsKey("u1")
		if d := e.pttl(idx); d <= time.Hour+2*time.Minute || d > time.Hour+3*time.Minute {
			t.Fatalf("index PTTL = %v, want the latest absolute expiry", d)
		}
		// A session that expired behind the index's back is pruned by the
		// next listing.
		must(t, e.client.Del(ctx, e.kv.sessionKey("s3")).Err())
		ss, err := e.kv.UserSessions(ctx, "u1")
		if err != nil || len(ss) != 3 {
			t.Fatalf("UserSessions = %+v, %v, want 3", ss, err)
		}
		if n, _ := e.client.ZCard(ctx, idx).Result(); n != 3 {
			t.Fatalf("index holds %d entries, want the dangling one pruned to 3", n)
		}
		if n, err := e.kv.DeleteUserSessions(ctx, "u1", ""); err != nil || n != 3 {
			t.Fatalf("DeleteUserSessions = %d, %v, want 3", n, err)
		}
		if n, _ := e.client.Exists(ctx, idx).Result(); n != 0 {
			t.Fatal("empty index left in Redis")
		}
	})

	t.Run("user keys share a hash tag", func(t *testing.T) {
		e := newEnv(t, newClient)
		tag := "{u:u1}"
		for _, k := range []string{e.kv.userSessionsKey("u1"), e.kv.pendingKey("u1", "email"),
			e.kv.snapshotKey("u1"), e.kv.snapshotGenKey("u1"), e.kv.familyKey("u1", "f"), e.kv.familiesKey("u1")} {
			// Cluster hashes the first {...}: the prefix holds no braces, so
			// that is the user's tag.
			if i := strings.IndexByte(k, '{'); i < 0 || !strings.HasPrefix(k[i:], tag) {
				t.Errorf("key %q does not start its hash tag with %s", k, tag)
			}
		}
	})

	t.Run("every key has a TTL", func(t *testing.T) {
		e := newEnv(t, newClient)
		now := e.clock()
		must(t, e.kv.CreateSession(ctx, store.Session{TokenHash: "h", UserID: "u", ExpiresAt: now.Add(time.Hour)}, time.Minute))
		_, err := e.kv.Session(ctx, "h", time.Minute)
		must(t, err)
		_, err = e.kv.UseNonce(ctx, "k", "n", time.Minute)
		must(t, err)
		_, err = e.kv.AddFailure(ctx, "s", time.Minute)
		must(t, err)
		_, err = e.kv.Incr(ctx, "c", time.Minute)
		must(t, err)
		_, _, err = e.kv.Allow(ctx, "r", 10, time.Second, 10)
		must(t, err)
		must(t, e.kv.PutToken(ctx, "p", "t", []byte("v"), time.Minute))
		_, err = e.kv.PutUserSnapshot(ctx, "u", []byte("v"), "", time.Minute)
		must(t, err)
		must(t, e.kv.DropUserSnapshot(ctx, "u2"))
		must(t, e.kv.PutCode(ctx, "slot", "mac", time.Minute))
		_, err = e.kv.CheckCode(ctx, "slot", "wrong", 5)
		must(t, err)
		_, _, err = e.kv.Hold(ctx, "hold", time.Minute)
		must(t, err)
		must(t, e.kv.PutPending(ctx, "u", "email", "a", "a", time.Minute))
		keys := e.keys(ctx)
		if len(keys) != 12 {
			t.Fatalf("found %d keys, want 12: %v", len(keys), keys)
		}
		for _, k := range keys {
			if d := e.pttl(k); d <= 0 {
				t.Errorf("key %q: PTTL %v", k, d)
			}
		}
		for _, k := range []struct {
			key string
			max time.Duration
		}{
			{e.kv.failuresKey("s"), time.Minute},
			{e.kv.prefix + "cnt:c", time.Minute},
			{e.kv.snapshotKey("u"), time.Minute},
			{e.kv.snapshotGenKey("u2"), snapshotGenTTL},
			{e.kv.codeKey("slot"), time.Minute},
		} {
			if d := e.pttl(k.key); d <= 0 || d > k.max {
				t.Errorf("key %q: PTTL %v, want (0, %v]", k.key, d, k.max)
			}
		}
	})
}
