package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// touchEvery bounds how often a read rewrites LastSeen: rewriting the value
// on every request would turn each authenticated read into a full write.
const touchEvery = time.Minute

// record is the stored form. Exp and Seen come first and are plain integers
// so the sliding script can read and patch them with an anchored pattern
// instead of decoding and re-encoding the JSON, whose number formatting
// differs between Redis's cjson and other Lua hosts.
type record struct {
	Exp     int64   `json:"exp"`
	Seen    int64   `json:"seen"`
	Created int64   `json:"created"`
	UserID  string  `json:"uid"`
	IP      string  `json:"ip,omitempty"`
	UA      string  `json:"ua,omitempty"`
	Dev     *devRec `json:"dev,omitempty"`
}

// devRec is a session's device, present only on device sessions.
type devRec struct {
	ID    string `json:"id"`
	Name  string `json:"n,omitempty"`
	Model string `json:"m,omitempty"`
	Push  string `json:"p,omitempty"`
}

func (r record) session(hash string) store.Session {
	return store.Session{
		TokenHash: hash,
		UserID:    r.UserID,
		IP:        r.IP,
		UserAgent: r.UA,
		Created:   time.UnixMilli(r.Created).UTC(),
		LastSeen:  time.UnixMilli(r.Seen).UTC(),
		ExpiresAt: time.UnixMilli(r.Exp).UTC(),
		Device:    r.Dev.device(),
	}
}

func (d *devRec) device() store.Device {
	if d == nil {
		return store.Device{}
	}
	return store.Device{ID: d.ID, Name: d.Name, Model: d.Model, PushToken: d.Push}
}

func newDevRec(d store.Device) *devRec {
	if d.ID == "" {
		return nil
	}
	return &devRec{ID: d.ID, Name: d.Name, Model: d.Model, Push: d.PushToken}
}

func decodeSession(hash, raw string) (store.Session, error) {
	var r record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return store.Session{}, fmt.Errorf("malformed session: %w", err)
	}
	return r.session(hash), nil
}

func (k *KV) sessionKey(hash string) string { return k.prefix + "sess:" + hash }

// userDevicesKey maps each of a user's device ids to the token hash of its
// session (a hash), beside the user's index in the user's slot.
func (k *KV) userDevicesKey(userID string) string {
	return k.prefix + "{u:" + userID + "}:dev"
}

// deviceScript makes a session its device's one: it swaps the device's
// entry for the new hash and returns the hash it held ("" for none), and
// keeps the map alive until the latest session it names may expire. Each
// swap returns its predecessor, so of concurrent logins from one device
// every session but the last swapped in is handed back to be deleted.
//
// KEYS[1] device map; ARGV[1] device id, ARGV[2] hash, ARGV[3] the
// session's expiry ms, ARGV[4] now ms.
var deviceScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = math.floor(tonumber(ARGV[3]) - tonumber(ARGV[4]))
if ttl < 1 then ttl = 1 end
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if not old then return '' end
return old
`)

// casScript replaces a session's value only if it is still the one read,
// keeping its TTL. KEYS[1] session; ARGV[1] old value, ARGV[2] new value.
var casScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// userSessionsKey is the per-user index: a sorted set of token hashes scored
// by their absolute expiry in Unix milliseconds.
func (k *KV) userSessionsKey(userID string) string {
	return k.prefix + "{u:" + userID + "}:sess"
}

// slideScript reads a session and, at most once per touch interval, pushes
// its idle expiry forward. Reads between touches write nothing, so a busy
// session costs Redis one read a request and one write a minute. The TTL
// set at a touch is min(idle + interval, exp-now): a session idles out
// between idle and idle + interval after its last use, never before, and
// never outlives its absolute limit, which every read also checks.
//
// KEYS[1] session; ARGV[1] now ms, ARGV[2] idle ms, ARGV[3] interval ms.
var slideScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local exp, seen, rest = string.match(v, '^{"exp":(%d+),"seen":(%d+)(.*)$')
if not exp then return redis.error_reply('malformed session') end
local now = tonumber(ARGV[1])
local left = tonumber(exp) - now
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
if now - tonumber(seen) >= tonumber(ARGV[3]) then
  v = '{"exp":' .. exp .. ',"seen":' .. ARGV[1] .. rest
  redis.call('SET', KEYS[1], v, 'PX', math.min(tonumber(ARGV[2]) + tonumber(ARGV[3]), left))
end
return v
`)

// touchInterval is how often a read rewrites a session: once a minute, or
// a quarter of idle when that is shorter, so a short idle timeout is still
// honoured to within a quarter of itself.
func touchInterval(idle time.Duration) time.Duration {
	return max(min(touchEvery, idle/4), time.Millisecond)
}

// indexScript maintains a user's session index: optionally adds a member,
// removes the given ones and those past their absolute expiry, then sets the
// key's TTL to the latest expiry left so the index never outlives its
// sessions and never expires before them.
//
// KEYS[1] index; ARGV[1] now ms, ARGV[2] member to add or "", ARGV[3] its
// expiry ms, ARGV[4..] members to remove.
var indexScript = redis.NewScript(`
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
end
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
local ttl = math.floor(tonumber(last[2]) - tonumber(ARGV[1]))
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)

func (k *KV) updateIndex(ctx context.Context, userID, add string, exp int64, remove ...string) error {
	args := make([]any, 0, 3+len(remove))
	args = append(args, k.now().UnixMilli(), add, exp)
	for _, r := range remove {
		args = append(args, r)
	}
	return indexScript.Run(ctx, k.client, []string{k.userSessionsKey(userID)}, args...).Err()
}

// CreateSession stores s for at most idle without use and never past
// s.ExpiresAt, and records it in the user's index. Zero Created and LastSeen
// are set to now. store.ErrAlreadyExists if the token hash is in use.
func (k *KV) CreateSession(ctx context.Context, s store.Session, idle time.Duration) error {
	const op = "create session"
	if s.TokenHash == "" || s.UserID == "" {
		return fmt.Errorf("kv: %s: token hash and user id are required", op)
	}
	if err := checkTTL(op, idle); err != nil {
		return err
	}
	now := k.now()
	ttl := min(idle, s.ExpiresAt.Sub(now))
	if ttl <= 0 {
		return fmt.Errorf("kv: %s: session already expired at %s", op, s.ExpiresAt)
	}
	if s.Created.IsZero() {
		s.Created = now
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = now
	}
	rec := record{
		Exp:     s.ExpiresAt.UnixMilli(),
		Seen:    s.LastSeen.UnixMilli(),
		Created: s.Created.UnixMilli(),
		UserID:  s.UserID,
		IP:      s.IP,
		UA:      s.UserAgent,
		Dev:     newDevRec(s.Device),
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("kv: %s: %w", op, err)
	}

	// NX: a hash collision would otherwise hand one user's session to
	// another.
	ok, err := k.client.SetNX(ctx, k.sessionKey(s.TokenHash), raw, ttl).Result()
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return fmt.Errorf("kv: %s: %w", op, store.ErrAlreadyExists)
	}

	// The index is written second, in its own round trip, because the two
	// keys live in different slots and a cluster pipeline gives no order. A
	// session missing from the index would escape "sign out everywhere", so
	// if indexing fails the session is withdrawn. The reverse order is worse:
	// a concurrent UserSessions would prune the not-yet-written session from
	// the index as dangling.
	if err := k.updateIndex(ctx, s.UserID, s.TokenHash, rec.Exp); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = k.client.Del(cctx, k.sessionKey(s.TokenHash)).Err()
		return wrap(op, err)
	}
	if s.Device.ID == "" {
		return nil
	}
	old, err := deviceScript.Run(ctx, k.client, []string{k.userDevicesKey(s.UserID)},
		s.Device.ID, s.TokenHash, rec.Exp, now.UnixMilli()).Text()
	if err != nil {
		// Not the device's session: withdrawn, as when indexing fails.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = k.DeleteSession(cctx, s.TokenHash)
		return wrap(op, err)
	}
	if old != "" && old != s.TokenHash {
		// The device's previous session. Failing here leaves it live beside
		// the new one, so the error is returned: the login is not done.
		if err := k.DeleteSession(ctx, old); err != nil {
			return fmt.Errorf("kv: %s: end the device's previous session: %w", op, err)
		}
	}
	return nil
}

// UpdateSessionDevice rewrites the session's device fields with a
// compare-and-set, retried when a concurrent read slid the session.
func (k *KV) UpdateSessionDevice(ctx context.Context, tokenHash string, fn func(d store.Device) (store.Device, error)) (store.Session, error) {
	const op = "update session device"
	for range 8 {
		raw, err := k.client.Get(ctx, k.sessionKey(tokenHash)).Result()
		if errors.Is(err, redis.Nil) {
			return store.Session{}, fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
		}
		if err != nil {
			return store.Session{}, wrap(op, err)
		}
		var rec record
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return store.Session{}, fmt.Errorf("kv: %s: malformed session: %w", op, err)
		}
		if rec.Exp <= k.now().UnixMilli() {
			return store.Session{}, fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
		}
		cur := rec.Dev.device()
		next, err := fn(cur)
		if err != nil {
			return store.Session{}, err
		}
		next.ID = cur.ID
		if next.ID == "" {
			return store.Session{}, fmt.Errorf("kv: %s: not a device session", op)
		}
		rec.Dev = newDevRec(next)
		b, err := json.Marshal(rec)
		if err != nil {
			return store.Session{}, fmt.Errorf("kv: %s: %w", op, err)
		}
		ok, err := casScript.Run(ctx, k.client, []string{k.sessionKey(tokenHash)}, raw, string(b)).Int()
		if err != nil {
			return store.Session{}, wrap(op, err)
		}
		if ok == 1 {
			return rec.session(tokenHash), nil
		}
	}
	return store.Session{}, fmt.Errorf("kv: %s: session changed under every attempt", op)
}

// Session returns the session and slides its idle expiry (see
// slideScript). LastSeen, and the key, are rewritten at most once a minute.
// store.ErrNotFound if it is missing or expired.
func (k *KV) Session(ctx context.Context, tokenHash string, idle time.Duration) (store.Session, error) {
	const op = "session"
	if err := checkTTL(op, idle); err != nil {
		return store.Session{}, err
	}
	now := k.now().UnixMilli()
	raw, err := slideScript.Run(ctx, k.client, []string{k.sessionKey(tokenHash)},
		now, ms(idle), touchInterval(idle).Milliseconds()).Text()
	if err != nil {
		return store.Session{}, wrap(op, err)
	}
	s, err := decodeSession(tokenHash, raw)
	if err != nil {
		return store.Session{}, fmt.Errorf("kv: %s: %w", op, err)
	}
	return s, nil
}

// DeleteSession removes a session and its index entry. A missing session is
// not an error: signing out twice must succeed.
func (k *KV) DeleteSession(ctx context.Context, tokenHash string) error {
	const op = "delete session"
	raw, err := k.client.GetDel(ctx, k.sessionKey(tokenHash)).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return wrap(op, err)
	}
	s, err := decodeSession(tokenHash, raw)
	if err != nil {
		// The session is gone; its index entry, if any, is pruned as dangling
		// by the next UserSessions.
		return nil
	}
	if err := k.updateIndex(ctx, s.UserID, "", 0, tokenHash); err != nil {
		return wrap(op, err)
	}
	return wrap(op, k.announceSessionsGone(ctx, s.UserID))
}

// announceSessionsGone tells every process's session copy
// (store/usercache) that sessions of userID were deleted: the owner's id on
// the user drop channel, which WatchUserDrops delivers. It comes after the
// delete, so a copy refilled in between reads the deletion.
func (k *KV) announceSessionsGone(ctx context.Context, userID string) error {
	return k.client.Publish(ctx, k.dropChannel(), userID).Err()
}

// UserSessions lists a user's live sessions, oldest first. Index entries
// whose session has expired are removed on the way.
func (k *KV) UserSessions(ctx context.Context, userID string) ([]store.Session, error) {
	const op = "user sessions"
	now := k.now().UnixMilli()
	hashes, err := k.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key:     k.userSessionsKey(userID),
		Start:   "(" + strconv.FormatInt(now, 10),
		Stop:    "+inf",
		ByScore: true,
	}).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(hashes) == 0 {
		return nil, nil
	}

	// Plain GETs, not the sliding script: listing sessions must not keep
	// them alive.
	cmds := make([]*redis.StringCmd, len(hashes))
	_, err = k.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hashes {
			cmds[i] = p.Get(ctx, k.sessionKey(h))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap(op, err)
	}

	var out []store.Session
	var dangling []string
	for i, h := range hashes {
		raw, err := cmds[i].Result()
		if errors.Is(err, redis.Nil) {
			dangling = append(dangling, h)
			continue
		}
		if err != nil {
			return nil, wrap(op, err)
		}
		s, err := decodeSession(h, raw)
		if err != nil || s.UserID != userID {
			dangling = append(dangling, h)
			continue
		}
		out = append(out, s)
	}
	if len(dangling) > 0 {
		// Best effort: the listing is already correct, and a failed prune
		// only leaves entries the next call skips again.
		_ = k.updateIndex(ctx, userID, "", 0, dangling...)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].TokenHash < out[j].TokenHash
	})
	return out, nil
}

// DeleteUserSessions revokes every session of the user except the one whose
// hash is except ("" revokes all) and returns how many existed. A session
// created while this runs may survive it.
func (k *KV) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	const op = "delete user sessions"
	hashes, err := k.client.ZRange(ctx, k.userSessionsKey(userID), 0, -1).Result()
	if err != nil {
		return 0, wrap(op, err)
	}
	var targets []string
	for _, h := range hashes {
		if h != except {
			targets = append(targets, h)
		}
	}
	if len(targets) == 0 {
		return 0, nil
	}

	cmds := make([]*redis.IntCmd, len(targets))
	_, err = k.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range targets {
			cmds[i] = p.Del(ctx, k.sessionKey(h))
		}
		return nil
	})
	if err != nil {
		return 0, wrap(op, err)
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	// Members are removed one by one rather than the key dropped, so a
	// session indexed meanwhile keeps its entry.
	if err := k.updateIndex(ctx, userID, "", 0, targets...); err != nil {
		return n, wrap(op, err)
	}
	return n, wrap(op, k.announceSessionsGone(ctx, userID))
}
