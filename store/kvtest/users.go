package kvtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"partnergate/store"
)

func testPendingChanges(t *testing.T, e *env) {
	ctx := t.Context()
	pending := func(step, user, kind, wantValue, wantNorm string) {
		t.Helper()
		v, n, err := e.s.Pending(ctx, user, kind)
		if err != nil || v != wantValue || n != wantNorm {
			t.Fatalf("%s: Pending(%s, %s) = %q, %q, %v, want %q, %q", step, user, kind, v, n, err, wantValue, wantNorm)
		}
	}
	pending("none", "u1", "email", "", "")
	must(t, e.s.PutPending(ctx, "u1", "email", "Ann@Example.com", "ann@example.com", time.Minute))
	pending("put", "u1", "email", "Ann@Example.com", "ann@example.com")
	pending("other kind", "u1", "phone", "", "")
	pending("other user", "u2", "email", "", "")
	must(t, e.s.PutPending(ctx, "u1", "email", "Bo@Example.com", "bo@example.com", time.Minute))
	pending("replaced", "u1", "email", "Bo@Example.com", "bo@example.com")
	must(t, e.s.DropPending(ctx, "u1", "email"))
	pending("dropped", "u1", "email", "", "")
	must(t, e.s.DropPending(ctx, "u1", "email"))
	if err := e.s.PutPending(ctx, "u1", "email", "a", "a", 0); err == nil {
		t.Error("PutPending accepted a zero TTL")
	}
	if e.fake {
		must(t, e.s.PutPending(ctx, "u1", "phone", "+1 555", "+1555", time.Minute))
		e.advance(time.Minute)
		pending("expired", "u1", "phone", "", "")
	}
}

func testUserSnapshots(t *testing.T, e *env) {
	ctx := t.Context()
	_, fence, err := e.s.UserSnapshot(ctx, "u1")
	if !isNotFound(err) || fence != "" {
		t.Fatalf("empty UserSnapshot = %q, %v; want no fence, ErrNotFound", fence, err)
	}
	if ok, err := e.s.PutUserSnapshot(ctx, "u1", []byte("v1"), fence, time.Minute); err != nil || !ok {
		t.Fatalf("fill with current fence = %v, %v; want stored", ok, err)
	}
	data, fence, err := e.s.UserSnapshot(ctx, "u1")
	if err != nil || string(data) != "v1" {
		t.Fatalf("UserSnapshot = %q, %v", data, err)
	}
	must(t, e.s.DropUserSnapshot(ctx, "u1"))
	_, _, err = e.s.UserSnapshot(ctx, "u1")
	wantNotFound(t, "UserSnapshot after drop", err)
	// The fence read before the drop no longer fills.
	if ok, err := e.s.PutUserSnapshot(ctx, "u1", []byte("stale"), fence, time.Minute); err != nil || ok {
		t.Fatalf("fill with an old fence = %v, %v; want refused", ok, err)
	}
	_, fence, _ = e.s.UserSnapshot(ctx, "u1")
	if ok, err := e.s.PutUserSnapshot(ctx, "u1", []byte("v2"), fence, time.Minute); err != nil || !ok {
		t.Fatalf("fill with the new fence = %v, %v; want stored", ok, err)
	}
	if data, _, err := e.s.UserSnapshot(ctx, "u1"); err != nil || string(data) != "v2" {
		t.Fatalf("UserSnapshot = %q, %v, want v2", data, err)
	}
	// Another user's writes do not move this user's fence.
	must(t, e.s.DropUserSnapshot(ctx, "u2"))
	if data, _, err := e.s.UserSnapshot(ctx, "u1"); err != nil || string(data) != "v2" {
		t.Fatalf("UserSnapshot(u1) after dropping u2 = %q, %v", data, err)
	}
	if _, err := e.s.PutUserSnapshot(ctx, "u1", []byte("v"), "", 0); err == nil {
		t.Fatal("PutUserSnapshot with TTL 0 succeeded")
	}
	if e.fake {
		e.advance(time.Minute)
		_, _, err := e.s.UserSnapshot(ctx, "u1")
		wantNotFound(t, "UserSnapshot past its TTL", err)
	}
}

// testUserDrops: a drop is announced to watchers, which hear of it after
// their first reset, and the watch ends with its context.
func testUserDrops(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(t.Context())
	resets := make(chan struct{}, 4)
	drops := make(chan string, 4)
	done := make(chan error, 1)
	go func() {
		done <- e.s.WatchUserDrops(ctx, func(id string) { drops <- id }, func() { resets <- struct{}{} })
	}()
	// Generous bounds that only stop a hung test; nothing is timed.
	wait := time.NewTimer(30 * time.Second)
	defer wait.Stop()
	select {
	case <-resets:
	case err := <-done:
		t.Fatalf("WatchUserDrops = %v before subscribing", err)
	case <-wait.C:
		t.Fatal("WatchUserDrops never subscribed")
	}
	must(t, e.s.DropUserSnapshot(t.Context(), "u-drop"))
	select {
	case id := <-drops:
		if id != "u-drop" {
			t.Fatalf("drop announced %q, want u-drop", id)
		}
	case <-wait.C:
		t.Fatal("drop never announced")
	}
	// Deleting sessions announces their owner, so per-process session
	// copies let go of them.
	now := e.clock()
	for _, h := range []string{"h-drop1", "h-drop2"} {
		must(t, e.s.CreateSession(t.Context(), store.Session{TokenHash: h, UserID: "u-sess", ExpiresAt: now.Add(time.Hour)}, time.Hour))
	}
	must(t, e.s.DeleteSession(t.Context(), "h-drop1"))
	if _, err := e.s.DeleteUserSessions(t.Context(), "u-sess", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		select {
		case id := <-drops:
			if id != "u-sess" {
				t.Fatalf("session deletion %d announced %q, want u-sess", i, id)
			}
		case <-wait.C:
			t.Fatalf("session deletion %d never announced", i)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchUserDrops after cancel = %v, want context.Canceled", err)
	}
}
