// Package password hashes and checks passwords: argon2id PHC strings, a bound
// on concurrent hashing so a burst of logins cannot exhaust memory, and the
// policy every password must meet before it is hashed.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nbutton23/zxcvbn-go"
	"github.com/nbutton23/zxcvbn-go/matching"
	"golang.org/x/text/unicode/norm"

	"partnergate/core/fault"
	"partnergate/internal/argon2"
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

// Salt and key lengths of every hash made here (alexedwards/argon2id's
// defaults, which made the hashes stored before this package hashed itself).
const (
	saltLength = 16
	keyLength  = 32
)

// Hasher hashes and verifies with at most Slots hashes running at once.
//
// Each slot owns an argon2 work area (Params.Memory KiB), made on the slot's
// first hash and reused by every later one for the life of the process: a
// burst of logins holds slots × Memory KiB, not one fresh area per hash left
// to the garbage collector.
//
// Reserve admits a caller before it does any other work for a hash and
// refuses at once when the hashes already admitted would keep it waiting
// longer than the configured wait.
type Hasher struct {
	params Params
	blocks int // work-area blocks the live params use; a slot keeps no more
	// free holds one work area per idle slot: a hash takes one out and puts
	// it back, so len(free) is the number of idle slots.
	free  chan *argon2.Memory
	slots int
	wait  time.Duration
	dummy string
	now   func() time.Time

	mu       sync.Mutex
	reserved int           // Reserve calls admitted and not yet released
	avg      time.Duration // moving average of recent hash durations
}

// NewHasher returns a hasher with slots concurrent hashes; a call that cannot
// get a slot within wait is refused with fault.Throttled.
func NewHasher(p Params, slots int, wait time.Duration) (*Hasher, error) {
	return newHasherClock(p, slots, wait, time.Now)
}

func newHasherClock(p Params, slots int, wait time.Duration, now func() time.Time) (*Hasher, error) {
	if slots < 1 {
		return nil, fmt.Errorf("password: slots must be at least 1, got %d", slots)
	}
	if p.Iterations < 1 || p.Parallelism < 1 {
		return nil, fmt.Errorf("password: iterations and parallelism must be at least 1, got %+v", p)
	}
	h := &Hasher{params: p, free: make(chan *argon2.Memory, slots), slots: slots, wait: wait, now: now}
	// The dummy hash has the live parameters so verifying against it costs
	// what a real verify costs: unknown users take as long as known ones.
	// Its work area becomes the first slot's (it is already made and
	// touched); the other slots make theirs on first use. The first
	// estimate of a hash's duration is a second, warm run in that area: the
	// first one also paid for making the area (19 MiB of page faults), which
	// no later hash pays, and an estimate that high refuses the first
	// burst of logins after a start.
	m := new(argon2.Memory)
	salt := make([]byte, saltLength)
	rand.Read(salt)
	key := m.IDKey([]byte("partnergate-dummy-password"), salt, p.Iterations, p.Memory, p.Parallelism, keyLength)
	start := now()
	m.IDKey([]byte("partnergate-dummy-password"), salt, p.Iterations, p.Memory, p.Parallelism, keyLength)
	h.avg = max(now().Sub(start), 0)
	h.dummy = encodeHash(p, salt, key)
	h.blocks = m.Len()
	h.free <- m
	for range slots - 1 {
		h.free <- new(argon2.Memory)
	}
	return h, nil
}

// acquire takes a hashing slot, and its work area, or refuses once the wait
// is over. The caller gives the area back with releaseSlot.
func (h *Hasher) acquire(ctx context.Context) (*argon2.Memory, error) {
	select {
	case m := <-h.free:
		return m, nil
	default:
	}
	// Reserve already refused whoever was expected to wait past h.wait;
	// this cap only catches an estimate gone wrong (the machine slowed
	// after admission), so it is twice the bound, not the bound.
	t := time.NewTimer(2 * h.wait)
	defer t.Stop()
	select {
	case m := <-h.free:
		return m, nil
	case <-t.C:
		return nil, fault.Throttle(time.Second)
	case <-ctx.Done():
		return nil, fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

// releaseSlot gives a slot back. A work area grown past the live params
// (verifying an old hash made with more memory) is dropped for a new one,
// made on next use, so the slots never hold more than slots × Memory KiB
// for long.
func (h *Hasher) releaseSlot(m *argon2.Memory) {
	if m.Len() > h.blocks {
		m.Free()
	}
	h.free <- m
}

// derive computes the argon2id key of the normalised pw in a slot and
// records how long it took.
func (h *Hasher) derive(ctx context.Context, pw string, salt []byte, p Params, keyLen uint32) ([]byte, error) {
	m, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer h.releaseSlot(m)
	// A slot's first hash (or the first after its area was dropped) also
	// makes the area; its duration says nothing about the next hashes', so
	// it is left out of the estimate.
	warm := m.Len() >= h.blocks
	start := h.now()
	key := m.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	if warm {
		h.observe(h.now().Sub(start))
	}
	return key, nil
}

// ewmaWeight is the weight of the newest duration in the moving average:
// 1/16, so the estimate follows a change of machine load within tens of
// hashes, and a handful of slow ones (the first hashes of a burst, sharing
// the cores with its requests' store round trips) does not turn a burst
// that will be served within the bound into refusals.
const ewmaWeight = 16

// observe folds one hash's duration into the moving average.
func (h *Hasher) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.mu.Lock()
	h.avg += (d - h.avg) / ewmaWeight
	h.mu.Unlock()
}

// Reserve admits a caller that is about to hash (a login or a registration)
// before it does any other work for it, such as store round trips, so an
// overloaded gateway refuses in microseconds rather than after that work and
// the whole slot wait. It refuses with fault.Throttled when the callers
// already admitted and not released, beyond one per slot, would take longer
// to hash than the configured wait (each of them, divided by slots, costs
// the recent average hash time). It never refuses while a slot is idle or
// while no more callers are admitted than there are slots; with a long wait
// it practically never refuses. An admitted caller's Hash or Verify still
// waits for a slot as without Reserve.
//
// release ends the admission; calling it again does nothing. A caller that
// hashes should release as soon as its hashing is done.
func (h *Hasher) Reserve(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("password: reserve a hashing slot: %w", err)
	}
	h.mu.Lock()
	// With every slot busy, each admitted caller counts as a claim on a
	// slot, whether waiting or still on its store round trips: counting
	// only the waiters would admit a whole burst while its first callers
	// are on their round trips, to refuse them all after the wait. An idle
	// slot always admits, so that a slow store (callers admitted but not
	// hashing yet) never turns into refusals with capacity unused.
	if ahead := h.reserved - h.slots; ahead > 0 && len(h.free) == 0 &&
		time.Duration(ahead)*h.avg/time.Duration(h.slots) > h.wait {
		h.mu.Unlock()
		return nil, fault.Throttle(time.Second)
	}
	h.reserved++
	h.mu.Unlock()
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			h.mu.Lock()
			h.reserved--
			h.mu.Unlock()
		}
	}, nil
}

// Normalize returns the form a password is hashed and verified in: NFKC,
// never trimmed, so "Å" (U+00C5) and "A"+U+030A are the same password.
func Normalize(pw string) string { return norm.NFKC.String(pw) }

// Hash returns the PHC string of pw (normalised here).
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLength)
	rand.Read(salt) // never fails (crypto/rand)
	key, err := h.derive(ctx, Normalize(pw), salt, h.params, keyLength)
	if err != nil {
		return "", err
	}
	return encodeHash(h.params, salt, key), nil
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
	p, salt, key, err := decodeHash(hash)
	if err != nil {
		return false, false, fmt.Errorf("password: verify: %w", err)
	}
	if !h.withinLimits(p, salt, key) {
		// A stored hash asking for terabytes or hours (a tampered or corrupt
		// row) would take the slot's memory or time without bound.
		return false, false, fmt.Errorf("password: verify: stored hash parameters %+v beyond the limits: %w", p, errHash)
	}
	other, err := h.derive(ctx, Normalize(pw), salt, p, uint32(len(key)))
	if err != nil {
		return false, false, err
	}
	match := subtle.ConstantTimeCompare(key, other) == 1
	if !known || !match {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// Bounds on what a stored hash may ask of a verify, relative to the live
// parameters so that raising them stays possible: an older hash made with
// up to maxMemoryFactor times the memory, or maxIterationsFactor times the
// iterations, still verifies (and is rehashed).
const (
	maxMemoryFactor     = 4
	maxIterationsFactor = 10
	maxSaltKeyLength    = 64
)

func (h *Hasher) withinLimits(p Params, salt, key []byte) bool {
	return uint64(p.Memory) <= max(maxMemoryFactor*uint64(h.params.Memory), 64*1024) &&
		uint64(p.Iterations) <= max(maxIterationsFactor*uint64(h.params.Iterations), 10) &&
		len(salt) <= maxSaltKeyLength && len(key) <= maxSaltKeyLength
}

// errHash is wrapped by every malformed hash.
var errHash = errors.New("not an argon2id v=19 PHC string")

// encodeHash is the PHC string alexedwards/argon2id makes, byte for byte:
// $argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<key>, salt and
// key in unpadded standard base64.
func encodeHash(p Params, salt, key []byte) string {
	b := make([]byte, 0, 48+base64.RawStdEncoding.EncodedLen(len(salt))+base64.RawStdEncoding.EncodedLen(len(key)))
	b = append(b, "$argon2id$v="...)
	b = strconv.AppendUint(b, argon2.Version, 10)
	b = append(b, "$m="...)
	b = strconv.AppendUint(b, uint64(p.Memory), 10)
	b = append(b, ",t="...)
	b = strconv.AppendUint(b, uint64(p.Iterations), 10)
	b = append(b, ",p="...)
	b = strconv.AppendUint(b, uint64(p.Parallelism), 10)
	b = append(b, '$')
	b = base64.RawStdEncoding.AppendEncode(b, salt)
	b = append(b, '$')
	b = base64.RawStdEncoding.AppendEncode(b, key)
	return string(b)
}

// decodeHash parses a PHC string as encodeHash writes it. It accepts only
// what alexedwards/argon2id's DecodeHash accepts too (FuzzDecodeHash), and
// also refuses what argon2 cannot compute (no iterations, no lanes, an empty
// key) rather than panicking on it.
func decodeHash(s string) (p Params, salt, key []byte, err error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errHash
	}
	rest, ok := strings.CutPrefix(f[3], "m=")
	m, rest, ok1 := cutUint(rest, ",t=", ok, 32)
	t, rest, ok2 := cutUint(rest, ",p=", ok1, 32)
	l, _, ok3 := cutUint(rest, "", ok2, 8)
	if !ok3 || t < 1 || l < 1 {
		return Params{}, nil, nil, errHash
	}
	p = Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(l)}
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(f[4]); err != nil {
		return Params{}, nil, nil, errHash
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(f[5]); err != nil || len(key) == 0 {
		return Params{}, nil, nil, errHash
	}
	return p, salt, key, nil
}

// cutUint parses the decimal digits of s up to sep (to the end when sep is
// empty) as an unsigned integer of the given bits, if ok.
func cutUint(s, sep string, ok bool, bits int) (n uint64, rest string, _ bool) {
	if !ok {
		return 0, "", false
	}
	digits := s
	if sep != "" {
		var found bool
		if digits, rest, found = strings.Cut(s, sep); !found {
			return 0, "", false
		}
	}
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, "", false
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	return n, rest, err == nil
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
