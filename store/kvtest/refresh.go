package kvtest

import (
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"partnergate/store"
)

func testRefreshFamilies(t *testing.T, e *env) {
	ctx := t.Context()
	now := e.clock()
	f := store.RefreshFamily{ID: "f1", UserID: "u1", ExpiresAt: now.Add(time.Hour)}
	must(t, e.s.CreateFamily(ctx, f, "h1"))
	if err := e.s.CreateFamily(ctx, f, "other"); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("CreateFamily twice = %v, want ErrAlreadyExists", err)
	}
	for _, bad := range []store.RefreshFamily{{UserID: "u1", ExpiresAt: now.Add(time.Hour)}, {ID: "x", ExpiresAt: now.Add(time.Hour)}, {ID: "x", UserID: "u1", ExpiresAt: now.Add(-time.Second)}} {
		if err := e.s.CreateFamily(ctx, bad, "h"); err == nil {
			t.Errorf("CreateFamily(%+v) = nil, want an error", bad)
		}
	}

	// An unknown hash, another user's id or family: nothing changes.
	for _, c := range [][3]string{{"u1", "f1", "forged"}, {"u2", "f1", "h1"}, {"u1", "nope", "h1"}} {
		if r, _, err := e.s.RotateRefresh(ctx, c[0], c[1], c[2], "hx"); err != nil || r != store.RotateMissing {
			t.Fatalf("RotateRefresh(%v) = %v, %v, want RotateMissing", c, r, err)
		}
	}
	r, got, err := e.s.RotateRefresh(ctx, "u1", "f1", "h1", "h2")
	if err != nil || r != store.RotateOK || got.ID != "f1" || got.UserID != "u1" ||
		got.ExpiresAt.UnixMilli() != f.ExpiresAt.UnixMilli() {
		t.Fatalf("RotateRefresh = %v, %+v, %v", r, got, err)
	}
	// The replaced token again: the family dies, the current one with it.
	if r, _, err := e.s.RotateRefresh(ctx, "u1", "f1", "h1", "h3"); err != nil || r != store.RotateReused {
		t.Fatalf("reuse = %v, %v, want RotateReused", r, err)
	}
	if r, _, err := e.s.RotateRefresh(ctx, "u1", "f1", "h2", "h3"); err != nil || r != store.RotateMissing {
		t.Fatalf("after reuse = %v, %v, want RotateMissing", r, err)
	}

	// Concurrent rotations of one token: exactly one wins.
	must(t, e.s.CreateFamily(ctx, store.RefreshFamily{ID: "race", UserID: "u1", ExpiresAt: now.Add(time.Hour)}, "r0"))
	var wins, i atomic.Int32
	parallel(t, 20, func() error {
		r, _, err := e.s.RotateRefresh(ctx, "u1", "race", "r0", "r"+strconv.Itoa(int(i.Add(1))))
		if r == store.RotateOK {
			wins.Add(1)
		}
		return err
	})
	if wins.Load() != 1 {
		t.Fatalf("%d rotations won, want 1", wins.Load())
	}
	// The losers presented a replaced token: that is reuse, so the race
	// ends the family, the winner's new token included.
	if ok, err := e.s.DeleteFamily(ctx, "u1", "race"); err != nil || ok {
		t.Fatalf("family after the race: live=%v, %v, want dead", ok, err)
	}

	must(t, e.s.CreateFamily(ctx, store.RefreshFamily{ID: "f2", UserID: "u1", ExpiresAt: now.Add(time.Hour)}, "a"))
	must(t, e.s.CreateFamily(ctx, store.RefreshFamily{ID: "f3", UserID: "u1", ExpiresAt: now.Add(time.Hour)}, "b"))
	ended, err := e.s.DeleteUserFamilies(ctx, "u1", "f3")
	must(t, err)
	slices.Sort(ended)
	if !slices.Equal(ended, []string{"f2"}) {
		t.Fatalf("DeleteUserFamilies ended %v, want [f2]", ended)
	}
	if ok, err := e.s.DeleteFamily(ctx, "u1", "f3"); err != nil || !ok {
		t.Fatalf("DeleteFamily = %v, %v", ok, err)
	}
	if ok, err := e.s.DeleteFamily(ctx, "u1", "f3"); err != nil || ok {
		t.Fatalf("DeleteFamily twice = %v, %v, want false, nil", ok, err)
	}

	// Families expire with their absolute lifetime.
	must(t, e.s.CreateFamily(ctx, store.RefreshFamily{ID: "short", UserID: "u1", ExpiresAt: e.clock().Add(time.Second)}, "s"))
	e.advance(1100 * time.Millisecond)
	if r, _, err := e.s.RotateRefresh(ctx, "u1", "short", "s", "s2"); err != nil || r != store.RotateMissing {
		t.Fatalf("expired family = %v, %v, want RotateMissing", r, err)
	}
}

func testRevocations(t *testing.T, e *env) {
	ctx := t.Context()
	if v, err := e.s.RevocationVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty version = %d, %v", v, err)
	}
	if err := e.s.RevokeSessions(ctx, []string{"a"}, e.clock()); err == nil {
		t.Fatal("RevokeSessions until now = nil, want an error")
	}
	must(t, e.s.RevokeSessions(ctx, []string{"a", "b"}, e.clock().Add(time.Second)))
	v1, err := e.s.RevocationVersion(ctx)
	must(t, err)
	must(t, e.s.RevokeSessions(ctx, []string{"c"}, e.clock().Add(time.Hour)))
	v2, ids, err := e.s.RevokedSessions(ctx)
	must(t, err)
	slices.Sort(ids)
	if v2 <= v1 || !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("RevokedSessions = %d %v, want > %d and [a b c]", v2, ids, v1)
	}
	e.advance(1100 * time.Millisecond)
	if _, ids, _ := e.s.RevokedSessions(ctx); !slices.Equal(ids, []string{"c"}) {
		t.Fatalf("after a and b lapsed: %v, want [c]", ids)
	}
}

func testAccessVersions(t *testing.T, e *env) {
	ctx := t.Context()
	if v, err := e.s.AccessVersion(ctx); err != nil || v != 0 {
		t.Fatalf("fresh access version = %d, %v", v, err)
	}
	v1, err := e.s.BumpAccessVersion(ctx)
	must(t, err)
	v2, err := e.s.BumpAccessVersion(ctx)
	must(t, err)
	got, err := e.s.AccessVersion(ctx)
	must(t, err)
	if v1 == 0 || v2 <= v1 || got != v2 {
		t.Fatalf("bumps %d then %d, read %d", v1, v2, got)
	}
}
