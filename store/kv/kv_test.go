package kv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/store/kvtest"
)

// The behaviour is kvtest's; keys_test.go checks what only Redis has (key
// layout, TTLs on every key) and conn_test.go connections and outages.

func TestMiniredis(t *testing.T) {
	t.Run("suite", func(t *testing.T) { kvtest.Run(t, openState(newMiniClient)) })
	runKeys(t, newMiniClient)
}

func TestRealRedis(t *testing.T) {
	newClient := realClient(t)
	t.Run("suite", func(t *testing.T) { kvtest.Run(t, openState(newClient)) })
	runKeys(t, newClient)
}

// openState gives the suite a KV under a prefix of its own and checks, when
// the subtest ends, that every key it wrote has a TTL.
func openState(newClient func(t *testing.T) redis.UniversalClient) func(*testing.T, func() time.Time) kvtest.Backend {
	return func(t *testing.T, now func() time.Time) kvtest.Backend {
		c := newClient(t)
		prefix := testPrefix()
		checkKeysOnCleanup(t, c, prefix)
		b := kvtest.Backend{State: New(c, WithPrefix(prefix), WithClock(now))}
		if ff, ok := c.(fastForwarder); ok {
			b.FastForward = ff.FastForward
		}
		return b
	}
}

// miniClient carries its miniredis so tests can move server time along with
// the KV clock; a real server has no such hook and real sleeps are used.
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

// realClient connects to PARTNERGATE_TEST_REDIS_URL; CI must set it, so
// there a missing URL fails rather than skips.
func realClient(t *testing.T) func(t *testing.T) redis.UniversalClient {
	url := os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARTNERGATE_TEST_REDIS_URL must be set in CI")
		}
		t.Skip("real-Redis tests skipped: set PARTNERGATE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run them")
	}
	return func(t *testing.T) redis.UniversalClient {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(PARTNERGATE_TEST_REDIS_URL): %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
}
