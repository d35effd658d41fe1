package store

import (
	"context"
	"time"
)

// The short-lived state contract: sessions, codes, holds, tokens, counters,
// nonces, limits, pending changes and user snapshots. store/kv implements it
// on Redis (miniredis when embedded) and store/kvtest is the suite every
// implementation passes. The interfaces are small so that each core package
// asks for only what it uses; State is their union, for wiring and tests.
//
// Every method may return an error wrapping ErrUnavailable when the backend
// cannot be reached or cannot serve; callers fail closed on it. Arguments a
// caller should never pass (a non-positive TTL, an empty key part) give a
// plain error that wraps no sentinel. Every entry is written with a TTL:
// this state is disposable and never accumulates.

// Session is one signed-in browser or device. TokenHash is the hex SHA-256 of
// the session token: the token itself is never stored, so a dump of the
// state cannot be replayed.
type Session struct {
	TokenHash string
	UserID    string
	IP        string
	UserAgent string
	Created   time.Time
	LastSeen  time.Time
	// ExpiresAt is the absolute end of the session; sliding never passes it.
	ExpiresAt time.Time
}

// Sessions keeps sessions by token hash, with a per-user index for listing
// and revoking.
type Sessions interface {
	// CreateSession stores s for at most idle without use and never past
	// s.ExpiresAt, and records it in the user's index. Zero Created and
	// LastSeen are set to now. ErrAlreadyExists if the token hash is in use;
	// a plain error if the hash or user id is empty, idle is not positive or
	// s has already expired.
	CreateSession(ctx context.Context, s Session, idle time.Duration) error
	// Session returns the session and slides its idle expiry: a read
	// rewrites it (LastSeen and the TTL, up to ExpiresAt) at most once a
	// minute, or a quarter of idle when shorter, so a session ends between
	// idle and idle plus that interval after its last use.
	// ErrNotFound if it is missing or expired.
	Session(ctx context.Context, tokenHash string, idle time.Duration) (Session, error)
	// DeleteSession removes a session and its index entry. A missing session
	// is not an error: signing out twice must succeed.
	DeleteSession(ctx context.Context, tokenHash string) error
	// UserSessions lists a user's live sessions, oldest first, without
	// sliding them; none is an empty list, not ErrNotFound.
	UserSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteUserSessions revokes every session of the user except the one
	// whose hash is except ("" revokes all) and returns how many existed. A
	// session created while it runs may survive it. No sessions is 0, nil.
	DeleteUserSessions(ctx context.Context, userID, except string) (int, error)
}

// CodeResult is the outcome of Codes.CheckCode.
type CodeResult int

const (
	CodeMissing CodeResult = iota // no live code (never sent, expired, used or voided)
	CodeOK                        // matched and consumed
	CodeWrong                     // did not match; attempts remain
	CodeVoided                    // did not match and this was the last attempt
)

// Codes keeps verification codes as MACs with an attempt count, one live
// code per slot. Checking and consuming are one step, so of many concurrent
// submissions of the right code exactly one succeeds.
type Codes interface {
	// PutCode stores a code's MAC under slot for ttl, replacing any earlier
	// code (a resend voids the previous one). A plain error if ttl is not
	// positive.
	PutCode(ctx context.Context, slot, mac string, ttl time.Duration) error
	// CheckCode compares mac with the stored one and consumes the code on a
	// match; maxAttempts wrong tries void it. A missing code is CodeMissing,
	// not an error.
	CheckCode(ctx context.Context, slot, mac string, maxAttempts int) (CodeResult, error)
	// HasCode reports whether a live code exists under slot.
	HasCode(ctx context.Context, slot string) (bool, error)
	// MatchCode reports whether mac is the live code's, without consuming it
	// or counting a try: for picking which of several pending codes a
	// submission is meant for. The caller must then CheckCode the match, or
	// count a try. A missing code is false, not an error.
	MatchCode(ctx context.Context, slot, mac string) (bool, error)
}

// Holds are named locks that expire: the 90-second resend rule is one hold
// per (purpose, target).
type Holds interface {
	// Hold takes the named hold for ttl if nobody holds it. When it is
	// already held, ok is false and left (at least 1ms) says how long until
	// it frees. A plain error if ttl is not positive.
	Hold(ctx context.Context, name string, ttl time.Duration) (ok bool, left time.Duration, err error)
	// Release frees a hold early (when the send it guarded failed); a hold
	// nobody has is not an error.
	Release(ctx context.Context, name string) error
}

// Tokens keeps single-use values under the hash of a token or code, in a
// namespace per purpose.
type Tokens interface {
	// PutToken stores value under (purpose, hash) for ttl, replacing any
	// previous one. A plain error if purpose is empty or holds ':', or ttl
	// is not positive.
	PutToken(ctx context.Context, purpose, hash string, value []byte, ttl time.Duration) error
	// TakeToken returns the value and deletes it in one step, so of
	// concurrent takes exactly one succeeds. ErrNotFound if missing,
	// expired or taken; a plain error for an invalid purpose.
	TakeToken(ctx context.Context, purpose, hash string) ([]byte, error)
	// PeekToken returns the value without consuming it. ErrNotFound if
	// missing, expired or taken; a plain error for an invalid purpose.
	PeekToken(ctx context.Context, purpose, hash string) ([]byte, error)
}

// Counters are fixed-window counters, for caps such as sends per day.
type Counters interface {
	// Incr adds one to the counter and returns the new value. The window
	// starts at the first increment and is not extended by later ones. A
	// plain error if window is not positive.
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Failures is a login failure counter.
type Failures struct {
	Count int64
	Last  time.Time
}

// FailureCounters count login failures per subject (an account, an IP).
type FailureCounters interface {
	// Failures returns the subject's counter; the zero Failures, not
	// ErrNotFound, if there is none.
	Failures(ctx context.Context, subject string) (Failures, error)
	// AddFailure counts one failure and restarts the subject's window, so
	// the counter clears only after window without failures. Concurrent
	// calls are never lost. A plain error if window is not positive.
	AddFailure(ctx context.Context, subject string, window time.Duration) (Failures, error)
	// ResetFailures clears the subject's counter, e.g. after a successful
	// login; no counter is not an error.
	ResetFailures(ctx context.Context, subject string) error
}

// Nonces remember partner request nonces so a signed call cannot be replayed.
type Nonces interface {
	// UseNonce records nonce for the key kid for ttl. fresh is true only for
	// the first use of the pair; a replay within ttl gets false. A plain
	// error if ttl is not positive.
	UseNonce(ctx context.Context, kid, nonce string, ttl time.Duration) (fresh bool, err error)
}

// Limits are rate limiters shared by every process.
type Limits interface {
	// Allow takes one event from a GCRA limiter allowing rate events per
	// period with bursts of up to burst. When refused, retryAfter (at least
	// 1ms) says when the next event would pass. A plain error if rate, per
	// or burst is not positive.
	Allow(ctx context.Context, key string, rate int, per time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error)
}

// PendingChanges hold a user's new identifier beside its code until the user
// confirms it; the old identifier stays in force meanwhile.
type PendingChanges interface {
	// PutPending holds a new value (display form and normalised form) of
	// kind for ttl, replacing any earlier one. A plain error if ttl is not
	// positive.
	PutPending(ctx context.Context, userID, kind, value, norm string, ttl time.Duration) error
	// Pending returns the held value, or empty strings (not ErrNotFound)
	// when none is held.
	Pending(ctx context.Context, userID, kind string) (value, norm string, err error)
	// DropPending forgets a held value; none held is not an error.
	DropPending(ctx context.Context, userID, kind string) error
}

// UserSnapshots keep a short-lived copy of a user record, fenced by a
// generation that every write to the user moves on: a reader notes the
// fence before it reads the database and may store what it read only if the
// fence has not moved, so a read that raced a write never puts the old
// record back.
type UserSnapshots interface {
	// UserSnapshot returns the cached copy and the fence a later
	// PutUserSnapshot must present. ErrNotFound, with the fence, when no
	// copy is cached.
	UserSnapshot(ctx context.Context, userID string) (data []byte, fence string, err error)
	// PutUserSnapshot caches data for ttl unless the user was written since
	// fence was read; stored reports which. A plain error if ttl is not
	// positive.
	PutUserSnapshot(ctx context.Context, userID string, data []byte, fence string, ttl time.Duration) (stored bool, err error)
	// DropUserSnapshot clears the cached copy and moves the fence on, so
	// fills by readers that started before it are refused, and announces
	// the drop to WatchUserDrops in every process.
	DropUserSnapshot(ctx context.Context, userID string) error
	// WatchUserDrops calls drop with the user id of each DropUserSnapshot
	// made by any process sharing this state, and reset whenever drops may
	// have been missed (once subscribed, and after each reconnect), until
	// ctx ends. It returns ctx's error, or an error if it cannot subscribe.
	WatchUserDrops(ctx context.Context, drop func(userID string), reset func()) error
}

// State is all of the short-lived state: what a backend implements and the
// suite tests. Core packages ask for the smaller interfaces.
type State interface {
	Sessions
	Codes
	Holds
	Tokens
	Counters
	FailureCounters
	Nonces
	Limits
	PendingChanges
	UserSnapshots
	RefreshFamilies
	Revocations
	AccessVersions
}

// RefreshFamily is one chain of rotating refresh tokens (core/tokens): a
// login starts it, each refresh replaces its current token, and reusing a
// replaced token ends it (RFC 9700 4.14). Its ID is the session id the
// access JWTs carry as sid.
type RefreshFamily struct {
	ID        string
	UserID    string
	Created   time.Time
	ExpiresAt time.Time
}

// RotateResult is the outcome of RefreshFamilies.RotateRefresh.
type RotateResult int

const (
	RotateMissing RotateResult = iota // no live family, or a hash it never had
	RotateOK                          // the presented hash was current and is replaced
	RotateReused                      // the presented hash was replaced earlier: the family is deleted
)

// RefreshFamilies keep refresh-token families by user and family id, token
// hashes only. Every key of a user's families shares the user's hash tag,
// so each operation is one slot on Redis Cluster.
type RefreshFamilies interface {
	// CreateFamily stores f with tokenHash as its current token until
	// f.ExpiresAt. ErrAlreadyExists if the id is in use; a plain error for
	// an empty id, user or hash, or an f already expired.
	CreateFamily(ctx context.Context, f RefreshFamily, tokenHash string) error
	// RotateRefresh replaces the family's current hash presented with next
	// in one step, so of concurrent rotations of one token exactly one is
	// RotateOK. A presented hash the family had before is RotateReused and
	// deletes the family; an unknown hash changes nothing.
	RotateRefresh(ctx context.Context, userID, familyID, presented, next string) (RotateResult, RefreshFamily, error)
	// DeleteFamily ends one family; a missing one is false, nil.
	DeleteFamily(ctx context.Context, userID, familyID string) (bool, error)
	// DeleteUserFamilies ends every family of the user but except ("" ends
	// all) and returns the ids it ended.
	DeleteUserFamilies(ctx context.Context, userID, except string) ([]string, error)
}

// Revocations is the shared list of ended session ids whose access JWTs
// must stop working before they expire. Each gateway keeps a copy in
// memory and reloads it when the version moves.
type Revocations interface {
	// RevokeSessions adds ids to the list until until (past the last JWT
	// they could carry) and moves the version on. A plain error if until is
	// not in the future.
	RevokeSessions(ctx context.Context, ids []string, until time.Time) error
	// RevocationVersion returns the list's version; 0 when nothing was ever
	// revoked.
	RevocationVersion(ctx context.Context) (int64, error)
	// RevokedSessions returns the live ids and the version they are of.
	RevokedSessions(ctx context.Context) (version int64, ids []string, err error)
}

// AccessVersions is the version of the roles, permissions and restrictions
// every gateway holds in memory: a change to them moves it on, and each
// gateway reloads them when it sees it move (core/access).
type AccessVersions interface {
	// AccessVersion returns the version; 0 when it was never moved.
	AccessVersion(ctx context.Context) (int64, error)
	// BumpAccessVersion moves the version on and returns the new one.
	BumpAccessVersion(ctx context.Context) (int64, error)
}
