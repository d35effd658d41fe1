package kv

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// A family is a hash under the user's tag: cur (the current token's hash),
// created and exp (Unix ms), and one "u:<hash>" field per replaced token so
// a replayed one is told apart from a forged one. The user's index is a
// sorted set of family ids scored by expiry, as for sessions.
func (k *KV) familyKey(userID, id string) string {
	return k.prefix + "{u:" + userID + "}:rf:" + id
}

func (k *KV) familiesKey(userID string) string { return k.prefix + "{u:" + userID + "}:rfs" }

// KEYS[1] family, KEYS[2] index; ARGV[1] hash, ARGV[2] created ms,
// ARGV[3] exp ms, ARGV[4] ttl ms, ARGV[5] id, ARGV[6] now ms.
var createFamilyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'created', ARGV[2], 'exp', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local ttl = math.floor(tonumber(last[2]) - tonumber(ARGV[6]))
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`)

// KEYS[1] family, KEYS[2] index; ARGV[1] presented, ARGV[2] next, ARGV[3] id.
var rotateScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'cur')
if not cur then return {0} end
if cur == ARGV[1] then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'u:' .. ARGV[1], '1')
  local f = redis.call('HMGET', KEYS[1], 'created', 'exp')
  return {1, f[1], f[2]}
end
if redis.call('HEXISTS', KEYS[1], 'u:' .. ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  return {2}
end
return {0}
`)

// CreateFamily implements store.RefreshFamilies.
func (k *KV) CreateFamily(ctx context.Context, f store.RefreshFamily, tokenHash string) error {
	const op = "create refresh family"
	if f.ID == "" || f.UserID == "" || tokenHash == "" {
		return fmt.Errorf("kv: %s: id, user and hash are required", op)
	}
	now := k.now()
	ttl := f.ExpiresAt.Sub(now)
	if ttl <= 0 {
		return fmt.Errorf("kv: %s: family already expired at %s", op, f.ExpiresAt)
	}
	if f.Created.IsZero() {
		f.Created = now
	}
	n, err := createFamilyScript.Run(ctx, k.client, []string{k.familyKey(f.UserID, f.ID), k.familiesKey(f.UserID)},
		tokenHash, f.Created.UnixMilli(), f.ExpiresAt.UnixMilli(), ttl.Milliseconds(), f.ID, now.UnixMilli()).Int()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("kv: %s: %w", op, store.ErrAlreadyExists)
	}
	return nil
}

// RotateRefresh implements store.RefreshFamilies.
func (k *KV) RotateRefresh(ctx context.Context, userID, familyID, presented, next string) (store.RotateResult, store.RefreshFamily, error) {
	const op = "rotate refresh token"
	if userID == "" || familyID == "" || presented == "" || next == "" {
		return store.RotateMissing, store.RefreshFamily{}, fmt.Errorf("kv: %s: user, family and hashes are required", op)
	}
	res, err := rotateScript.Run(ctx, k.client, []string{k.familyKey(userID, familyID), k.familiesKey(userID)},
		presented, next, familyID).Slice()
	if err != nil {
		return store.RotateMissing, store.RefreshFamily{}, wrap(op, err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 1:
		f := store.RefreshFamily{ID: familyID, UserID: userID}
		if len(res) == 3 {
			f.Created = msField(res[1])
			f.ExpiresAt = msField(res[2])
		}
		return store.RotateOK, f, nil
	case 2:
		return store.RotateReused, store.RefreshFamily{ID: familyID, UserID: userID}, nil
	}
	return store.RotateMissing, store.RefreshFamily{}, nil
}

func msField(v any) time.Time {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(n).UTC()
}

// DeleteFamily implements store.RefreshFamilies.
func (k *KV) DeleteFamily(ctx context.Context, userID, familyID string) (bool, error) {
	const op = "delete refresh family"
	var del *redis.IntCmd
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, k.familyKey(userID, familyID))
		p.ZRem(ctx, k.familiesKey(userID), familyID)
		return nil
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return del.Val() == 1, nil
}

// DeleteUserFamilies implements store.RefreshFamilies.
func (k *KV) DeleteUserFamilies(ctx context.Context, userID, except string) ([]string, error) {
	const op = "delete user refresh families"
	ids, err := k.client.ZRange(ctx, k.familiesKey(userID), 0, -1).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	var ended []string
	for _, id := range ids {
		if id == except {
			continue
		}
		ok, err := k.DeleteFamily(ctx, userID, id)
		if err != nil {
			return ended, wrap(op, err)
		}
		if ok {
			ended = append(ended, id)
		}
	}
	return ended, nil
}

// The revocation list is global (one slot): a sorted set of session ids
// scored by the time they may be forgotten, and a version that only grows,
// even across the keys expiring, so a gateway comparing versions never
// mistakes a new list for the one it holds.
func (k *KV) revokedKey() string    { return k.prefix + "{jwtrev}:set" }
func (k *KV) revokedVerKey() string { return k.prefix + "{jwtrev}:ver" }

// KEYS[1] set, KEYS[2] version; ARGV[1] now ms, ARGV[2] until ms, ARGV[3..] ids.
var revokeScript = redis.NewScript(`
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local ttl = 1
if #last > 0 then ttl = math.max(1, math.floor(tonumber(last[2]) - tonumber(ARGV[1]))) end
local v = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
if v < tonumber(ARGV[1]) then v = tonumber(ARGV[1]) end
redis.call('SET', KEYS[2], string.format('%d', v), 'PX', ttl)
if #last > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return v
`)

// RevokeSessions implements store.Revocations.
func (k *KV) RevokeSessions(ctx context.Context, ids []string, until time.Time) error {
	const op = "revoke sessions"
	now := k.now()
	if !until.After(now) {
		return fmt.Errorf("kv: %s: until %s is not in the future", op, until)
	}
	if len(ids) == 0 {
		return nil
	}
	args := []any{now.UnixMilli(), until.UnixMilli()}
	for _, id := range ids {
		args = append(args, id)
	}
	return wrap(op, revokeScript.Run(ctx, k.client, []string{k.revokedKey(), k.revokedVerKey()}, args...).Err())
}

// RevocationVersion implements store.Revocations.
func (k *KV) RevocationVersion(ctx context.Context) (int64, error) {
	v, err := k.client.Get(ctx, k.revokedVerKey()).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	return v, wrap("revocation version", err)
}

// RevokedSessions implements store.Revocations.
func (k *KV) RevokedSessions(ctx context.Context) (int64, []string, error) {
	const op = "revoked sessions"
	var ver *redis.StringCmd
	var ids *redis.StringSliceCmd
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ver = p.Get(ctx, k.revokedVerKey())
		ids = p.ZRangeByScore(ctx, k.revokedKey(), &redis.ZRangeBy{Min: "(" + strconv.FormatInt(k.now().UnixMilli(), 10), Max: "+inf"})
		return nil
	})
	if err != nil && err != redis.Nil {
		return 0, nil, wrap(op, err)
	}
	v, _ := ver.Int64()
	return v, ids.Val(), nil
}

// accessVerKey holds the version of the access table (roles, permissions,
// restrictions). It has a TTL like every key; if it lapses the version
// reads 0, which differs from what gateways hold, so they reload: losing
// it costs a reload, never a missed change.
func (k *KV) accessVerKey() string { return k.prefix + "{access}:ver" }

// accessVerTTL is renewed at every bump.
const accessVerTTL = 90 * 24 * time.Hour

// AccessVersion implements store.AccessVersions.
func (k *KV) AccessVersion(ctx context.Context) (int64, error) {
	v, err := k.client.Get(ctx, k.accessVerKey()).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	return v, wrap("access version", err)
}

// BumpAccessVersion implements store.AccessVersions.
func (k *KV) BumpAccessVersion(ctx context.Context) (int64, error) {
	var incr *redis.IntCmd
	_, err := k.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, k.accessVerKey())
		p.Expire(ctx, k.accessVerKey(), accessVerTTL)
		return nil
	})
	if err != nil {
		return 0, wrap("bump access version", err)
	}
	return incr.Val(), nil
}
