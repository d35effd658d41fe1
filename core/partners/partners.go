// Package partners manages partner backends' API keys and checks their
// HMAC-signed calls (DESIGN.md "Who is calling").
package partners

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// Signature rules.
const (
	// Window is how far X-Api-Timestamp may be from server time.
	Window = 30 * time.Second
	// CacheTTL bounds how long a running server trusts its copy of a key, so
	// a key created or revoked by the CLI takes effect within it.
	CacheTTL   = 5 * time.Second
	MinNonce   = 16
	MaxNonce   = 64
	sealDomain = "partner-secret"
)

// Service holds partner keys.
type Service struct {
	store  store.Store
	nonces store.Nonces
	ring   *keyring.Ring
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p       store.Partner
	secret  []byte
	missing bool
	at      time.Time
}

// New returns the partner service.
func New(st store.Store, k store.Nonces, ring *keyring.Ring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, nonces: k, ring: ring, now: now, cache: map[string]cached{}}
}

// Created is what Create prints once: the secret is never shown again.
type Created struct {
	KID    string `json:"kid"`
	Secret string `json:"secret"`
}

// Create makes a key with the given scopes (namespace prefixes or "*").
func (s *Service) Create(ctx context.Context, name string, scopes []string) (Created, error) {
	if name == "" || len(name) > 100 {
		return Created{}, errors.New("partners: name must be 1 to 100 characters")
	}
	if len(scopes) == 0 {
		return Created{}, errors.New("partners: at least one scope is required")
	}
	for _, sc := range scopes {
		if !validScope(sc) {
			return Created{}, fmt.Errorf("partners: invalid scope %q", sc)
		}
	}
	kid := "pk_" + randomText(12)
	secret := "pks_" + randomText(32)
	sealed, err := s.ring.Seal([]byte(secret), sealDomain+":"+kid)
	if err != nil {
		return Created{}, fmt.Errorf("partners: seal secret: %w", err)
	}
	p := store.Partner{KID: kid, Name: name, SecretSealed: sealed, Scopes: scopes, Created: s.now().UTC()}
	if err := s.store.CreatePartner(ctx, p); err != nil {
		return Created{}, fmt.Errorf("partners: create: %w", err)
	}
	return Created{KID: kid, Secret: secret}, nil
}

func validScope(sc string) bool {
	if sc == "*" {
		return true
	}
	if sc == "" || len(sc) > 128 || strings.HasPrefix(sc, ".") || strings.HasSuffix(sc, ".") {
		return false
	}
	for _, c := range sc {
		if !(c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// List returns every key, without secrets.
func (s *Service) List(ctx context.Context) ([]store.Partner, error) {
	ps, err := s.store.Partners(ctx)
	if err != nil {
		return nil, fmt.Errorf("partners: list: %w", err)
	}
	for i := range ps {
		ps[i].SecretSealed = ""
	}
	return ps, nil
}

// Revoke disables a key; running servers stop accepting it within CacheTTL.
func (s *Service) Revoke(ctx context.Context, kid string) error {
	if err := s.store.RevokePartner(ctx, kid); err != nil {
		return fmt.Errorf("partners: revoke %s: %w", kid, err)
	}
	s.mu.Lock()
	delete(s.cache, kid)
	s.mu.Unlock()
	return nil
}

func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("partners: crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// key returns a live key and its secret, from the cache when fresh.
func (s *Service) key(ctx context.Context, kid string) (store.Partner, []byte, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[kid]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > CacheTTL {
		p, err := s.store.Partner(ctx, kid)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = cached{missing: true, at: now}
		case err != nil:
			return store.Partner{}, nil, core.StoreError("partners: read key", err)
		default:
			secret, err := s.ring.Open(p.SecretSealed, sealDomain+":"+kid)
			if err != nil {
				return store.Partner{}, nil, fmt.Errorf("partners: open secret of %s: %w", kid, err)
			}
			c = cached{p: p, secret: secret, at: now}
		}
		s.mu.Lock()
		if len(s.cache) > 10000 {
			s.cache = map[string]cached{}
		}
		s.cache[kid] = c
		s.mu.Unlock()
	}
	if c.missing || c.p.Revoked != nil {
		return store.Partner{}, nil, fault.New(fault.KeyUnknown)
	}
	return c.p, c.secret, nil
}

// Signed is a request's partner headers and the path they were sent to.
type Signed struct {
	KID, Timestamp, Nonce, Signature string
	// Path is the request's URL path as routed: "/rpc", or
	// "/api/v0/partnerRpc/{method}" in the path style, where the body holds
	// only params and the path alone names the method. Signing it means a
	// captured body cannot be replayed to another method or transport.
	Path string
}

// Present reports whether any partner header was sent.
func (sg Signed) Present() bool {
	return sg.KID != "" || sg.Timestamp != "" || sg.Nonce != "" || sg.Signature != ""
}

// StringToSign is what the signature covers: timestamp, nonce, key id, the
// request path and the body's SHA-256, joined by ".".
func StringToSign(timestamp, nonce, kid, path string, body []byte) string {
	sum := sha256.Sum256(body)
	return timestamp + "." + nonce + "." + kid + "." + path + "." + hex.EncodeToString(sum[:])
}

// Sign returns the X-Api-Signature for a request to path; clients and
// tests use it.
func Sign(secret, timestamp, nonce, kid, path string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(StringToSign(timestamp, nonce, kid, path, body)))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed request and returns its partner. Each refusal has its
// own code: headers missing, malformed, stale, unknown key, wrong signature,
// replayed nonce. The nonce is spent only once the signature is proven, so
// nobody without the secret can burn a partner's nonces.
func (s *Service) Verify(ctx context.Context, sg Signed, body []byte) (store.Partner, error) {
	if sg.KID == "" || sg.Timestamp == "" || sg.Nonce == "" || sg.Signature == "" {
		return store.Partner{}, fault.New(fault.SignatureMissing)
	}
	ms, err := strconv.ParseInt(sg.Timestamp, 10, 64)
	if err != nil || len(sg.Signature) != 64 || !validNonce(sg.Nonce) || len(sg.KID) > 64 {
		return store.Partner{}, fault.New(fault.SignatureMalformed)
	}
	sig, err := hex.DecodeString(sg.Signature)
	if err != nil {
		return store.Partner{}, fault.New(fault.SignatureMalformed)
	}
	if d := s.now().Sub(time.UnixMilli(ms)); d > Window || d < -Window {
		return store.Partner{}, fault.New(fault.TimestampStale)
	}
	p, secret, err := s.key(ctx, sg.KID)
	if err != nil {
		return store.Partner{}, err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(StringToSign(sg.Timestamp, sg.Nonce, sg.KID, sg.Path, body)))
	if !hmac.Equal(m.Sum(nil), sig) {
		return store.Partner{}, fault.New(fault.SignatureInvalid)
	}
	// The nonce outlives the whole window on both sides of the timestamp.
	fresh, err := s.nonces.UseNonce(ctx, sg.KID, sg.Nonce, 2*Window+time.Second)
	if err != nil {
		return store.Partner{}, core.StoreError("partners: nonce", err)
	}
	if !fresh {
		return store.Partner{}, fault.New(fault.NonceReplayed)
	}
	return p, nil
}

func validNonce(n string) bool {
	if len(n) < MinNonce || len(n) > MaxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] > '~' {
			return false
		}
	}
	return true
}
