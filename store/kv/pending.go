package kv

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pending identifier changes: the new value waits here, beside its code,
// until the user confirms it; the old identifier stays in force meanwhile.

func (k *KV) pendingKey(userID, kind string) string {
	return k.prefix + "{u:" + userID + "}:pending:" + kind
}

// PutPending holds a new value (display form and normalised form) for ttl.
func (k *KV) PutPending(ctx context.Context, userID, kind, value, norm string, ttl time.Duration) error {
	const op = "put pending"
	if err := checkTTL(op, ttl); err != nil {
		return err
	}
	key := k.pendingKey(userID, kind)
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "value", value, "norm", norm)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return wrap(op, err)
}

// Pending returns the held value, or empty strings when none is held.
func (k *KV) Pending(ctx context.Context, userID, kind string) (value, norm string, err error) {
	vals, err := k.client.HMGet(ctx, k.pendingKey(userID, kind), "value", "norm").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", "", wrap("pending", err)
	}
	value, _ = vals[0].(string)
	norm, _ = vals[1].(string)
	return value, norm, nil
}

// DropPending forgets a held value.
func (k *KV) DropPending(ctx context.Context, userID, kind string) error {
	return wrap("drop pending", k.client.Del(ctx, k.pendingKey(userID, kind)).Err())
}
