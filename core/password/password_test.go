package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"partnergate/core/fault"
)

// cheap keeps argon2id fast in tests that are not about cost.
var cheap = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func newHasher(t *testing.T, p Params, slots int, wait time.Duration) *Hasher {
	t.Helper()
	h, err := NewHasher(p, slots, wait)
	if err != nil {
		t.Fatalf("NewHasher(%+v, %d, %s): %v", p, slots, wait, err)
	}
	return h
}

// strong128 is a strong password of exactly 128 code points and more bytes
// (every 'é' is two), so the rule is seen to count code points.
func strong128() string {
	s := strings.Repeat("Kx7#qLm2vR9é", 11)
	r := []rune(s)[:MaxLength]
	return string(r)
}

func TestCheck(t *testing.T) {
	const email = "zebulon.quartzfeld@example.com"
	jamo := strings.Repeat("\u1100\u1161\u11A8", 114) // 1026 bytes, 114 syllables after NFKC
	tests := []struct {
		name   string
		pw     string
		inputs []string
		want   fault.Code // 0: accepted
	}{
		{"empty", "", nil, fault.PasswordTooShort},
		{"7 chars", "Tz8#kq2", nil, fault.PasswordTooShort},
		{"8 strong chars", "Tz8#kq2L", nil, 0},
		{"128 code points", strong128(), nil, 0},
		{"129 code points", strong128() + "Z", nil, fault.PasswordTooLong},
		{"over 1024 bytes", strings.Repeat("a", MaxBytes+1), nil, fault.PasswordTooLong},
		{"over 1024 bytes but 114 code points after NFKC", jamo, nil, fault.PasswordTooLong},
		{"1024 bytes of ascii", strings.Repeat("Kx7#qLm2", 128), nil, fault.PasswordTooLong},
		{"8 code points that NFKC expands past 128", strings.Repeat("\uFDFA", 8), nil, fault.PasswordTooLong},
		{"4 ligatures are 8 code points after NFKC", "\uFB00\uFB00\uFB00\uFB00", nil, fault.PasswordWeak},
		{"common password123", "password123", nil, fault.PasswordWeak},
		{"keyboard walk qwertyui", "qwertyui", nil, fault.PasswordWeak},
		{"email as password without user inputs", email, nil, 0},
		{"email as password", email, []string{email}, fault.PasswordWeak},
		{"email in other case", "Zebulon.Quartzfeld@Example.com", []string{email}, fault.PasswordWeak},
		{"email plus a digit", email + "1", []string{email}, fault.PasswordWeak},
		{"email local part", "zebulon.quartzfeld", []string{email}, fault.PasswordWeak},
		{"local part without the email given", "zebulon.quartzfeld", nil, 0},
		{"l33t common password", "P@ssw0rd123", nil, fault.PasswordWeak},
		{"l33t common password padded to 25", "P@ssw0rd123P@ssw0rd123P@s", nil, fault.PasswordWeak},
		{"128 l33t characters", leetRun(MaxLength), nil, 0},
		{"names", "Zebulon Quartzfeld", []string{email, "Zebulon", "Quartzfeld"}, fault.PasswordWeak},
		{"leading space kept", " glacier-Umbrella-93", nil, 0},
		{"passphrase", "correct horse battery", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.pw, tt.inputs...)
			if got := fault.CodeOf(err); got != tt.want {
				t.Fatalf("Check(%.40q…) = %v (code %d), want code %d", tt.pw, err, got, tt.want)
			}
			if err != nil && fault.CodeOf(err) == 0 {
				t.Fatalf("Check returned an uncoded error: %v", err)
			}
		})
	}
}

// leetRun is n code points cycling through every l33t character zxcvbn
// knows: the input on which its l33t matcher is slowest.
func leetRun(n int) string {
	return strings.Repeat("4@8({[<3691!|7+0$5%2", n/20+1)[:n]
}

// Check runs before any hashing slot is taken, so its cost must stay small
// whatever the input. Unbounded, zxcvbn's l33t matcher spends seconds on
// leetRun(128) (about 8 s without -race); the bound below is generous
// enough for a slow machine under -race and still catches that.
func TestCheckCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	for _, pw := range []string{leetRun(MaxLength), leetRun(leetMaxLength), leetRun(leetMaxLength + 1), strong128()} {
		start := time.Now()
		_ = Check(pw, "zebulon.quartzfeld@example.com", "Zebulon", "Quartzfeld")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Check of %d code points took %s", utf8.RuneCountInString(pw), d)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		equal bool
	}{
		{"precomposed and combining ring", "\u00C5", "A\u030A", true},
		{"compatibility ligature", "\uFB01", "fi", true},
		{"full-width letters", "\uFF21\uFF22", "AB", true},
		{"leading space kept", " passphrase", "passphrase", false},
		{"trailing space kept", "passphrase ", "passphrase", false},
		{"case kept", "Passphrase", "passphrase", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.a) == Normalize(tt.b); got != tt.equal {
				t.Fatalf("Normalize(%q)==Normalize(%q) is %v, want %v", tt.a, tt.b, got, tt.equal)
			}
		})
	}
}

func TestHashVerify(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, cheap, 4, time.Second)
	precomposed := "\u00C5ngstr\u00F6m-Ferry-47"
	decomposed := "A\u030Angstro\u0308m-Ferry-47"
	spaced := " glacier-Umbrella-93"

	hashOf := map[string]string{}
	for _, pw := range []string{precomposed, decomposed, spaced} {
		s, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("Hash = %q, want an argon2id PHC string with the hasher's params", s)
		}
		hashOf[pw] = s
	}
	if hashOf[precomposed] == hashOf[decomposed] {
		t.Fatal("two hashes share a salt")
	}

	tests := []struct {
		name, pw, hash string
		ok             bool
	}{
		{"same password", precomposed, hashOf[precomposed], true},
		{"decomposed verifies precomposed hash", decomposed, hashOf[precomposed], true},
		{"precomposed verifies decomposed hash", precomposed, hashOf[decomposed], true},
		{"with leading space", spaced, hashOf[spaced], true},
		{"space trimmed", strings.TrimSpace(spaced), hashOf[spaced], false},
		{"space added", " " + precomposed, hashOf[precomposed], false},
		{"wrong password", "Angstrom-Ferry-47", hashOf[precomposed], false},
		{"empty hash", precomposed, "", false},
		{"empty password and hash", "", "", false},
		{"oversize password", strings.Repeat("a", MaxBytes+1), hashOf[precomposed], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.pw, tt.hash)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.ok {
				t.Fatalf("Verify ok = %v, want %v", ok, tt.ok)
			}
			if rehash {
				t.Fatal("rehash requested for a hash with the current params")
			}
		})
	}

	t.Run("oversize password matching its own hash", func(t *testing.T) {
		big := strings.Repeat("b", MaxBytes+1)
		s, err := h.Hash(ctx, big)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if ok, _, err := h.Verify(ctx, big, s); ok || err != nil {
			t.Fatalf("Verify(oversize) = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("malformed hash", func(t *testing.T) {
		if ok, _, err := h.Verify(ctx, precomposed, "$argon2id$garbage"); ok || err == nil {
			t.Fatalf("Verify(malformed hash) = %v, %v; want false and an error", ok, err)
		}
	})
}

func TestVerifyRehash(t *testing.T) {
	ctx := t.Context()
	old := newHasher(t, cheap, 1, time.Second)
	const pw = "glacier-Umbrella-93"
	oldHash, err := old.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		p      Params
		rehash bool
	}{
		{"same params", cheap, false},
		{"more memory", Params{Memory: 128, Iterations: 1, Parallelism: 1}, true},
		{"more iterations", Params{Memory: 64, Iterations: 2, Parallelism: 1}, true},
		{"more parallelism", Params{Memory: 64, Iterations: 1, Parallelism: 2}, true},
		{"less memory", Params{Memory: 32, Iterations: 1, Parallelism: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHasher(t, tt.p, 1, time.Second)
			ok, rehash, err := h.Verify(ctx, pw, oldHash)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
			if rehash != tt.rehash {
				t.Fatalf("rehash = %v, want %v", rehash, tt.rehash)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, err := h.Verify(ctx, pw+"x", oldHash); ok || rehash || err != nil {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	if _, err := NewHasher(cheap, 0, time.Second); err == nil {
		t.Fatal("NewHasher with 0 slots succeeded")
	}
	if DefaultParams != (Params{Memory: 19456, Iterations: 2, Parallelism: 1}) {
		t.Fatalf("DefaultParams = %+v, want OWASP's m=19456 t=2 p=1", DefaultParams)
	}
	// This test is about cost: the default hasher really uses the defaults.
	h := newHasher(t, DefaultParams, 1, time.Second)
	s, err := h.Hash(t.Context(), "glacier-Umbrella-93")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default hash = %q", s)
	}
	if salt := strings.Split(s, "$")[4]; len(salt) != 22 { // 16 bytes, raw base64
		t.Fatalf("salt %q is not 16 bytes", salt)
	}
}

// A hasher with one busy slot refuses a concurrent call with fault.Throttled
// once its short wait is over, and serves again once the slot is free.
func TestHasherBoundedConcurrency(t *testing.T) {
	ctx := t.Context()

	t.Run("slot held", func(t *testing.T) {
		h := newHasher(t, cheap, 1, 5*time.Millisecond)
		release := hold(t, h)
		_, err := h.Hash(ctx, "glacier-Umbrella-93")
		assertThrottled(t, "Hash", err)
		_, _, err = h.Verify(ctx, "glacier-Umbrella-93", "")
		assertThrottled(t, "Verify", err)
		release()
		if _, err := h.Hash(ctx, "glacier-Umbrella-93"); err != nil {
			t.Fatalf("Hash after release: %v", err)
		}
	})

	t.Run("slot busy with a real hash", func(t *testing.T) {
		// 64 MiB per hash: one takes tens of milliseconds at least, far
		// longer than the 5 ms wait.
		h := newHasher(t, Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 1}, 1, 5*time.Millisecond)
		done := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, "glacier-Umbrella-93")
			done <- err
		}()
		for len(h.free) != 0 { // wait until the heavy hash holds the slot
			select {
			case err := <-done:
				t.Fatalf("heavy hash finished before it was observed: %v", err)
			default:
				time.Sleep(50 * time.Microsecond)
			}
		}
		_, err := h.Hash(ctx, "another-Password-71")
		assertThrottled(t, "concurrent Hash", err)
		if err := <-done; err != nil {
			t.Fatalf("heavy Hash: %v", err)
		}
	})

	t.Run("many concurrent calls", func(t *testing.T) {
		h := newHasher(t, Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1}, 1, 5*time.Millisecond)
		release := hold(t, h) // every call below must wait
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { _, errs[i] = h.Hash(ctx, "glacier-Umbrella-93") })
		}
		wg.Wait()
		release()
		for i, err := range errs {
			assertThrottled(t, fmt.Sprintf("Hash #%d", i), err)
		}
	})

	t.Run("cancelled while waiting", func(t *testing.T) {
		h := newHasher(t, cheap, 1, time.Minute)
		defer hold(t, h)()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := h.Hash(cctx, "glacier-Umbrella-93")
		if !errors.Is(err, context.Canceled) || fault.CodeOf(err) != 0 {
			t.Fatalf("Hash with cancelled context = %v, want context.Canceled", err)
		}
	})
}

// hold takes one of h's slots until the returned func is called.
func hold(t *testing.T, h *Hasher) (release func()) {
	t.Helper()
	m, err := h.acquire(t.Context())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	return func() { h.releaseSlot(m) }
}

func assertThrottled(t *testing.T, what string, err error) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Throttled {
		t.Fatalf("%s = %v, want fault.Throttled", what, err)
	}
	if fe.RetryAfter <= 0 {
		t.Fatalf("%s: RetryAfter = %s, want > 0", what, fe.RetryAfter)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", "Tz8#kq2", "Tz8#kq2L", "password123", "qwertyui", strong128(), strong128() + "Z",
		"\u00C5ngstr\u00F6m-Ferry-47", "A\u030A", strings.Repeat("\uFDFA", 8), "\uFB00\uFB00\uFB00\uFB00",
		strings.Repeat("\u1100\u1161\u11A8", 114), strings.Repeat("a", MaxBytes+1), "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
	} {
		f.Add(s, "")
	}
	f.Add("zebulon.quartzfeld@example.com", "zebulon.quartzfeld@example.com")
	f.Fuzz(func(t *testing.T, pw, input string) {
		err := Check(pw, input)
		code := fault.CodeOf(err)
		if err != nil && code == 0 {
			t.Fatalf("uncoded error %v", err)
		}
		n := utf8.RuneCountInString(Normalize(pw))
		var want []fault.Code
		switch {
		case len(pw) > MaxBytes:
			want = []fault.Code{fault.PasswordTooLong}
		case n < MinLength:
			want = []fault.Code{fault.PasswordTooShort}
		case n > MaxLength:
			want = []fault.Code{fault.PasswordTooLong}
		default:
			want = []fault.Code{0, fault.PasswordWeak}
		}
		for _, w := range want {
			if code == w {
				return
			}
		}
		t.Fatalf("Check(%q) = %v (code %d, %d bytes, %d code points after NFKC), want one of %v", pw, err, code, len(pw), n, want)
	})
}
