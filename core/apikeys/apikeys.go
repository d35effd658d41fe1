// Package apikeys keeps seed 002's (Barong's) user API keys: a key id and
// an HMAC secret a user's scripts sign requests with, acting as the user
// within the key's scope. The secret is 256 random bits, shown once at
// creation and kept sealed by the key ring (it must be recovered to check
// signatures); creating, listing, changing and deleting keys needs the
// user's 2FA on and a valid code from it, as Barong requires.
//
// A signed request carries X-Auth-Apikey (the kid), X-Auth-Nonce (the
// Unix time in milliseconds, within ±30 s of the server's and used once
// per key) and X-Auth-Signature = hex(HMAC(secret, nonce + kid)) with the
// key's hash (SHA-256, -384 or -512), compared in constant time.
package apikeys

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// Algorithms are the HMAC algorithms a key may use.
var Algorithms = []string{"HS256", "HS384", "HS512"}

// Limits.
const (
	DefaultMaxPerUser = 10
	MaxScopes         = 16
	// Window is how far X-Auth-Nonce may be from the server's clock.
	Window = 30 * time.Second
)

// SecondFactor is what the key methods need of core/otp.
type SecondFactor interface {
	Enabled(ctx context.Context, userID string) (bool, error)
	Verify(ctx context.Context, userID, code string) error
}

// Service manages and checks user API keys.
type Service struct {
	Store  store.Store
	Ring   *keyring.Ring
	OTP    SecondFactor
	Nonces store.Nonces
	// MaxPerUser caps a user's keys (0: DefaultMaxPerUser).
	MaxPerUser int
	// Activity, when set, receives each create, update and delete, and
	// each one the second factor refused (topic api_keys).
	Activity *activity.Recorder
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

// CacheTTL bounds how long a process checks signatures against a key it
// read before: a key disabled or deleted on another gateway stops there
// within it (on this one at once), as partner keys do.
const CacheTTL = 5 * time.Second

type cachedKey struct {
	k       store.APIKey
	secret  []byte
	missing bool
	at      time.Time
}

// key returns the key kid and its opened secret, from the cache while it
// is fresh; ok is false for an unknown kid.
func (s *Service) key(ctx context.Context, kid string) (store.APIKey, []byte, bool, error) {
	now := s.now()
	s.mu.Lock()
	c, hit := s.cache[kid]
	s.mu.Unlock()
	if !hit || now.Sub(c.at) > CacheTTL || now.Before(c.at) {
		k, err := s.Store.APIKey(ctx, kid)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = cachedKey{missing: true, at: now}
		case err != nil:
			return store.APIKey{}, nil, false, core.StoreError("apikeys: read key", err)
		default:
			secret, err := s.Ring.Open(k.SecretSealed, sealDomain+":"+k.KID)
			if err != nil {
				return store.APIKey{}, nil, false, fmt.Errorf("apikeys: open secret of %s: %w", k.KID, err)
			}
			c = cachedKey{k: k, secret: secret, at: now}
		}
		s.mu.Lock()
		if s.cache == nil || len(s.cache) > 10000 {
			s.cache = map[string]cachedKey{}
		}
		s.cache[kid] = c
		s.mu.Unlock()
	}
	return c.k, c.secret, !c.missing, nil
}

// forget drops kid from the cache after a change on this process.
func (s *Service) forget(kid string) {
	s.mu.Lock()
	delete(s.cache, kid)
	s.mu.Unlock()
}

// note records one key action in the activity trail: result failed when
// err is a refusal of the second factor, succeed when err is nil, nothing
// otherwise (bad input changes nothing and is not an action).
func (s *Service) note(ctx context.Context, userID, action string, data map[string]any, err error) {
	result := store.ResultSucceed
	if err != nil {
		switch fault.CodeOf(err) {
		case fault.OTPRequired, fault.OTPInvalid, fault.OTPMalformed, fault.OTPNotEnabled:
			result = store.ResultFailed
		default:
			return
		}
	}
	s.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: "api_keys", Action: action, Result: result, Data: data})
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) max() int {
	if s.MaxPerUser > 0 {
		return s.MaxPerUser
	}
	return DefaultMaxPerUser
}

const sealDomain = "apikey"

var scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// ParseScope reads Barong's comma-separated scope param: at most 16
// method-name prefixes ("resource", "resource.documents"), duplicates
// dropped, order kept. "" is no scope.
func ParseScope(s string) ([]string, error) {
	out := []string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 64 || !scopePattern.MatchString(p) {
			return nil, fault.Field(fault.Invalid, "scope", "comma-separated method prefixes such as resource or resource.documents")
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > MaxScopes {
		return nil, fault.Field(fault.Invalid, "scope", "at most 16 scopes")
	}
	return out, nil
}

// Authorise checks the user's second factor: 2FA on (OTPNotEnabled
// otherwise) and code valid (OTPRequired, OTPMalformed, OTPInvalid,
// Throttled). A valid code is used up.
func (s *Service) Authorise(ctx context.Context, userID, code string) error {
	if s.OTP == nil {
		return errors.New("apikeys: no second factor configured")
	}
	on, err := s.OTP.Enabled(ctx, userID)
	if err != nil {
		return err
	}
	if !on {
		return fault.New(fault.OTPNotEnabled)
	}
	return s.OTP.Verify(ctx, userID, code)
}

// Created is a new key with its secret, which is never shown again.
type Created struct {
	Key    store.APIKey
	Secret string
}

// Create makes a key for userID after checking the input and then the
// second factor (so bad input spends no code).
func (s *Service) Create(ctx context.Context, userID, algorithm, scope, code string) (Created, error) {
	if !slices.Contains(Algorithms, algorithm) {
		return Created{}, fault.Field(fault.Invalid, "algorithm", "HS256, HS384 or HS512")
	}
	sc, err := ParseScope(scope)
	if err != nil {
		return Created{}, err
	}
	if err := s.Authorise(ctx, userID, code); err != nil {
		s.note(ctx, userID, "create", nil, err)
		return Created{}, err
	}
	c, err := s.Issue(ctx, userID, algorithm, sc)
	if err == nil {
		s.note(ctx, userID, "create", map[string]any{"kid": c.Key.KID, "algorithm": algorithm, "scope": sc}, nil)
	}
	return c, err
}

// Issue makes a key without asking for the second factor: for
// administrative tools and benchmarks, never a method. The algorithm must
// be one of Algorithms and scope already parsed.
func (s *Service) Issue(ctx context.Context, userID, algorithm string, sc []string) (Created, error) {
	if !slices.Contains(Algorithms, algorithm) {
		return Created{}, fault.Field(fault.Invalid, "algorithm", "HS256, HS384 or HS512")
	}
	if sc == nil {
		sc = []string{}
	}
	kid, secret := randomHex(8), randomHex(32)
	sealed, err := s.Ring.Seal([]byte(secret), sealDomain+":"+kid)
	if err != nil {
		return Created{}, fmt.Errorf("apikeys: seal: %w", err)
	}
	now := s.now().UTC()
	k := store.APIKey{KID: kid, UserID: userID, Algorithm: algorithm, Scope: sc, State: store.APIKeyActive,
		SecretSealed: sealed, Created: now, Updated: now}
	err = s.Store.CreateAPIKey(ctx, k, s.max())
	switch {
	case errors.Is(err, store.ErrLimitReached):
		return Created{}, fault.New(fault.APIKeyLimitReached)
	case errors.Is(err, store.ErrNotFound):
		return Created{}, fault.New(fault.SessionInvalid)
	case err != nil:
		return Created{}, core.StoreError("apikeys: create", err)
	}
	return Created{Key: k, Secret: secret}, nil
}

// List returns a page of the user's keys and their total, after the
// second factor (Barong asks for it here too).
func (s *Service) List(ctx context.Context, userID, code string, page, limit int) ([]store.APIKey, int, error) {
	if page < 1 {
		return nil, 0, fault.Field(fault.Invalid, "page", "1 or more")
	}
	if limit < 1 || limit > 1000 {
		return nil, 0, fault.Field(fault.Invalid, "limit", "1 to 1000")
	}
	if err := s.Authorise(ctx, userID, code); err != nil {
		return nil, 0, err
	}
	ks, total, err := s.Store.UserAPIKeys(ctx, userID, limit, (page-1)*limit)
	if err != nil {
		return nil, 0, core.StoreError("apikeys: list", err)
	}
	return ks, total, nil
}

// Update changes a key's scope and/or state (nil leaves it). Another
// user's key answers NotFound.
func (s *Service) Update(ctx context.Context, userID, kid string, scope, state *string, code string) (store.APIKey, error) {
	var sc []string
	if scope != nil {
		var err error
		if sc, err = ParseScope(*scope); err != nil {
			return store.APIKey{}, err
		}
	}
	if state != nil && *state != store.APIKeyActive && *state != store.APIKeyDisabled {
		return store.APIKey{}, fault.Field(fault.Invalid, "state", "active or disabled")
	}
	if !validKID(kid) {
		return store.APIKey{}, fault.New(fault.NotFound)
	}
	if err := s.Authorise(ctx, userID, code); err != nil {
		s.note(ctx, userID, "update", map[string]any{"kid": kid}, err)
		return store.APIKey{}, err
	}
	k, err := s.Store.UpdateAPIKey(ctx, userID, kid, func(k store.APIKey) (store.APIKey, error) {
		if scope != nil {
			k.Scope = sc
		}
		if state != nil {
			k.State = *state
		}
		return k, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.APIKey{}, core.StoreError("apikeys: update", err)
	}
	s.forget(kid)
	s.note(ctx, userID, "update", map[string]any{"kid": kid, "state": k.State, "scope": k.Scope}, nil)
	return k, nil
}

// Delete removes one of the user's keys. Another user's key answers
// NotFound.
func (s *Service) Delete(ctx context.Context, userID, kid, code string) error {
	if !validKID(kid) {
		return fault.New(fault.NotFound)
	}
	if err := s.Authorise(ctx, userID, code); err != nil {
		s.note(ctx, userID, "delete", map[string]any{"kid": kid}, err)
		return err
	}
	err := s.Store.DeleteAPIKey(ctx, userID, kid)
	s.forget(kid)
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound)
	}
	if err != nil {
		return core.StoreError("apikeys: delete", err)
	}
	s.note(ctx, userID, "delete", map[string]any{"kid": kid}, nil)
	return nil
}

var kidPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func validKID(kid string) bool { return kidPattern.MatchString(kid) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("apikeys: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}

func hasher(alg string) func() hash.Hash {
	switch alg {
	case "HS384":
		return sha512.New384
	case "HS512":
		return sha512.New
	}
	return sha256.New
}

// Sign returns the X-Auth-Signature of nonce for a key; clients and tests
// use it.
func Sign(algorithm, secret, nonce, kid string) string {
	m := hmac.New(hasher(algorithm), []byte(secret))
	m.Write([]byte(nonce + kid))
	return hex.EncodeToString(m.Sum(nil))
}

// Signed is a request's user-key headers.
type Signed struct {
	KID, Nonce, Signature string
}

// Present reports whether any user-key header was sent.
func (sg Signed) Present() bool { return sg.KID != "" || sg.Nonce != "" || sg.Signature != "" }

// Check verifies a user-key signature and returns the key: well-formed
// headers (SignatureMalformed otherwise), a live key of an active user
// (APIKeyInvalid), a nonce within Window (TimestampStale), a matching
// signature (APIKeyInvalid, the same answer as an unknown key) and a
// nonce not used before with this key (NonceReplayed).
func (s *Service) Check(ctx context.Context, sg Signed) (store.APIKey, error) {
	ms, err := strconv.ParseInt(sg.Nonce, 10, 64)
	if !validKID(sg.KID) || err != nil || len(sg.Nonce) > 16 || len(sg.Signature) > 128 || len(sg.Signature) < 64 {
		return store.APIKey{}, fault.New(fault.SignatureMalformed)
	}
	given, err := hex.DecodeString(sg.Signature)
	if err != nil {
		return store.APIKey{}, fault.New(fault.SignatureMalformed)
	}
	if d := s.now().Sub(time.UnixMilli(ms)); d > Window || d < -Window {
		return store.APIKey{}, fault.New(fault.TimestampStale)
	}
	k, secret, found, err := s.key(ctx, sg.KID)
	if err != nil {
		return store.APIKey{}, err
	}
	if !found {
		// Spend about as long as a real check, so a guessed kid is not
		// told apart by timing.
		_ = hmac.Equal(given, []byte(Sign("HS256", randomHex(32), sg.Nonce, sg.KID)))
		return store.APIKey{}, fault.New(fault.APIKeyInvalid)
	}
	want, _ := hex.DecodeString(Sign(k.Algorithm, string(secret), sg.Nonce, sg.KID))
	if !hmac.Equal(given, want) || k.State != store.APIKeyActive {
		return store.APIKey{}, fault.New(fault.APIKeyInvalid)
	}
	u, err := s.Store.UserByID(ctx, k.UserID)
	if err != nil || u.State != store.StateActive {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.APIKey{}, core.StoreError("apikeys: read user", err)
		}
		return store.APIKey{}, fault.New(fault.APIKeyInvalid)
	}
	fresh, err := s.Nonces.UseNonce(ctx, "uk:"+k.KID, sg.Nonce, 2*Window)
	if err != nil {
		return store.APIKey{}, core.StoreError("apikeys: nonce", err)
	}
	if !fresh {
		return store.APIKey{}, fault.New(fault.NonceReplayed)
	}
	return k, nil
}

// Grants reports whether a key of scope may call method: only the user's
// own resource.* methods, never the ones that manage keys or the second
// factor, and within the key's scope when it has one.
func Grants(scope []string, method string) bool {
	if !strings.HasPrefix(method, "resource.") ||
		strings.HasPrefix(method, "resource.api_keys.") || strings.HasPrefix(method, "resource.otp.") {
		return false
	}
	if len(scope) == 0 {
		return true
	}
	for _, sc := range scope {
		if sc == method || (strings.HasPrefix(method, sc) && method[len(sc)] == '.') {
			return true
		}
	}
	return false
}
