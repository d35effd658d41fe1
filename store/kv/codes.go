package kv

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// Verification codes. A code record holds only the code's MAC and an attempt
// count; checking and consuming happen in one script so that of many
// concurrent submissions of the right code exactly one succeeds, and wrong
// guesses past the limit void the code.

func (k *KV) codeKey(slot string) string { return k.prefix + "code:" + slot }

// PutCode stores a code's MAC under slot for ttl, replacing any earlier code
// (a resend voids the previous code).
func (k *KV) PutCode(ctx context.Context, slot, mac string, ttl time.Duration) error {
	const op = "put code"
	if err := checkTTL(op, ttl); err != nil {
		return err
	}
	key := k.codeKey(slot)
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "mac", mac, "attempts", 0)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return wrap(op, err)
}

var checkCodeScript = redis.NewScript(`
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return 0 end
if mac == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if n >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 3
end
return 2
`)

// CheckCode compares mac with the stored one and consumes the code on a
// match. maxAttempts wrong tries void it.
func (k *KV) CheckCode(ctx context.Context, slot, mac string, maxAttempts int) (store.CodeResult, error) {
	n, err := checkCodeScript.Run(ctx, k.client, []string{k.codeKey(slot)}, mac, maxAttempts).Int()
	if err != nil {
		return store.CodeMissing, wrap("check code", err)
	}
	return store.CodeResult(n), nil
}

// HasCode reports whether a live code exists under slot.
func (k *KV) HasCode(ctx context.Context, slot string) (bool, error) {
	n, err := k.client.Exists(ctx, k.codeKey(slot)).Result()
	if err != nil {
		return false, wrap("has code", err)
	}
	return n == 1, nil
}

// Hold takes a named hold for ttl if nobody holds it (SET NX EX). When it is
// already held, ok is false and left says how long until it frees. The
// 90-second resend rule is one hold per (purpose, target).
func (k *KV) Hold(ctx context.Context, name string, ttl time.Duration) (ok bool, left time.Duration, err error) {
	const op = "hold"
	if err := checkTTL(op, ttl); err != nil {
		return false, 0, err
	}
	key := k.prefix + "hold:" + name
	ok, err = k.client.SetNX(ctx, key, 1, ttl).Result()
	if err != nil {
		return false, 0, wrap(op, err)
	}
	if ok {
		return true, 0, nil
	}
	left, err = k.client.PTTL(ctx, key).Result()
	if err != nil {
		return false, 0, wrap(op, err)
	}
	return false, max(left, time.Millisecond), nil
}

// Release frees a hold early (when the send it guarded failed).
func (k *KV) Release(ctx context.Context, name string) error {
	return wrap("release", k.client.Del(ctx, k.prefix+"hold:"+name).Err())
}

// PeekToken returns a token's value without consuming it.
func (k *KV) PeekToken(ctx context.Context, purpose, hash string) ([]byte, error) {
	const op = "peek token"
	if err := checkPurpose(op, purpose); err != nil {
		return nil, err
	}
	v, err := k.client.Get(ctx, k.tokenKey(purpose, hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return v, nil
}

// MatchCode reports whether mac is the live code's, without consuming it or
// counting a try: for picking which of several pending codes a submission
// is meant for. The caller must then Check the match, or count a try.
func (k *KV) MatchCode(ctx context.Context, slot, mac string) (bool, error) {
	got, err := k.client.HGet(ctx, k.codeKey(slot), "mac").Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("match code", err)
	}
	return hmac.Equal([]byte(got), []byte(mac)), nil
}
