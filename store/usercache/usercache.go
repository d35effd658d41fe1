// Package usercache puts a short-lived copy of each user record in Redis for
// the one hot read that does not need the database's latest word to the
// millisecond: checking who a session belongs to. Without it every session
// check reads the user and its identifiers from SQL, which costs ten times
// the rest of the check.
//
// A copy holds the user (store.User: identifiers, state, role) and its
// profile (store.Profile), because user.auth.check answers with seed 000's
// user object, names and settings included: leaving the profile out would
// put a SQL read back on every check. Records of other namespaces are not
// copied; a namespace whose session check needs one adds it here.
//
// Store wraps a store.Store: every user or profile write through it clears
// the copy (before and after the write), and CachedUser reads through the
// copy.
// cmd/partnergate hands every service and command the wrapped store, never
// the bare one, so no writer can forget the clear. A copy lives at most
// TTL, which bounds how stale it can be when a clear fails or the writer
// cannot reach the servers' Redis (the CLI beside an embedded server).
// Reads that decide permissions (roles) keep calling UserByID, which is
// never cached.
//
// In front of the Redis copy each process keeps its own, already decoded,
// for LocalTTL: a session check then costs no round trip and no JSON decode
// for the user. It is used only while Watch is subscribed to the drops every
// process announces (store.UserSnapshots.WatchUserDrops), so a write through
// any gateway clears it everywhere as it clears the Redis copy; LocalTTL
// bounds it when an announcement is lost between a disconnect and the
// resubscription, after which the whole local copy is dropped.
package usercache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"partnergate/store"
)

// DefaultTTL matches the five seconds within which the design lets changes
// made beside a running server take effect.
const DefaultTTL = 5 * time.Second

// LocalTTL is how long a process trusts its own copy: short, because it is
// the staleness left if a drop announcement is lost.
const LocalTTL = time.Second

// localMax caps the process's copies; past it they are all dropped, which
// costs a Redis read each, not memory without bound.
const localMax = 100_000

// Store is a store.Store whose user writes clear the cached copy.
type Store struct {
	store.Store
	snaps store.UserSnapshots
	ttl   time.Duration
	now   func() time.Time

	mu sync.Mutex
	// live is true while Watch is subscribed; the local copy is neither
	// read nor filled otherwise.
	live bool
	// gen moves on with every drop made or heard and every reset, so a
	// fill that started before one is not stored.
	gen   uint64
	local map[string]localEntry
	// sess is the session copy (sessions.go), by token hash; userSess
	// indexes it by owner, so a user's drop reaches their sessions.
	sess     map[string]sessionEntry
	userSess map[string]map[string]struct{}
}

type localEntry struct {
	user    store.User
	profile store.Profile
	until   time.Time
}

// New wraps s; copies live in k for ttl (DefaultTTL when 0).
func New(s store.Store, k store.UserSnapshots, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{Store: s, snaps: k, ttl: ttl, now: time.Now, local: map[string]localEntry{},
		sess: map[string]sessionEntry{}, userSess: map[string]map[string]struct{}{}}
}

// Watch keeps the process's copy coherent with every process's writes
// until ctx ends, resubscribing after a failure; without it running the
// local copy is not used. It returns ctx's error.
func (s *Store) Watch(ctx context.Context) error {
	for {
		err := s.snaps.WatchUserDrops(ctx, s.dropLocal, s.resetLocal)
		s.mu.Lock()
		s.live = false
		s.gen++
		clear(s.local)
		s.clearSessionsLocked()
		s.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = err // the Redis path serves meanwhile; retry shortly
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) dropLocal(id string) {
	s.mu.Lock()
	s.gen++
	delete(s.local, id)
	s.dropUserSessionsLocked(id)
	s.mu.Unlock()
}

func (s *Store) resetLocal() {
	s.mu.Lock()
	s.gen++
	clear(s.local)
	s.clearSessionsLocked()
	s.live = true
	s.mu.Unlock()
}

// fromLocal returns the process's copy and the generation a fill must
// present.
func (s *Store) fromLocal(id string) (localEntry, bool, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live {
		return localEntry{}, false, s.gen
	}
	e, ok := s.local[id]
	if ok && s.now().Before(e.until) {
		return e, true, s.gen
	}
	return localEntry{}, false, s.gen
}

func (s *Store) fillLocal(id string, u store.User, p store.Profile, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live || s.gen != gen {
		return
	}
	if len(s.local) >= localMax {
		clear(s.local)
	}
	s.local[id] = localEntry{user: u, profile: p, until: s.now().Add(min(LocalTTL, s.ttl))}
}

// entry is what a snapshot holds.
type entry struct {
	User    store.User
	Profile store.Profile
}

// CachedUser returns the user and its profile from their cached copy, or
// reads them from the store and caches them. Use it for showing a user and
// checking their login state, never for permission decisions.
func (s *Store) CachedUser(ctx context.Context, id string) (store.User, store.Profile, error) {
	e, ok, gen := s.fromLocal(id)
	if ok {
		return e.user, e.profile, nil
	}
	u, p, err := s.cachedUser(ctx, id)
	if err == nil {
		s.fillLocal(id, u, p, gen)
	}
	return u, p, err
}

func (s *Store) cachedUser(ctx context.Context, id string) (store.User, store.Profile, error) {
	data, fence, err := s.snaps.UserSnapshot(ctx, id)
	switch {
	case err == nil:
		var c entry
		if jerr := json.Unmarshal(data, &c); jerr == nil && c.User.ID == id {
			return c.User, c.Profile, nil
		}
		// An unreadable copy (an older layout) is replaced below.
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, store.Profile{}, fmt.Errorf("usercache: %w", err)
	}
	// Two reads, not one snapshot: a write between them moved the
	// generation on, so the fill below is refused and the next read starts
	// over.
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return store.User{}, store.Profile{}, err
	}
	p, err := s.Store.Profile(ctx, id)
	if err != nil {
		return store.User{}, store.Profile{}, err
	}
	data, err = json.Marshal(entry{User: u, Profile: p})
	if err != nil {
		return store.User{}, store.Profile{}, fmt.Errorf("usercache: encode user: %w", err)
	}
	// The copy is an optimisation: failing to store it costs the next read
	// a database round trip, not this one its answer.
	_, _ = s.snaps.PutUserSnapshot(ctx, id, data, fence, s.ttl)
	return u, p, nil
}

// clear drops the copy; a failure before a write refuses the write (fail
// closed: the copy could not be kept honest), after it is reported.
func (s *Store) clear(ctx context.Context, id string) error {
	// This process's copy first: its own writes are seen at once even if
	// the announcement never comes back.
	s.dropLocal(id)
	if err := s.snaps.DropUserSnapshot(ctx, id); err != nil {
		return fmt.Errorf("usercache: clear user %s: %w", id, err)
	}
	return nil
}

// around clears the copy, runs write, and clears it again: the first clear
// makes sure a write is never done that could not be cached honestly, the
// second drops a copy that a concurrent read filled from the old row in
// between. If the second fails the write stands and the copy expires
// within the TTL.
func (s *Store) around(ctx context.Context, id string, write func() error) error {
	if err := s.clear(ctx, id); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	_ = s.clear(context.WithoutCancel(ctx), id)
	return nil
}

// UpdateUser implements store.Store.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(u store.User) (store.User, error)) (store.User, error) {
	var out store.User
	err := s.around(ctx, id, func() error {
		var err error
		out, err = s.Store.UpdateUser(ctx, id, fn)
		return err
	})
	return out, err
}

// UpdateProfile implements store.Store.
func (s *Store) UpdateProfile(ctx context.Context, userID string, fn func(p store.Profile) (store.Profile, error)) (store.Profile, error) {
	var out store.Profile
	err := s.around(ctx, userID, func() error {
		var err error
		out, err = s.Store.UpdateProfile(ctx, userID, fn)
		return err
	})
	return out, err
}

// SetUserRole implements store.Store.
func (s *Store) SetUserRole(ctx context.Context, id, role string) error {
	return s.around(ctx, id, func() error { return s.Store.SetUserRole(ctx, id, role) })
}

// DeleteUser implements store.Store.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.around(ctx, id, func() error { return s.Store.DeleteUser(ctx, id) })
}

// SetIdentifier implements store.Store.
func (s *Store) SetIdentifier(ctx context.Context, id store.Identifier) error {
	return s.around(ctx, id.UserID, func() error { return s.Store.SetIdentifier(ctx, id) })
}

// ClaimIdentifier implements store.Store.
func (s *Store) ClaimIdentifier(ctx context.Context, userID, kind string) error {
	return s.around(ctx, userID, func() error { return s.Store.ClaimIdentifier(ctx, userID, kind) })
}
