package kvtest

import (
	"sync/atomic"
	"testing"
	"time"

	"partnergate/store"
)

func testCodes(t *testing.T, e *env) {
	ctx := t.Context()
	check := func(step, slot, mac string, want store.CodeResult) {
		t.Helper()
		got, err := e.s.CheckCode(ctx, slot, mac, 3)
		if err != nil || got != want {
			t.Fatalf("%s: CheckCode(%s, %s) = %v, %v, want %v", step, slot, mac, got, err, want)
		}
	}
	has := func(step, slot string, want bool) {
		t.Helper()
		if got, err := e.s.HasCode(ctx, slot); err != nil || got != want {
			t.Fatalf("%s: HasCode(%s) = %v, %v, want %v", step, slot, got, err, want)
		}
	}
	match := func(step, slot, mac string, want bool) {
		t.Helper()
		if got, err := e.s.MatchCode(ctx, slot, mac); err != nil || got != want {
			t.Fatalf("%s: MatchCode(%s, %s) = %v, %v, want %v", step, slot, mac, got, err, want)
		}
	}

	has("none", "s", false)
	match("none", "s", "m1", false)
	check("none", "s", "m1", store.CodeMissing)

	must(t, e.s.PutCode(ctx, "s", "m1", time.Minute))
	has("put", "s", true)
	// Matching neither consumes nor counts: more misses than attempts
	// leave the code usable.
	for range 5 {
		match("put", "s", "wrong", false)
	}
	match("put", "s", "m1", true)
	check("wrong 1", "s", "wrong", store.CodeWrong)
	check("wrong 2", "s", "wrong", store.CodeWrong)
	check("right", "s", "m1", store.CodeOK)
	has("used", "s", false)
	check("reuse", "s", "m1", store.CodeMissing)

	must(t, e.s.PutCode(ctx, "s", "m2", time.Minute))
	check("wrong 1", "s", "x", store.CodeWrong)
	check("wrong 2", "s", "x", store.CodeWrong)
	check("wrong 3", "s", "x", store.CodeVoided)
	has("voided", "s", false)
	check("right after void", "s", "m2", store.CodeMissing)

	// A resend replaces the code and its attempt count.
	must(t, e.s.PutCode(ctx, "s", "m3", time.Minute))
	check("wrong 1", "s", "x", store.CodeWrong)
	check("wrong 2", "s", "x", store.CodeWrong)
	must(t, e.s.PutCode(ctx, "s", "m4", time.Minute))
	check("old code", "s", "m3", store.CodeWrong)
	check("old code again", "s", "m3", store.CodeWrong)
	check("new code", "s", "m4", store.CodeOK)

	// Slots are independent.
	must(t, e.s.PutCode(ctx, "a", "m", time.Minute))
	must(t, e.s.PutCode(ctx, "b", "m", time.Minute))
	check("slot a", "a", "m", store.CodeOK)
	has("slot b", "b", true)

	if err := e.s.PutCode(ctx, "s", "m", 0); err == nil {
		t.Error("PutCode accepted a zero TTL")
	}
	if e.fake {
		must(t, e.s.PutCode(ctx, "t", "m", time.Minute))
		e.advance(time.Minute)
		has("expired", "t", false)
		match("expired", "t", "m", false)
		check("expired", "t", "m", store.CodeMissing)
	}
}

func testCodesConcurrentCheck(t *testing.T, e *env) {
	ctx := t.Context()
	must(t, e.s.PutCode(ctx, "race", "m", time.Minute))
	var ok atomic.Int32
	parallel(t, 20, func() error {
		res, err := e.s.CheckCode(ctx, "race", "m", 5)
		if res == store.CodeOK {
			ok.Add(1)
		}
		return err
	})
	if ok.Load() != 1 {
		t.Fatalf("%d of 20 parallel CheckCode with the right code succeeded, want 1", ok.Load())
	}

	// Of many wrong guesses at once, no more than maxAttempts count before
	// the code is void.
	must(t, e.s.PutCode(ctx, "guess", "m", time.Minute))
	var voided atomic.Int32
	parallel(t, 20, func() error {
		res, err := e.s.CheckCode(ctx, "guess", "x", 5)
		if res == store.CodeVoided {
			voided.Add(1)
		}
		return err
	})
	if voided.Load() != 1 {
		t.Fatalf("%d of 20 parallel wrong CheckCode voided the code, want 1", voided.Load())
	}
	if res, err := e.s.CheckCode(ctx, "guess", "m", 5); err != nil || res != store.CodeMissing {
		t.Fatalf("right code after void = %v, %v, want CodeMissing", res, err)
	}
}

func testHolds(t *testing.T, e *env) {
	ctx := t.Context()
	ok, left, err := e.s.Hold(ctx, "resend:email:a", 90*time.Second)
	if err != nil || !ok || left != 0 {
		t.Fatalf("first Hold = %v, %v, %v, want taken", ok, left, err)
	}
	ok, left, err = e.s.Hold(ctx, "resend:email:a", 90*time.Second)
	if err != nil || ok || left <= 0 || left > 90*time.Second {
		t.Fatalf("second Hold = %v, %v, %v, want refused with 0 < left <= 90s", ok, left, err)
	}
	if ok, _, _ := e.s.Hold(ctx, "resend:email:b", 90*time.Second); !ok {
		t.Fatal("another name was held")
	}
	must(t, e.s.Release(ctx, "resend:email:a"))
	if ok, _, err := e.s.Hold(ctx, "resend:email:a", 90*time.Second); err != nil || !ok {
		t.Fatalf("Hold after Release = %v, %v, want taken", ok, err)
	}
	if err := e.s.Release(ctx, "never"); err != nil {
		t.Fatalf("Release(never held) = %v, want nil", err)
	}
	var taken atomic.Int32
	parallel(t, 20, func() error {
		ok, _, err := e.s.Hold(ctx, "race", time.Minute)
		if ok {
			taken.Add(1)
		}
		return err
	})
	if taken.Load() != 1 {
		t.Fatalf("%d of 20 parallel Hold took it, want 1", taken.Load())
	}
	if _, _, err := e.s.Hold(ctx, "x", 0); err == nil {
		t.Error("Hold accepted a zero TTL")
	}
	if e.fake {
		e.advance(30 * time.Second)
		if _, left, _ := e.s.Hold(ctx, "race", time.Minute); left <= 0 || left > 30*time.Second {
			t.Fatalf("left after 30s of a minute = %v", left)
		}
		e.advance(30 * time.Second)
		if ok, _, _ := e.s.Hold(ctx, "race", time.Minute); !ok {
			t.Fatal("hold not free after its TTL")
		}
	}
}

func testTokens(t *testing.T, e *env) {
	ctx := t.Context()
	must(t, e.s.PutToken(ctx, "verify", "abc", []byte("payload"), time.Minute))
	for range 2 {
		if v, err := e.s.PeekToken(ctx, "verify", "abc"); err != nil || string(v) != "payload" {
			t.Fatalf("PeekToken = %q, %v", v, err)
		}
	}
	_, err := e.s.TakeToken(ctx, "other", "abc")
	wantNotFound(t, "TakeToken under another purpose", err)
	if v, err := e.s.TakeToken(ctx, "verify", "abc"); err != nil || string(v) != "payload" {
		t.Fatalf("TakeToken = %q, %v", v, err)
	}
	_, err = e.s.TakeToken(ctx, "verify", "abc")
	wantNotFound(t, "second TakeToken", err)
	_, err = e.s.PeekToken(ctx, "verify", "abc")
	wantNotFound(t, "PeekToken after take", err)

	must(t, e.s.PutToken(ctx, "verify", "r", []byte("v1"), time.Minute))
	must(t, e.s.PutToken(ctx, "verify", "r", []byte("v2"), time.Minute))
	if v, err := e.s.TakeToken(ctx, "verify", "r"); err != nil || string(v) != "v2" {
		t.Fatalf("TakeToken after replace = %q, %v, want v2", v, err)
	}

	must(t, e.s.PutToken(ctx, "verify", "race", []byte("v"), time.Minute))
	var wins atomic.Int32
	parallel(t, 20, func() error {
		_, err := e.s.TakeToken(ctx, "verify", "race")
		if err == nil {
			wins.Add(1)
			return nil
		}
		if isNotFound(err) {
			return nil
		}
		return err
	})
	if wins.Load() != 1 {
		t.Fatalf("%d of 20 parallel TakeToken succeeded, want 1", wins.Load())
	}
	for _, p := range []string{"", "a:b"} {
		if err := e.s.PutToken(ctx, p, "h", nil, time.Minute); err == nil {
			t.Errorf("PutToken accepted purpose %q", p)
		}
		if _, err := e.s.TakeToken(ctx, p, "h"); err == nil || isNotFound(err) {
			t.Errorf("TakeToken(purpose %q) = %v, want a plain error", p, err)
		}
		if _, err := e.s.PeekToken(ctx, p, "h"); err == nil || isNotFound(err) {
			t.Errorf("PeekToken(purpose %q) = %v, want a plain error", p, err)
		}
	}
	if err := e.s.PutToken(ctx, "verify", "h", nil, 0); err == nil {
		t.Error("PutToken accepted a zero TTL")
	}
	if e.fake {
		must(t, e.s.PutToken(ctx, "reset", "old", []byte("v"), time.Minute))
		e.advance(time.Minute)
		_, err := e.s.PeekToken(ctx, "reset", "old")
		wantNotFound(t, "PeekToken of an expired token", err)
		_, err = e.s.TakeToken(ctx, "reset", "old")
		wantNotFound(t, "TakeToken of an expired token", err)
	}
}
