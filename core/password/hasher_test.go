package password

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
)

// Hashes made by alexedwards/argon2id, which made every hash stored before
// this package hashed itself, verify here, and hashes made here verify
// there, with the same PHC string layout.
func TestCompatibleWithAlexedwards(t *testing.T) {
	ctx := t.Context()
	const pw = "glacier-Umbrella-93"
	for _, p := range []Params{cheap, {Memory: 128, Iterations: 3, Parallelism: 2}, {Memory: 100, Iterations: 2, Parallelism: 3}, DefaultParams} {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Iterations, p.Parallelism), func(t *testing.T) {
			h := newHasher(t, p, 2, time.Second)
			ap := &argon2id.Params{Memory: p.Memory, Iterations: p.Iterations, Parallelism: p.Parallelism, SaltLength: 16, KeyLength: 32}

			theirs, err := argon2id.CreateHash(pw, ap)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				pw string
				ok bool
			}{{pw, true}, {pw + "x", false}, {"", false}} {
				ok, rehash, err := h.Verify(ctx, tt.pw, theirs)
				if err != nil || ok != tt.ok || rehash {
					t.Fatalf("Verify(%q, alexedwards hash %q) = %v, %v, %v; want %v, false, nil", tt.pw, theirs, ok, rehash, err, tt.ok)
				}
			}

			ours, err := h.Hash(ctx, pw)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := argon2id.ComparePasswordAndHash(pw, ours); !ok || err != nil {
				t.Fatalf("alexedwards ComparePasswordAndHash(our hash %q) = %v, %v; want true", ours, ok, err)
			}
			if ok, err := argon2id.ComparePasswordAndHash(pw+"x", ours); ok || err != nil {
				t.Fatalf("alexedwards ComparePasswordAndHash(wrong, our hash) = %v, %v; want false", ok, err)
			}
			// Same layout: their decoder gives back our params and lengths,
			// and their encoding of our salt and key is our string.
			dp, salt, key, err := argon2id.DecodeHash(ours)
			if err != nil {
				t.Fatal(err)
			}
			if *dp != *ap {
				t.Fatalf("alexedwards DecodeHash(our hash) params = %+v, want %+v", *dp, *ap)
			}
			want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Iterations, p.Parallelism,
				base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
			if ours != want {
				t.Fatalf("our hash %q, alexedwards layout %q", ours, want)
			}
		})
	}
	t.Run("older params ask for a rehash", func(t *testing.T) {
		h := newHasher(t, cheap, 1, time.Second)
		theirs, err := argon2id.CreateHash(pw, &argon2id.Params{Memory: 256, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32})
		if err != nil {
			t.Fatal(err)
		}
		if ok, rehash, err := h.Verify(ctx, pw, theirs); !ok || !rehash || err != nil {
			t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
		}
	})
}

// A slot's work area is made once and reused; one grown by an old hash
// with more memory is not kept past that hash.
func TestHasherReusesWorkAreas(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, Params{Memory: 256, Iterations: 1, Parallelism: 1}, 1, time.Second)
	first := <-h.free
	if first.Len() != 256 {
		t.Fatalf("first slot's area holds %d blocks, want the dummy hash's 256", first.Len())
	}
	h.free <- first
	const pw = "glacier-Umbrella-93"
	s, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, pw, s); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if m := <-h.free; m != first {
		t.Fatal("the slot's work area was replaced")
	} else {
		h.free <- m
	}
	big, err := argon2id.CreateHash(pw, &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := h.Verify(ctx, pw, big); !ok || !rehash || err != nil {
		t.Fatalf("Verify(bigger hash) = %v, %v, %v", ok, rehash, err)
	}
	if m := <-h.free; m.Len() > 256 {
		t.Fatalf("slot kept a %d-block area after a bigger hash", m.Len())
	} else {
		h.free <- m
	}
	if ok, _, err := h.Verify(ctx, pw, s); !ok || err != nil {
		t.Fatalf("Verify after the bigger hash = %v, %v", ok, err)
	}
}

func TestDecodeHash(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	good := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	p, s, k, err := decodeHash(good)
	if err != nil || p != DefaultParams || string(s) != "saltsaltsaltsalt" || !bytes.HasPrefix(k, []byte("keykey")) {
		t.Fatalf("decodeHash(%q) = %+v, %q, %q, %v", good, p, s, k, err)
	}
	if got := encodeHash(p, s, k); got != good {
		t.Fatalf("encodeHash(decodeHash(%q)) = %q", good, got)
	}
	bad := []struct{ name, hash string }{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{"extra field", good + "$"},
		{"no iterations", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"no lanes", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"256 lanes", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"memory over 32 bits", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"signed", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"trailing param", "$argon2id$v=19$m=19456,t=2,p=1,k=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"url base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "2", "_")},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if p, _, _, err := decodeHash(tt.hash); err == nil {
				t.Fatalf("decodeHash(%q) = %+v, want an error", tt.hash, p)
			}
		})
	}
}

// FuzzDecodeHash holds decodeHash to alexedwards/argon2id's DecodeHash: what
// it accepts, theirs accepts with the same values, and it round-trips; what
// theirs accepts and argon2 can compute, it accepts once written the way
// both encoders write it.
func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=0,t=1,p=255$$AA")
	f.Add("$argon2id$v=019$m=08,t=+1,p=1$AA$AA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1x$AA$AA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		ap, asalt, akey, aerr := argon2id.DecodeHash(s)
		if err == nil {
			if aerr != nil {
				t.Fatalf("decodeHash(%q) accepted what alexedwards refuses: %v", s, aerr)
			}
			if ap.Memory != p.Memory || ap.Iterations != p.Iterations || ap.Parallelism != p.Parallelism || !bytes.Equal(salt, asalt) || !bytes.Equal(key, akey) {
				t.Fatalf("decodeHash(%q) = %+v %x %x, alexedwards %+v %x %x", s, p, salt, key, *ap, asalt, akey)
			}
			if p.Iterations < 1 || p.Parallelism < 1 || len(key) == 0 {
				t.Fatalf("decodeHash(%q) accepted parameters argon2 cannot compute: %+v, key %d bytes", s, p, len(key))
			}
			e := encodeHash(p, salt, key)
			p2, salt2, key2, err := decodeHash(e)
			if err != nil || p2 != p || !bytes.Equal(salt2, salt) || !bytes.Equal(key2, key) {
				t.Fatalf("decodeHash(encodeHash(decodeHash(%q))) = %+v %x %x %v", s, p2, salt2, key2, err)
			}
			return
		}
		if aerr == nil && ap.Iterations >= 1 && ap.Parallelism >= 1 && len(akey) > 0 {
			canonical := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", ap.Memory, ap.Iterations, ap.Parallelism,
				base64.RawStdEncoding.EncodeToString(asalt), base64.RawStdEncoding.EncodeToString(akey))
			if _, _, _, err := decodeHash(canonical); err != nil {
				t.Fatalf("decodeHash(%q) = %v; alexedwards accepts it", canonical, err)
			}
		}
	})
}

// fakeClock advances by step at every reading, so each hash measures step.
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *fakeClock) setStep(d time.Duration) {
	c.mu.Lock()
	c.step = d
	c.mu.Unlock()
}

func newClockedHasher(t *testing.T, slots int, wait, hashTime time.Duration) (*Hasher, *fakeClock) {
	t.Helper()
	c := &fakeClock{now: time.Unix(1e9, 0), step: hashTime}
	h, err := newHasherClock(cheap, slots, wait, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	if h.avg != hashTime {
		t.Fatalf("first estimate %s, want the dummy hash's %s", h.avg, hashTime)
	}
	return h, c
}

// Reserve admits while the callers admitted fit the slots, refuses once the
// callers queued beyond them would wait past the configured wait (queued ÷
// slots × average hash time), and admits again as callers release.
func TestReserve(t *testing.T) {
	tests := []struct {
		name     string
		slots    int
		wait     time.Duration
		hashTime time.Duration
		// admitted is how many consecutive Reserve calls are admitted: one
		// per slot, one more (nobody queued ahead of it), then as many as
		// fit wait × slots ÷ hash time.
		admitted int
	}{
		// Never refused while a slot is free, however slow the hashes.
		{"1 slot, hashes far slower than the wait", 1, time.Millisecond, time.Hour, 1 + 1},
		{"4 slots, hashes far slower than the wait", 4, time.Millisecond, time.Hour, 4 + 1},
		// 1 slot, 25 ms wait: the default overload setting.
		{"1 slot, 40 ms hashes", 1, 25 * time.Millisecond, 40 * time.Millisecond, 2},
		{"1 slot, 20 ms hashes", 1, 25 * time.Millisecond, 20 * time.Millisecond, 3},
		{"1 slot, 5 ms hashes", 1, 25 * time.Millisecond, 5 * time.Millisecond, 7},
		{"2 slots, 20 ms hashes", 2, 25 * time.Millisecond, 20 * time.Millisecond, 2 + 3},
		{"4 slots, 30 ms hashes", 4, 25 * time.Millisecond, 30 * time.Millisecond, 4 + 4},
		// PARTNERGATE_HASH_WAIT=10s (the throughput benchmark): a queue of
		// hundreds is admitted.
		{"4 slots, 30 ms hashes, 10 s wait", 4, 10 * time.Second, 30 * time.Millisecond, 4 + 1 + 1333},
		{"1 slot, 50 ms hashes, 10 s wait", 1, 10 * time.Second, 50 * time.Millisecond, 1 + 1 + 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			h, _ := newClockedHasher(t, tt.slots, tt.wait, tt.hashTime)
			// Every slot busy hashing: the queue estimate decides.
			for range tt.slots {
				defer hold(t, h)()
			}
			var releases []func()
			for i := range tt.admitted {
				release, err := h.Reserve(ctx)
				if err != nil {
					t.Fatalf("Reserve #%d (of %d to admit) = %v", i+1, tt.admitted, err)
				}
				releases = append(releases, release)
			}
			for range 3 {
				_, err := h.Reserve(ctx)
				assertThrottled(t, fmt.Sprintf("Reserve #%d", tt.admitted+1), err)
			}
			// One release makes room for exactly one more.
			releases[0]()
			releases[0]() // a second call does nothing
			release, err := h.Reserve(ctx)
			if err != nil {
				t.Fatalf("Reserve after a release = %v", err)
			}
			_, err = h.Reserve(ctx)
			assertThrottled(t, "Reserve after a release and a reserve", err)
			release()
			for _, r := range releases[1:] {
				r()
			}
			if h.reserved != 0 {
				t.Fatalf("%d reservations left after every release", h.reserved)
			}
			for i := range tt.admitted {
				release, err := h.Reserve(ctx)
				if err != nil {
					t.Fatalf("Reserve #%d after every release = %v", i+1, err)
				}
				defer release()
			}
		})
	}
}

// While a slot is idle nobody is refused, however many callers are admitted
// and still on their store round trips: a slow store must not turn into
// refusals with the hashing capacity unused.
func TestReserveAdmitsWhileASlotIsIdle(t *testing.T) {
	ctx := t.Context()
	h, _ := newClockedHasher(t, 2, time.Millisecond, time.Hour)
	release := hold(t, h) // one slot busy, one idle
	var releases []func()
	for i := range 100 {
		r, err := h.Reserve(ctx)
		if err != nil {
			t.Fatalf("Reserve #%d with a slot idle = %v", i+1, err)
		}
		releases = append(releases, r)
	}
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	defer hold(t, h)() // now both are busy
	_, err := h.Reserve(ctx)
	assertThrottled(t, "Reserve with both slots busy", err)
	release()
}

// The estimate follows the hashes actually timed: faster hashes admit a
// deeper queue, slower ones a shallower one.
func TestReserveAdapts(t *testing.T) {
	ctx := t.Context()
	h, clock := newClockedHasher(t, 1, 25*time.Millisecond, 40*time.Millisecond)
	depth := func() int {
		defer hold(t, h)() // the only slot busy hashing
		var releases []func()
		defer func() {
			for _, r := range releases {
				r()
			}
		}()
		for {
			release, err := h.Reserve(ctx)
			if err != nil {
				assertThrottled(t, "Reserve", err)
				return len(releases)
			}
			releases = append(releases, release)
		}
	}
	if d := depth(); d != 2 {
		t.Fatalf("40 ms hashes: %d admitted, want 2", d)
	}
	clock.setStep(4 * time.Millisecond)
	for range 160 {
		if _, err := h.Hash(ctx, "glacier-Umbrella-93"); err != nil {
			t.Fatal(err)
		}
	}
	if d := depth(); d != 8 {
		t.Fatalf("after many 4 ms hashes (estimate %s): %d admitted, want 8", h.avg, d)
	}
	clock.setStep(time.Second)
	if _, _, err := h.Verify(ctx, "glacier-Umbrella-93", ""); err != nil {
		t.Fatal(err)
	}
	if d := depth(); d != 2 {
		t.Fatalf("after one 1 s verify (estimate %s): %d admitted, want 2", h.avg, d)
	}
}

// A refusal is immediate: with the only slot held and the queue full,
// Reserve neither waits for the slot nor sleeps.
func TestReserveRefusesAtOnce(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, cheap, 1, 25*time.Millisecond)
	h.mu.Lock()
	h.avg = 40 * time.Millisecond // as measured on the default params
	h.mu.Unlock()
	release := hold(t, h)
	defer release()
	var releases []func()
	for {
		r, err := h.Reserve(ctx)
		if err != nil {
			break
		}
		releases = append(releases, r)
	}
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	for range 20 {
		start := time.Now()
		_, err := h.Reserve(ctx)
		d := time.Since(start)
		assertThrottled(t, "Reserve", err)
		if d > 5*time.Millisecond {
			t.Fatalf("refusal took %s", d)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Reserve(cctx); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("Reserve with a cancelled context = %v", err)
	}
}

// Many callers reserving, hashing, verifying and releasing at once: run
// under -race; every admitted caller's hash succeeds (the wait is long) and
// the count returns to zero.
func TestReserveConcurrent(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, cheap, 2, time.Minute)
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for range 4 {
				release, err := h.Reserve(ctx)
				if err != nil {
					refused.Add(1)
					continue
				}
				admitted.Add(1)
				pw := fmt.Sprintf("glacier-Umbrella-%d", i)
				s, err := h.Hash(ctx, pw)
				if err == nil {
					var ok bool
					ok, _, err = h.Verify(ctx, pw, s)
					if !ok && err == nil {
						err = fmt.Errorf("own hash did not verify")
					}
				}
				release()
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if refused.Load() != 0 {
		t.Errorf("%d refusals with a one-minute wait", refused.Load())
	}
	if admitted.Load() != 128 {
		t.Errorf("%d admitted, want 128", admitted.Load())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reserved != 0 {
		t.Fatalf("%d reservations left", h.reserved)
	}
	if len(h.free) != 2 {
		t.Fatalf("%d idle slots at rest, want 2", len(h.free))
	}
}

// A slot's first hash also makes its work area: its time is left out of the
// estimate, which a cold start would otherwise inflate into refusals.
func TestEstimateLeavesOutColdSlots(t *testing.T) {
	ctx := t.Context()
	h, clock := newClockedHasher(t, 2, time.Second, 10*time.Millisecond)
	// The first slot is warm (the dummy hash made its area); hold it so the
	// next hash runs in the second, cold one.
	release := hold(t, h)
	clock.setStep(time.Hour)
	if _, err := h.Hash(ctx, "glacier-Umbrella-93"); err != nil {
		t.Fatal(err)
	}
	release()
	if h.avg != 10*time.Millisecond {
		t.Fatalf("after a cold slot's hour-long first hash the estimate is %s, want 10ms", h.avg)
	}
	// Warm now: its next hash counts.
	for range 2 {
		if _, err := h.Hash(ctx, "glacier-Umbrella-93"); err != nil {
			t.Fatal(err)
		}
	}
	if h.avg <= 10*time.Millisecond {
		t.Fatalf("warm hour-long hashes left the estimate at %s", h.avg)
	}
}
