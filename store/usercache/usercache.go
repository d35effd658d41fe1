// Package usercache puts a short-lived copy of each user record in Redis for
// the one hot read that does not need the database's latest word to the
// millisecond: checking who a session belongs to. Without it every session
// check reads the user and its identifiers from SQL, which costs ten times
// the rest of the check.
//
// Store wraps a store.Store: every user write through it clears the copy
// (before and after the write), and CachedUser reads through the copy. A
// copy lives at most TTL, which bounds how stale it can be when a clear
// fails or a write bypasses the wrapper (the CLI's role grant against an
// embedded store). Reads that decide permissions (roles) keep calling
// UserByID, which is never cached.
package usercache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"partnergate/store"
	"partnergate/store/kv"
)

// DefaultTTL matches the five seconds within which the design lets changes
// made beside a running server take effect.
const DefaultTTL = 5 * time.Second

// Store is a store.Store whose user writes clear the cached copy.
type Store struct {
	store.Store
	kv  *kv.KV
	ttl time.Duration
}

// New wraps s; copies live in k for ttl (DefaultTTL when 0).
func New(s store.Store, k *kv.KV, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{Store: s, kv: k, ttl: ttl}
}

// CachedUser returns the user from its cached copy, or reads it from the
// store and caches it. Use it for showing a user and checking their login
// state, never for permission decisions.
func (s *Store) CachedUser(ctx context.Context, id string) (store.User, error) {
	data, fence, err := s.kv.UserSnapshot(ctx, id)
	switch {
	case err == nil:
		var u store.User
		if jerr := json.Unmarshal(data, &u); jerr == nil && u.ID == id {
			return u, nil
		}
		// An unreadable copy (an older layout) is replaced below.
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, fmt.Errorf("usercache: %w", err)
	}
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	data, err = json.Marshal(u)
	if err != nil {
		return store.User{}, fmt.Errorf("usercache: encode user: %w", err)
	}
	// The copy is an optimisation: failing to store it costs the next read
	// a database round trip, not this one its answer.
	_, _ = s.kv.PutUserSnapshot(ctx, id, data, fence, s.ttl)
	return u, nil
}

// clear drops the copy; a failure before a write refuses the write (fail
// closed: the copy could not be kept honest), after it is reported.
func (s *Store) clear(ctx context.Context, id string) error {
	if err := s.kv.DropUserSnapshot(ctx, id); err != nil {
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
