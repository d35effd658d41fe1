package kvtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// testDeviceSessions: one live session per (user, device); a new one
// replaces the old, other devices and users are untouched, device fields
// round-trip and can be rewritten without extending the session.
func testDeviceSessions(t *testing.T, e *env) {
	ctx := t.Context()
	now := e.clock()
	idle := 30 * time.Minute
	mk := func(h, user, dev string) {
		t.Helper()
		s := store.Session{TokenHash: h, UserID: user, ExpiresAt: now.Add(time.Hour),
			Device: store.Device{ID: dev, Name: "phone " + h, Model: "model", PushToken: "apns:" + h}}
		if err := e.s.CreateSession(ctx, s, idle); err != nil {
			t.Fatalf("CreateSession %s: %v", h, err)
		}
	}
	alive := func(h string) bool {
		t.Helper()
		_, err := e.s.Session(ctx, h, idle)
		if err != nil && !isNotFound(err) {
			t.Fatalf("Session(%s): %v", h, err)
		}
		return err == nil
	}
	mk("d1", "u1", "phone")
	mk("d2", "u1", "laptop")
	mk("o1", "u2", "phone") // same device id, another user
	got, err := e.s.Session(ctx, "d1", idle)
	if err != nil {
		t.Fatalf("Session(d1): %v", err)
	}
	if want := (store.Device{ID: "phone", Name: "phone d1", Model: "model", PushToken: "apns:d1"}); got.Device != want {
		t.Fatalf("Device = %+v, want %+v", got.Device, want)
	}
	mk("d3", "u1", "phone")
	if alive("d1") {
		t.Fatal("the device's previous session survived a new one")
	}
	if !alive("d2") || !alive("d3") || !alive("o1") {
		t.Fatal("a session of another device or user was ended")
	}
	ss, err := e.s.UserSessions(ctx, "u1")
	if err != nil || len(ss) != 2 {
		t.Fatalf("UserSessions = %+v, %v, want d2 and d3", ss, err)
	}
	// Sessions without a device never replace one another.
	for _, h := range []string{"p1", "p2"} {
		must(t, e.s.CreateSession(ctx, store.Session{TokenHash: h, UserID: "u1", ExpiresAt: now.Add(time.Hour)}, idle))
	}
	if !alive("p1") || !alive("p2") || !alive("d3") {
		t.Fatal("a session without a device replaced another")
	}

	// Rewriting the device keeps its id, the expiry and the session's TTL.
	before, _ := e.s.Session(ctx, "d3", idle)
	s, err := e.s.UpdateSessionDevice(ctx, "d3", func(d store.Device) (store.Device, error) {
		d.ID, d.Name, d.PushToken = "changed", "My laptop", ""
		return d, nil
	})
	if err != nil {
		t.Fatalf("UpdateSessionDevice: %v", err)
	}
	if s.Device != (store.Device{ID: "phone", Name: "My laptop", Model: "model"}) || !s.ExpiresAt.Equal(before.ExpiresAt) {
		t.Fatalf("UpdateSessionDevice = %+v", s)
	}
	if got, _ := e.s.Session(ctx, "d3", idle); got.Device != s.Device {
		t.Fatalf("stored device = %+v, want %+v", got.Device, s.Device)
	}
	boom := errors.New("refused")
	if _, err := e.s.UpdateSessionDevice(ctx, "d3", func(d store.Device) (store.Device, error) {
		d.Name = "never"
		return d, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateSessionDevice with a failing fn = %v", err)
	}
	if got, _ := e.s.Session(ctx, "d3", idle); got.Device.Name != "My laptop" {
		t.Fatalf("a refused update was written: %+v", got.Device)
	}
	_, err = e.s.UpdateSessionDevice(ctx, "gone", func(d store.Device) (store.Device, error) { return d, nil })
	wantNotFound(t, "UpdateSessionDevice(gone)", err)
	if _, err := e.s.UpdateSessionDevice(ctx, "p1", func(d store.Device) (store.Device, error) { return d, nil }); err == nil {
		t.Fatal("UpdateSessionDevice on a session without a device succeeded")
	}

	// After its session is deleted, a device can log in again.
	must(t, e.s.DeleteSession(ctx, "d3"))
	mk("d4", "u1", "phone")
	if !alive("d4") {
		t.Fatal("a device could not log in after logging out")
	}
}

// testDeviceSessionsConcurrent: of 20 concurrent logins from one device,
// exactly one session is left.
func testDeviceSessionsConcurrent(t *testing.T, e *env) {
	ctx := t.Context()
	now := e.clock()
	idle := 30 * time.Minute
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := store.Session{TokenHash: fmt.Sprintf("c%02d", i), UserID: "u1", ExpiresAt: now.Add(time.Hour),
				Device: store.Device{ID: "phone"}}
			errs <- e.s.CreateSession(ctx, s, idle)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	live := 0
	for i := range n {
		if _, err := e.s.Session(ctx, fmt.Sprintf("c%02d", i), idle); err == nil {
			live++
		} else if !isNotFound(err) {
			t.Fatal(err)
		}
	}
	if live != 1 {
		t.Fatalf("%d live sessions for one device after %d concurrent logins, want 1", live, n)
	}
	ss, err := e.s.UserSessions(ctx, "u1")
	if err != nil || len(ss) != 1 {
		t.Fatalf("UserSessions = %d, %v, want 1", len(ss), err)
	}
}
