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
package usercache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"partnergate/store"
)

// DefaultTTL matches the five seconds within which the design lets changes
// made beside a running server take effect.
const DefaultTTL = 5 * time.Second

// Store is a store.Store whose user writes clear the cached copy.
type Store struct {
	store.Store
	snaps store.UserSnapshots
	ttl   time.Duration
}

// New wraps s; copies live in k for ttl (DefaultTTL when 0).
func New(s store.Store, k store.UserSnapshots, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{Store: s, snaps: k, ttl: ttl}
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
