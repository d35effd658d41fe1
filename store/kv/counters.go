package kv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// nonceKey hashes the nonce: it comes from the partner, so hashing bounds the
// key size, and the fixed-length suffix keeps kid/nonce pairs unambiguous
// whatever characters the kid holds.
func (k *KV) nonceKey(kid, nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return k.prefix + "nonce:" + kid + ":" + hex.EncodeToString(sum[:])
}

// UseNonce records a partner request nonce for ttl. fresh is true only for
// the first use; a replay within ttl gets false.
func (k *KV) UseNonce(ctx context.Context, kid, nonce string, ttl time.Duration) (fresh bool, err error) {
	const op = "use nonce"
	if err := checkTTL(op, ttl); err != nil {
		return false, err
	}
	fresh, err = k.client.SetNX(ctx, k.nonceKey(kid, nonce), 1, ttl).Result()
	if err != nil {
		return false, wrap(op, err)
	}
	return fresh, nil
}

func (k *KV) failuresKey(subject string) string { return k.prefix + "fail:" + subject }

// Failures returns the subject's counter; zero if there is none.
func (k *KV) Failures(ctx context.Context, subject string) (store.Failures, error) {
	vals, err := k.client.HMGet(ctx, k.failuresKey(subject), "count", "last").Result()
	if err != nil {
		return store.Failures{}, wrap("failures", err)
	}
	var f store.Failures
	if s, ok := vals[0].(string); ok {
		f.Count, _ = strconv.ParseInt(s, 10, 64)
	}
	if s, ok := vals[1].(string); ok {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.Last = time.UnixMilli(n).UTC()
		}
	}
	return f, nil
}

// AddFailure counts one failure and restarts the subject's window, so the
// counter clears only after window without failures.
func (k *KV) AddFailure(ctx context.Context, subject string, window time.Duration) (store.Failures, error) {
	const op = "add failure"
	if err := checkTTL(op, window); err != nil {
		return store.Failures{}, err
	}
	key := k.failuresKey(subject)
	now := k.now()
	var count *redis.IntCmd
	// MULTI on a single key: atomic and cluster-safe, so concurrent failures
	// are neither lost nor left without a TTL.
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		count = p.HIncrBy(ctx, key, "count", 1)
		p.HSet(ctx, key, "last", now.UnixMilli())
		p.PExpire(ctx, key, time.Duration(ms(window))*time.Millisecond)
		return nil
	})
	if err != nil {
		return store.Failures{}, wrap(op, err)
	}
	return store.Failures{Count: count.Val(), Last: time.UnixMilli(now.UnixMilli()).UTC()}, nil
}

// ResetFailures clears the subject's counter, e.g. after a successful login.
func (k *KV) ResetFailures(ctx context.Context, subject string) error {
	return wrap("reset failures", k.client.Del(ctx, k.failuresKey(subject)).Err())
}

// incrScript sets the TTL whenever the key has none rather than only when
// the count is 1, so a key that somehow lost its TTL cannot count forever.
//
// KEYS[1] counter; ARGV[1] window ms.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Incr adds one to a fixed-window counter and returns the new value. The
// window starts at the first increment and is not extended by later ones.
func (k *KV) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	const op = "incr"
	if err := checkTTL(op, window); err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, k.client, []string{k.prefix + "cnt:" + key}, ms(window)).Int64()
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// Allow takes one event from a GCRA limiter allowing rate events per period
// with bursts of up to burst. When refused, retryAfter says when the next
// event would pass. redis_rate puts its own "rate:" before the key, so these
// keys start with "rate:" + prefix.
func (k *KV) Allow(ctx context.Context, key string, rate int, per time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error) {
	const op = "allow"
	if rate <= 0 || per <= 0 || burst <= 0 {
		return false, 0, fmt.Errorf("kv: %s: rate, period and burst must be positive", op)
	}
	res, err := k.limiter.Allow(ctx, k.prefix+"rl:"+key, redis_rate.Limit{Rate: rate, Period: per, Burst: burst})
	if err != nil {
		return false, 0, wrap(op, err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, time.Millisecond), nil
}

func (k *KV) tokenKey(purpose, hash string) string {
	return k.prefix + "tok:" + purpose + ":" + hash
}

func checkPurpose(op, purpose string) error {
	// A ':' would let two purpose/hash pairs map to the same key.
	if purpose == "" || strings.Contains(purpose, ":") {
		return fmt.Errorf("kv: %s: invalid purpose %q", op, purpose)
	}
	return nil
}

// PutToken stores a single-use value under the hash of a token or code,
// replacing any previous one.
func (k *KV) PutToken(ctx context.Context, purpose, hash string, value []byte, ttl time.Duration) error {
	const op = "put token"
	if err := checkPurpose(op, purpose); err != nil {
		return err
	}
	if err := checkTTL(op, ttl); err != nil {
		return err
	}
	return wrap(op, k.client.Set(ctx, k.tokenKey(purpose, hash), value, ttl).Err())
}

// TakeToken returns the value and deletes it in one step, so of concurrent
// takes exactly one succeeds. store.ErrNotFound if missing, expired or taken.
func (k *KV) TakeToken(ctx context.Context, purpose, hash string) ([]byte, error) {
	const op = "take token"
	if err := checkPurpose(op, purpose); err != nil {
		return nil, err
	}
	v, err := k.client.GetDel(ctx, k.tokenKey(purpose, hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return v, nil
}
