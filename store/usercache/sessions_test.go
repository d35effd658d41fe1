package usercache

import (
	"context"
	"errors"
	"testing"
	"time"

	"partnergate/store"
)

// watch runs c.Watch until the test ends and waits until it is subscribed.
func watch(t *testing.T, c *Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for !c.isLive() {
		time.Sleep(time.Millisecond)
	}
}

// TestSessionCopy: two wrappers on one Redis stand for two gateways. A
// session read once is served from the process's copy (a Redis flush is not
// seen) until LocalTTL or the session's own idle or absolute limit, and a
// deletion through either gateway ends the copy: at once in the deleting
// one, by announcement in the other.
func TestSessionCopy(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	other := New(f.raw, f.kv, time.Minute)
	clock := time.Now()
	f.cache.now = func() time.Time { return clock }
	watch(t, f.cache)
	watch(t, other)
	here, there := f.cache.Sessions(f.kv), other.Sessions(f.kv)
	const idle = time.Hour

	create := func(hash, user string, exp time.Time) {
		t.Helper()
		if err := f.kv.CreateSession(ctx, store.Session{TokenHash: hash, UserID: user, ExpiresAt: exp}, idle); err != nil {
			t.Fatal(err)
		}
	}
	read := func(step string, s store.State, hash string, want error) {
		t.Helper()
		got, err := s.Session(ctx, hash, idle)
		if !errors.Is(err, want) || (err == nil && got.TokenHash != hash) {
			t.Fatalf("%s: Session(%s) = %+v, %v, want %v", step, hash, got, err, want)
		}
	}

	tests := []struct {
		name   string
		expire func(hash string) // makes the copy untrusted, or deletes it
		want   error             // a read after expire
	}{
		{"LocalTTL", func(string) { clock = clock.Add(LocalTTL) }, store.ErrNotFound},
		{"own delete", func(h string) {
			if err := here.DeleteSession(ctx, h); err != nil {
				t.Fatal(err)
			}
		}, store.ErrNotFound},
		{"own user delete", func(string) {
			if _, err := here.DeleteUserSessions(ctx, "u-own", ""); err != nil {
				t.Fatal(err)
			}
		}, store.ErrNotFound},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := "h-" + string(rune('a'+i))
			user := "u-" + string(rune('a'+i))
			if tc.name == "own user delete" {
				user = "u-own"
			}
			create(h, user, clock.Add(24*time.Hour))
			read("first", here, h, nil)
			// Gone from Redis behind the copy's back: only the copy answers.
			f.mr.Del("t:sess:" + h)
			read("copy", here, h, nil)
			if tc.name != "LocalTTL" {
				// Recreate it so the deletion below has something to delete
				// (and announce); the copy is still the first read's.
				create(h, user, clock.Add(24*time.Hour))
			}
			tc.expire(h)
			if tc.name == "LocalTTL" {
				read("after "+tc.name, here, h, tc.want)
				return
			}
			f.mr.Del("t:sess:" + h)
			read("after "+tc.name, here, h, tc.want)
		})
	}

	t.Run("absolute expiry bounds the copy", func(t *testing.T) {
		create("h-abs", "u-abs", clock.Add(LocalTTL/2))
		read("first", here, "h-abs", nil)
		f.mr.Del("t:sess:h-abs")
		clock = clock.Add(LocalTTL / 2)
		read("past ExpiresAt", here, "h-abs", store.ErrNotFound)
	})

	t.Run("deletion through the other gateway", func(t *testing.T) {
		create("h-far", "u-far", clock.Add(24*time.Hour))
		read("first", here, "h-far", nil)
		if err := there.DeleteSession(ctx, "h-far"); err != nil {
			t.Fatal(err)
		}
		// Until the announcement lands the copy may answer; it must land,
		// or the test hangs and fails by its deadline.
		for {
			if _, err := here.Session(ctx, "h-far", idle); errors.Is(err, store.ErrNotFound) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	})

	t.Run("not watching: no copy", func(t *testing.T) {
		lone := New(f.raw, f.kv, time.Minute).Sessions(f.kv)
		create("h-lone", "u-lone", clock.Add(24*time.Hour))
		read("first", lone, "h-lone", nil)
		f.mr.Del("t:sess:h-lone")
		read("second", lone, "h-lone", store.ErrNotFound)
	})
}
