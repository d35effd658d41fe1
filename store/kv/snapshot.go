package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// A user snapshot is a short-lived copy of a user record kept next to the
// user's other keys (same hash tag, so Cluster-safe). Beside it lives a
// generation counter that every write to the user bumps: a reader notes the
// generation before it reads the database and may only store what it read
// if the generation has not moved since, so a read that raced a write can
// never put the old record back after the write cleared it.

// snapshotGenTTL keeps the generation far longer than any read in flight
// takes: were it to expire between a reader's fence and its fill, an old
// fence could match again.
const snapshotGenTTL = time.Hour

func (k *KV) snapshotKey(userID string) string { return k.prefix + "{u:" + userID + "}:snap" }
func (k *KV) snapshotGenKey(userID string) string {
	return k.prefix + "{u:" + userID + "}:gen"
}

// UserSnapshot returns the cached copy of a user and the fence a later
// PutUserSnapshot must present. store.ErrNotFound (with the fence) when no
// copy is cached.
func (k *KV) UserSnapshot(ctx context.Context, userID string) (data []byte, fence string, err error) {
	const op = "user snapshot"
	vals, err := k.client.MGet(ctx, k.snapshotKey(userID), k.snapshotGenKey(userID)).Result()
	if err != nil {
		return nil, "", wrap(op, err)
	}
	if g, ok := vals[1].(string); ok {
		fence = g
	}
	s, ok := vals[0].(string)
	if !ok {
		return nil, fence, fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
	}
	return []byte(s), fence, nil
}

// fillScript stores a snapshot only if the generation still equals the
// reader's fence ("" = no generation yet).
//
// KEYS[1] snapshot, KEYS[2] generation; ARGV[1] fence, ARGV[2] data,
// ARGV[3] TTL ms.
var fillScript = redis.NewScript(`
local g = redis.call('GET', KEYS[2]) or ''
if g ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// PutUserSnapshot caches data for ttl unless the user was written since
// fence was read; stored reports which.
func (k *KV) PutUserSnapshot(ctx context.Context, userID string, data []byte, fence string, ttl time.Duration) (stored bool, err error) {
	const op = "put user snapshot"
	if err := checkTTL(op, ttl); err != nil {
		return false, err
	}
	n, err := fillScript.Run(ctx, k.client, []string{k.snapshotKey(userID), k.snapshotGenKey(userID)},
		fence, data, ms(ttl)).Int()
	if err != nil {
		return false, wrap(op, err)
	}
	return n == 1, nil
}

// DropUserSnapshot clears the cached copy and moves the generation on, so
// fills by readers that started before this call are refused.
func (k *KV) DropUserSnapshot(ctx context.Context, userID string) error {
	const op = "drop user snapshot"
	gen := k.snapshotGenKey(userID)
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, gen)
		p.PExpire(ctx, gen, snapshotGenTTL)
		p.Del(ctx, k.snapshotKey(userID))
		// In the same transaction, so no process hears of a drop that did
		// not happen or misses one that did while subscribed.
		p.Publish(ctx, k.dropChannel(), userID)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrap(op, err)
	}
	return nil
}

func (k *KV) dropChannel() string { return k.prefix + "usnap:drops" }

// WatchUserDrops implements store.UserSnapshots over Redis pub/sub. go-redis
// resubscribes after a lost connection; each (re)subscription is reported
// as a reset, because drops published while it was away are lost.
func (k *KV) WatchUserDrops(ctx context.Context, drop func(userID string), reset func()) error {
	ps := k.client.Subscribe(ctx, k.dropChannel())
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return wrap("watch user drops", err)
	}
	reset()
	ch := ps.ChannelWithSubscriptions()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-ch:
			if !ok {
				return errors.New("kv: watch user drops: subscription closed")
			}
			switch m := m.(type) {
			case *redis.Message:
				drop(m.Payload)
			case *redis.Subscription:
				reset()
			}
		}
	}
}
