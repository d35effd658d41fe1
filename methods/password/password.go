// Package password hashes and checks passwords: argon2id PHC strings, a bound
// on concurrent hashing so a burst of logins cannot exhaust memory, and the
// policy every password must meet before it is hashed.
package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/nbutton23/zxcvbn-go"
	"github.com/nbutton23/zxcvbn-go/matching"
	"golang.org/x/text/unicode/norm"

	"partnergate/rpc/fault"
)

// Policy limits, in code points after NFKC normalisation, and in bytes before.
const (
	MinLength = 8
	MaxLength = 128
	MaxBytes  = 1024
	// MinScore is the lowest zxcvbn score (0-4) accepted.
	MinScore = 2
)

// Params are argon2id's cost settings.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are OWASP's minimum for argon2id.
var DefaultParams = Params{Memory: 19456, Iterations: 2, Parallelism: 1}

// Hasher hashes and verifies with at most Slots hashes running at once.
type Hasher struct {
	params argon2id.Params
	slots  chan struct{}
	wait   time.Duration
	dummy  string
}

// NewHasher returns a hasher with slots concurrent hashes; a call that cannot
// get a slot within wait is refused with fault.Throttled.
func NewHasher(p Params, slots int, wait time.Duration) (*Hasher, error) {
	if slots < 1 {
		return nil, fmt.Errorf("password: slots must be at least 1, got %d", slots)
	}
	h := &Hasher{
		params: argon2id.Params{Memory: p.Memory, Iterations: p.Iterations, Parallelism: p.Parallelism, SaltLength: 16, KeyLength: 32},
		slots:  make(chan struct{}, slots),
		wait:   wait,
	}
	// The dummy hash has the live parameters so verifying against it costs
	// what a real verify costs: unknown users take as long as known ones.
	d, err := argon2id.CreateHash("partnergate-dummy-password", &h.params)
	if err != nil {
		return nil, fmt.Errorf("password: dummy hash: %w", err)
	}
	h.dummy = d
	return h, nil
}

// acquire takes a hashing slot or refuses once the wait is over.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-t.C:
		return nil, fault.Throttle(time.Second)
	case <-ctx.Done():
		return nil, fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

// Normalize returns the form a password is hashed and verified in: NFKC,
// never trimmed, so "Å" (U+00C5) and "A"+U+030A are the same password.
func Normalize(pw string) string { return norm.NFKC.String(pw) }

// Hash returns the PHC string of pw (normalised here).
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	s, err := argon2id.CreateHash(Normalize(pw), &h.params)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return s, nil
}

// Verify reports whether pw matches hash, and whether hash should be redone
// with the current parameters. An empty hash verifies against the dummy, so
// a caller without a user to check still spends the same time and gets false.
func (h *Hasher) Verify(ctx context.Context, pw, hash string) (ok, rehash bool, err error) {
	if len(pw) > MaxBytes {
		// Never hash unbounded input; still spend a verify's time.
		pw, hash = "", ""
	}
	known := hash != ""
	if !known {
		hash = h.dummy
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	match, p, err := argon2id.CheckHash(Normalize(pw), hash)
	if err != nil {
		return false, false, fmt.Errorf("password: verify: %w", err)
	}
	if !known || !match {
		return false, false, nil
	}
	rehash = p.Memory != h.params.Memory || p.Iterations != h.params.Iterations || p.Parallelism != h.params.Parallelism
	return true, rehash, nil
}

// ErrPolicy is wrapped by every policy refusal.
var ErrPolicy = errors.New("password policy")

// Check applies the policy: 8 to 128 code points after NFKC and at most 1024
// bytes, and a zxcvbn score of at least MinScore given the user's own data
// (email, names), which a password must not merely repeat.
func Check(pw string, userInputs ...string) error {
	if len(pw) > MaxBytes {
		return fault.New(fault.PasswordTooLong)
	}
	n := Normalize(pw)
	switch l := utf8.RuneCountInString(n); {
	case l < MinLength:
		return fault.New(fault.PasswordTooShort)
	case l > MaxLength:
		return fault.New(fault.PasswordTooLong)
	}
	if Score(n, userInputs...) < MinScore {
		return fault.New(fault.PasswordWeak)
	}
	return nil
}

// leetMaxLength bounds zxcvbn's l33t matcher, which re-runs every dictionary
// over each l33t reading of the password: its cost grows with the square of
// the length times the number of readings, seconds of CPU for 128 code points
// full of l33t characters, and Check runs before any hashing slot is taken.
// A longer password is scored whole without it and by its first
// leetMaxLength code points with it, and gets the lower score.
const leetMaxLength = 24

// Score is zxcvbn's 0-4 strength estimate. An email among userInputs also
// counts its local part, which zxcvbn would not otherwise match on its own.
func Score(pw string, userInputs ...string) int {
	inputs := userInputs
	for _, in := range userInputs {
		if at := strings.LastIndexByte(in, '@'); at > 0 {
			inputs = append(inputs[:len(inputs):len(inputs)], in[:at])
		}
	}
	if r := []rune(pw); len(r) > leetMaxLength {
		whole := zxcvbn.PasswordStrength(pw, inputs, matching.FilterL33tMatcher).Score
		head := zxcvbn.PasswordStrength(string(r[:leetMaxLength]), inputs).Score
		return min(whole, head)
	}
	return zxcvbn.PasswordStrength(pw, inputs).Score
}
