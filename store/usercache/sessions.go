package usercache

import (
	"context"
	"time"

	"partnergate/store"
)

// Sessions returns k with its session reads served, while Watch is
// subscribed, from this process's copy: a session check then costs no
// Redis round trip for up to LocalTTL per session. Hand it to the service
// that checks sessions (core/accounts); everything but Session,
// DeleteSession and DeleteUserSessions goes straight to k.
//
// The copy stays coherent the way the user copy does. Every session
// deletion in any process (store/kv announces the owner's user id on the
// user drop channel after DeleteSession and DeleteUserSessions) drops the
// owner's copied sessions here; this process's own deletions drop them at
// once. A copy is also never trusted past the session's absolute expiry or
// LastSeen + idle (the earliest its Redis key can idle out), so it never
// answers for a session Redis has already let go. What the copy skips is
// the slide: a session read only from the copy is slid on its next Redis
// read, at most LocalTTL later, and the slide is written at most once a
// minute anyway.
func (s *Store) Sessions(k store.State) store.State { return &sessions{State: k, c: s} }

type sessions struct {
	store.State
	c *Store
}

type sessionEntry struct {
	sess  store.Session
	until time.Time
}

// Session implements store.Sessions.
func (w *sessions) Session(ctx context.Context, tokenHash string, idle time.Duration) (store.Session, error) {
	c := w.c
	c.mu.Lock()
	live, gen := c.live, c.gen
	if live {
		if e, ok := c.sess[tokenHash]; ok && c.now().Before(e.until) {
			c.mu.Unlock()
			return e.sess, nil
		}
	}
	c.mu.Unlock()
	got, err := w.State.Session(ctx, tokenHash, idle)
	if err != nil || !live {
		return got, err
	}
	until := c.now().Add(LocalTTL)
	for _, t := range []time.Time{got.ExpiresAt, got.LastSeen.Add(idle)} {
		if t.Before(until) {
			until = t
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen || !c.now().Before(until) {
		return got, nil
	}
	if len(c.sess) >= localMax {
		c.clearSessionsLocked()
	}
	c.sess[tokenHash] = sessionEntry{sess: got, until: until}
	hs := c.userSess[got.UserID]
	if hs == nil {
		hs = map[string]struct{}{}
		c.userSess[got.UserID] = hs
	}
	hs[tokenHash] = struct{}{}
	return got, nil
}

// DeleteSession implements store.Sessions: the local copy goes before and
// after the delete, so a read racing it in this process cannot put it back.
func (w *sessions) DeleteSession(ctx context.Context, tokenHash string) error {
	w.c.dropSession(tokenHash)
	err := w.State.DeleteSession(ctx, tokenHash)
	w.c.dropSession(tokenHash)
	return err
}

// UpdateSessionDevice implements store.Sessions, dropping the local copy
// before and after, so this process reads the device as written. Another
// process may show the old device fields for the copy's second: they
// grant nothing (a deleted session is announced, see DeleteSession).
func (w *sessions) UpdateSessionDevice(ctx context.Context, tokenHash string, fn func(d store.Device) (store.Device, error)) (store.Session, error) {
	w.c.dropSession(tokenHash)
	ss, err := w.State.UpdateSessionDevice(ctx, tokenHash, fn)
	w.c.dropSession(tokenHash)
	return ss, err
}

// DeleteUserSessions implements store.Sessions, dropping the user's copied
// sessions before and after.
func (w *sessions) DeleteUserSessions(ctx context.Context, userID, except string) (int, error) {
	w.c.dropUserSessions(userID)
	n, err := w.State.DeleteUserSessions(ctx, userID, except)
	w.c.dropUserSessions(userID)
	return n, err
}

func (s *Store) dropSession(tokenHash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if e, ok := s.sess[tokenHash]; ok {
		delete(s.sess, tokenHash)
		if hs := s.userSess[e.sess.UserID]; hs != nil {
			delete(hs, tokenHash)
			if len(hs) == 0 {
				delete(s.userSess, e.sess.UserID)
			}
		}
	}
}

func (s *Store) dropUserSessions(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.dropUserSessionsLocked(userID)
}

func (s *Store) dropUserSessionsLocked(userID string) {
	for h := range s.userSess[userID] {
		delete(s.sess, h)
	}
	delete(s.userSess, userID)
}

func (s *Store) clearSessionsLocked() {
	clear(s.sess)
	clear(s.userSess)
}
