package kvtest

import (
	"sync/atomic"
	"testing"
	"time"
)

func testNonces(t *testing.T, e *env) {
	ctx := t.Context()
	steps := []struct {
		kid, nonce string
		want       bool
	}{
		{"k1", "n1", true},
		{"k1", "n1", false},
		{"k2", "n1", true},
		// The pair must not be joined ambiguously: "k1:n"+"1" is not "k1"+"n1".
		{"k1:n", "1", true},
		{"k1", "n2", true},
	}
	for _, s := range steps {
		got, err := e.s.UseNonce(ctx, s.kid, s.nonce, time.Minute)
		if err != nil || got != s.want {
			t.Fatalf("UseNonce(%s, %s) = %v, %v, want %v", s.kid, s.nonce, got, err, s.want)
		}
	}
	var fresh atomic.Int32
	parallel(t, 20, func() error {
		ok, err := e.s.UseNonce(ctx, "k1", "race", time.Minute)
		if ok {
			fresh.Add(1)
		}
		return err
	})
	if fresh.Load() != 1 {
		t.Fatalf("%d of 20 parallel UseNonce were fresh, want 1", fresh.Load())
	}
	if _, err := e.s.UseNonce(ctx, "k1", "n3", 0); err == nil {
		t.Error("UseNonce accepted a zero TTL")
	}
	if e.fake {
		e.advance(time.Minute + time.Millisecond)
		if ok, _ := e.s.UseNonce(ctx, "k1", "n1", time.Minute); !ok {
			t.Fatal("nonce not fresh again after its TTL")
		}
	}
}

func testFailures(t *testing.T, e *env) {
	ctx := t.Context()
	if f, err := e.s.Failures(ctx, "acct:a"); err != nil || f.Count != 0 || !f.Last.IsZero() {
		t.Fatalf("Failures(none) = %+v, %v", f, err)
	}
	parallel(t, 100, func() error {
		_, err := e.s.AddFailure(ctx, "acct:a", time.Minute)
		return err
	})
	f, err := e.s.Failures(ctx, "acct:a")
	if err != nil || f.Count != 100 {
		t.Fatalf("after 100 parallel AddFailure: %+v, %v", f, err)
	}
	if e.fake && !f.Last.Equal(e.clock()) {
		t.Fatalf("Last = %v, want %v", f.Last, e.clock())
	}
	if f, err := e.s.AddFailure(ctx, "ip:192.0.2.1", time.Minute); err != nil || f.Count != 1 {
		t.Fatalf("AddFailure(ip) = %+v, %v", f, err)
	}
	must(t, e.s.ResetFailures(ctx, "acct:a"))
	if f, _ := e.s.Failures(ctx, "acct:a"); f.Count != 0 {
		t.Fatalf("after reset: %+v", f)
	}
	if f, _ := e.s.Failures(ctx, "ip:192.0.2.1"); f.Count != 1 {
		t.Fatalf("reset cleared another subject: %+v", f)
	}
	must(t, e.s.ResetFailures(ctx, "never"))
	if _, err := e.s.AddFailure(ctx, "x", 0); err == nil {
		t.Error("AddFailure accepted a zero window")
	}
	if e.fake {
		e.advance(50 * time.Second)
		_, _ = e.s.AddFailure(ctx, "ip:192.0.2.1", time.Minute) // restarts the window
		e.advance(50 * time.Second)
		if f, _ := e.s.Failures(ctx, "ip:192.0.2.1"); f.Count != 2 {
			t.Fatalf("window did not restart on failure: %+v", f)
		}
		e.advance(11 * time.Second)
		if f, _ := e.s.Failures(ctx, "ip:192.0.2.1"); f.Count != 0 {
			t.Fatalf("counter outlived its window: %+v", f)
		}
	}
}

func testCounters(t *testing.T, e *env) {
	ctx := t.Context()
	for want := int64(1); want <= 3; want++ {
		if n, err := e.s.Incr(ctx, "cap:x", time.Hour); err != nil || n != want {
			t.Fatalf("Incr = %d, %v, want %d", n, err, want)
		}
	}
	parallel(t, 50, func() error { _, err := e.s.Incr(ctx, "cap:y", time.Hour); return err })
	if n, _ := e.s.Incr(ctx, "cap:y", time.Hour); n != 51 {
		t.Fatalf("after 50 parallel Incr the next is %d, want 51", n)
	}
	if _, err := e.s.Incr(ctx, "cap:z", 0); err == nil {
		t.Error("Incr accepted a zero window")
	}
	if e.fake {
		e.advance(40 * time.Minute)
		if n, _ := e.s.Incr(ctx, "cap:x", time.Hour); n != 4 {
			t.Fatalf("Incr within window = %d, want 4", n)
		}
		e.advance(20*time.Minute + time.Millisecond) // the window is not extended
		if n, _ := e.s.Incr(ctx, "cap:x", time.Hour); n != 1 {
			t.Fatalf("Incr in a new window = %d, want 1", n)
		}
	}
}

func testLimits(t *testing.T, e *env) {
	ctx := t.Context()
	for i := range 3 {
		ok, retry, err := e.s.Allow(ctx, "login:ip", 1, time.Minute, 3)
		if err != nil || !ok || retry != 0 {
			t.Fatalf("call %d: Allow = %v, %v, %v, want allowed", i, ok, retry, err)
		}
	}
	ok, retry, err := e.s.Allow(ctx, "login:ip", 1, time.Minute, 3)
	if err != nil || ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("after burst: Allow = %v, %v, %v, want refused with 0 < retryAfter <= 1m", ok, retry, err)
	}
	if ok, _, _ := e.s.Allow(ctx, "login:other", 1, time.Minute, 3); !ok {
		t.Fatal("separate key was limited")
	}
	for _, bad := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if _, _, err := e.s.Allow(ctx, "k", bad[0], time.Duration(bad[1])*time.Second, bad[2]); err == nil {
			t.Errorf("Allow(%v) accepted invalid limits", bad)
		}
	}
}
