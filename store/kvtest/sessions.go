package kvtest

import (
	"strings"
	"testing"
	"time"

	"partnergate/store"
)

func testSessionLifecycle(t *testing.T, e *env) {
	ctx := t.Context()
	now := e.clock()
	// The user agent looks like the stored form on purpose: it must come
	// back verbatim, not be parsed as part of the record.
	s := store.Session{TokenHash: "h1", UserID: "u1", IP: "192.0.2.1", UserAgent: `ua "quoted" \ {"exp":1}`,
		ExpiresAt: now.Add(time.Hour)}
	must(t, e.s.CreateSession(ctx, s, 10*time.Minute))
	got, err := e.s.Session(ctx, "h1", 10*time.Minute)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if got.TokenHash != "h1" || got.UserID != "u1" || got.IP != s.IP || got.UserAgent != s.UserAgent ||
		!got.ExpiresAt.Equal(s.ExpiresAt.Truncate(time.Millisecond)) ||
		got.Created.Before(now.Truncate(time.Millisecond)) || got.Created.After(now.Add(time.Second)) ||
		!got.LastSeen.Equal(got.Created) {
		t.Fatalf("Session = %+v, want fields of %+v", got, s)
	}
	if err := e.s.CreateSession(ctx, s, time.Minute); !isAlreadyExists(err) {
		t.Fatalf("duplicate CreateSession = %v, want ErrAlreadyExists", err)
	}
	must(t, e.s.DeleteSession(ctx, "h1"))
	_, err = e.s.Session(ctx, "h1", time.Minute)
	wantNotFound(t, "Session after delete", err)
	if err := e.s.DeleteSession(ctx, "h1"); err != nil {
		t.Fatalf("second DeleteSession = %v, want nil", err)
	}
	_, err = e.s.Session(ctx, "never", time.Minute)
	wantNotFound(t, "Session(never created)", err)

	bad := []struct {
		name string
		s    store.Session
		idle time.Duration
	}{
		{"no hash", store.Session{UserID: "u", ExpiresAt: now.Add(time.Hour)}, time.Minute},
		{"no user", store.Session{TokenHash: "x", ExpiresAt: now.Add(time.Hour)}, time.Minute},
		{"no idle", store.Session{TokenHash: "x", UserID: "u", ExpiresAt: now.Add(time.Hour)}, 0},
		{"expired", store.Session{TokenHash: "x", UserID: "u", ExpiresAt: now.Add(-time.Second)}, time.Minute},
		{"no expiry", store.Session{TokenHash: "x", UserID: "u"}, time.Minute},
	}
	for _, tc := range bad {
		if err := e.s.CreateSession(ctx, tc.s, tc.idle); err == nil {
			t.Errorf("%s: CreateSession succeeded", tc.name)
		}
	}
	if _, err := e.s.Session(ctx, "h1", 0); err == nil {
		t.Error("Session with idle 0 succeeded")
	}
}

func testSessionSliding(t *testing.T, e *env) {
	ctx := t.Context()
	// A real server needs real time: u=100ms keeps the total sleep at 800ms.
	u := 100 * time.Millisecond
	if e.fake {
		u = 10 * time.Minute
	}
	idle := 3 * u
	start := e.clock()
	exp := start.Add(7 * u).Truncate(time.Millisecond)
	for _, h := range []string{"a", "b"} {
		if err := e.s.CreateSession(ctx, store.Session{TokenHash: h, UserID: "u", ExpiresAt: exp}, idle); err != nil {
			t.Fatalf("CreateSession %s: %v", h, err)
		}
	}
	get := func(step string, h string, wantOK bool) store.Session {
		t.Helper()
		s, err := e.s.Session(ctx, h, idle)
		if wantOK && err != nil {
			t.Fatalf("%s: Session(%s) = %v, want it alive", step, h, err)
		}
		if !wantOK && !isNotFound(err) {
			t.Fatalf("%s: Session(%s) = %+v, %v, want ErrNotFound", step, h, s, err)
		}
		return s
	}

	e.advance(2 * u)
	s := get("t=2u", "a", true)
	if e.fake {
		if !s.LastSeen.Equal(start.Add(2 * u)) {
			t.Fatalf("LastSeen = %v, want %v", s.LastSeen, start.Add(2*u))
		}
		e.advance(30 * time.Second)
		if s := get("t=2u+30s", "a", true); !s.LastSeen.Equal(start.Add(2 * u)) {
			t.Fatalf("LastSeen rewritten within a minute: %v", s.LastSeen)
		}
		e.advance(2*u - 30*time.Second)
	} else {
		e.advance(2 * u)
	}
	get("t=4u", "a", true)
	get("t=4u", "b", false) // idle since creation
	e.advance(2 * u)
	get("t=6u", "a", true)
	if e.fake {
		// Only the state's clock passes ExpiresAt: the server still holds
		// the session, yet it must be refused.
		e.skew(u + time.Millisecond)
		get("t=7u+1ms, server expiry lagging", "a", false)
		e.ff(u + time.Millisecond)
		get("t=7u+1ms", "a", false)
		return
	}
	e.advance(2 * u) // well within idle of the last use, past ExpiresAt
	get("t=8u", "a", false)
}

func testUserSessions(t *testing.T, e *env) {
	ctx := t.Context()
	now := e.clock()
	mk := func(h, user string, i int) {
		t.Helper()
		s := store.Session{TokenHash: h, UserID: user, Created: now.Add(time.Duration(i) * time.Second),
			ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Minute)}
		if err := e.s.CreateSession(ctx, s, 30*time.Minute); err != nil {
			t.Fatalf("CreateSession %s: %v", h, err)
		}
	}
	hashes := func(user string) string {
		t.Helper()
		ss, err := e.s.UserSessions(ctx, user)
		if err != nil {
			t.Fatalf("UserSessions(%s): %v", user, err)
		}
		var hs []string
		for _, s := range ss {
			if s.UserID != user {
				t.Fatalf("UserSessions(%s) lists %+v", user, s)
			}
			hs = append(hs, s.TokenHash)
		}
		return strings.Join(hs, ",")
	}
	if got := hashes("nobody"); got != "" {
		t.Fatalf("UserSessions(nobody) = %s", got)
	}
	mk("s3", "u1", 3)
	mk("s1", "u1", 1)
	mk("s2", "u1", 2)
	mk("s4", "u1", 4)
	mk("o1", "u2", 1)
	if got := hashes("u1"); got != "s1,s2,s3,s4" {
		t.Fatalf("UserSessions = %s, want oldest first", got)
	}
	must(t, e.s.DeleteSession(ctx, "s2"))
	if got := hashes("u1"); got != "s1,s3,s4" {
		t.Fatalf("UserSessions after delete = %s", got)
	}
	mk("s5", "u1", 5)
	n, err := e.s.DeleteUserSessions(ctx, "u1", "s4")
	if err != nil || n != 3 {
		t.Fatalf("DeleteUserSessions = %d, %v, want 3", n, err)
	}
	if got := hashes("u1"); got != "s4" {
		t.Fatalf("UserSessions after revoke = %s", got)
	}
	_, err = e.s.Session(ctx, "s1", time.Minute)
	wantNotFound(t, "revoked Session", err)
	if n, err := e.s.DeleteUserSessions(ctx, "u1", ""); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions all = %d, %v, want 1", n, err)
	}
	if got := hashes("u1"); got != "" {
		t.Fatalf("UserSessions after revoking all = %s", got)
	}
	if got := hashes("u2"); got != "o1" {
		t.Fatalf("other user's sessions = %s", got)
	}
	if n, err := e.s.DeleteUserSessions(ctx, "nobody", ""); err != nil || n != 0 {
		t.Fatalf("DeleteUserSessions(nobody) = %d, %v", n, err)
	}

	// Listing does not slide: a session listed but not used still idles out.
	if e.fake {
		idle := 10 * time.Minute
		must(t, e.s.CreateSession(ctx, store.Session{TokenHash: "l1", UserID: "u3", ExpiresAt: now.Add(time.Hour)}, idle))
		e.advance(idle / 2)
		if got := hashes("u3"); got != "l1" {
			t.Fatalf("UserSessions(u3) = %s", got)
		}
		e.advance(idle/2 + time.Millisecond)
		_, err := e.s.Session(ctx, "l1", idle)
		wantNotFound(t, "Session idle past its listing", err)
		if got := hashes("u3"); got != "" {
			t.Fatalf("UserSessions lists an idled-out session: %s", got)
		}
	}
}
