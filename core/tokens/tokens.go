// Package tokens issues and verifies access JWTs and rotating refresh
// tokens (seed 004, usable by every namespace). Access JWTs are signed with
// Ed25519 (EdDSA) or P-256 (ES256) keys that live sealed by the key ring in
// the SQL store; each gateway caches the key set and reloads it every few
// seconds, so a rotation made by the CLI reaches every process. A verified
// JWT needs no store read: its session's end is learnt from the revocation
// list (revocations.go), which each gateway holds in memory.
package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// Algorithms a key may have. Verification accepts only these, and only the
// one of the key the token names, so "none", HS256 with a public key as the
// secret, or an RS256 header never verify.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
)

// MaxTokenBytes bounds what the parser is given at all.
const MaxTokenBytes = 4096

// Defaults (docs/tokens.md).
const (
	DefaultLifetime = 15 * time.Minute
	DefaultIssuer   = "partnergate"
	DefaultAudience = "partnergate"
	// reloadEvery bounds how stale a gateway's key set can be: a key rotated
	// by the CLI signs everywhere within it.
	reloadEvery = 5 * time.Second
	// leeway tolerates clock skew between gateways.
	leeway = 30 * time.Second
)

// Claims are what a verified access JWT says.
type Claims struct {
	Subject   string
	SessionID string
	ID        string
	IssuedAt  time.Time
	Expiry    time.Time
}

type wireClaims struct {
	jwt.Claims
	SID string `json:"sid"`
}

type verifyKey struct {
	alg string
	key crypto.PublicKey
}

type keySet struct {
	signKID string
	signAlg string
	signer  jose.Signer
	verify  map[string]verifyKey
	jwks    []byte
	loaded  time.Time
}

// Service signs and verifies access JWTs.
type Service struct {
	Store    store.SigningKeys
	Ring     *keyring.Ring
	Revoked  *Revocations
	Issuer   string
	Audience string
	Lifetime time.Duration
	// Alg is the algorithm of keys this process creates: EdDSA (default) or ES256.
	Alg string
	Now func() time.Time

	mu      sync.RWMutex
	set     *keySet
	reload  sync.Mutex
	lastTry time.Time
	seen    verified
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) lifetime() time.Duration {
	if s.Lifetime > 0 {
		return s.Lifetime
	}
	return DefaultLifetime
}

func (s *Service) issuer() string   { return cmp(s.Issuer, DefaultIssuer) }
func (s *Service) audience() string { return cmp(s.Audience, DefaultAudience) }
func (s *Service) alg() string      { return cmp(s.Alg, EdDSA) }

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Open loads the key set, creating the first key when the store has none.
func (s *Service) Open(ctx context.Context) error {
	if a := s.alg(); a != EdDSA && a != ES256 {
		return fmt.Errorf("tokens: algorithm %q: want EdDSA or ES256", a)
	}
	if err := s.load(ctx); err != nil {
		return err
	}
	s.mu.RLock()
	have := s.set.signer != nil
	s.mu.RUnlock()
	if have {
		return nil
	}
	_, err := s.Rotate(ctx)
	return err
}

// Rotate creates a new signing key and makes it current; older keys keep
// verifying until the tokens they signed have expired.
func (s *Service) Rotate(ctx context.Context) (kid string, err error) {
	k, err := s.newKey(s.alg())
	if err != nil {
		return "", err
	}
	if err := s.Store.AddSigningKey(ctx, k); err != nil {
		return "", core.StoreError("tokens: add signing key", err)
	}
	return k.KID, s.load(ctx)
}

func (s *Service) newKey(alg string) (store.SigningKey, error) {
	var priv crypto.Signer
	switch alg {
	case EdDSA:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("tokens: generate key: %w", err)
		}
		priv = p
	case ES256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("tokens: generate key: %w", err)
		}
		priv = p
	default:
		return store.SigningKey{}, fmt.Errorf("tokens: algorithm %q", alg)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: private key: %w", err)
	}
	sealed, err := s.Ring.Seal(der, sealContext(pub.KeyID))
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: pub.KeyID, Alg: alg, PrivateSealed: sealed, PublicJWK: string(pubJSON)}, nil
}

func sealContext(kid string) string { return "jwt-signing-key:" + kid }

// load reads every key that may still verify a live token and builds the
// signer from the newest unretired one.
func (s *Service) load(ctx context.Context) error {
	now := s.now()
	// A key retired at t signed tokens until t plus one reload period (the
	// slowest gateway's view), each living for the lifetime.
	since := now.Add(-s.lifetime() - reloadEvery - leeway)
	keys, err := s.Store.SigningKeys(ctx, since)
	if err != nil {
		return core.StoreError("tokens: read signing keys", err)
	}
	set := &keySet{verify: map[string]verifyKey{}, loaded: now}
	var pubs []jose.JSONWebKey
	for _, k := range keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(k.PublicJWK)); err != nil {
			return fmt.Errorf("tokens: key %s: public half: %w", k.KID, err)
		}
		set.verify[k.KID] = verifyKey{alg: k.Alg, key: jwk.Key}
		pubs = append(pubs, jwk)
		if set.signer == nil && k.Retired == nil {
			der, err := s.Ring.Open(k.PrivateSealed, sealContext(k.KID))
			if err != nil {
				return fmt.Errorf("tokens: key %s: %w", k.KID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return fmt.Errorf("tokens: key %s: %w", k.KID, err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: priv},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.KID))
			if err != nil {
				return fmt.Errorf("tokens: key %s: signer: %w", k.KID, err)
			}
			set.signer, set.signKID, set.signAlg = signer, k.KID, k.Alg
		}
	}
	if pubs == nil {
		pubs = []jose.JSONWebKey{}
	}
	set.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: pubs})
	if err != nil {
		return fmt.Errorf("tokens: jwks: %w", err)
	}
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
	return nil
}

// current returns the key set, reloading it when older than reloadEvery or
// when force is set (an unknown kid, at most once a second). Only one caller
// reloads; the others keep using the set they have, so the hot path never
// waits on the database. A failed reload keeps the old set.
func (s *Service) current(ctx context.Context, force bool) *keySet {
	s.mu.RLock()
	set := s.set
	s.mu.RUnlock()
	now := s.now()
	stale := set == nil || now.Sub(set.loaded) >= reloadEvery
	if !stale && !force {
		return set
	}
	if !s.reload.TryLock() {
		return set
	}
	defer s.reload.Unlock()
	if !stale && now.Sub(s.lastTry) < time.Second {
		return set
	}
	s.lastTry = now
	if err := s.load(ctx); err != nil {
		return set
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set
}

// JWKS is the public key set document for /.well-known/jwks.json.
func (s *Service) JWKS(ctx context.Context) []byte {
	set := s.current(ctx, false)
	if set == nil {
		return []byte(`{"keys":[]}`)
	}
	return set.jwks
}

// Issue signs an access JWT for user in session sid.
func (s *Service) Issue(ctx context.Context, userID, sid string) (token string, exp time.Time, err error) {
	set := s.current(ctx, false)
	if set == nil || set.signer == nil {
		return "", time.Time{}, errors.New("tokens: no signing key")
	}
	now := s.now().UTC().Truncate(time.Second)
	exp = now.Add(s.lifetime())
	c := wireClaims{Claims: jwt.Claims{
		Issuer: s.issuer(), Subject: userID, Audience: jwt.Audience{s.audience()},
		Expiry: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
		ID: uuid.NewString(),
	}, SID: sid}
	token, err = jwt.Signed(set.signer).Claims(c).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tokens: sign: %w", err)
	}
	return token, exp, nil
}

// LooksLikeJWT tells a JWT from an opaque session token without parsing it.
func LooksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// Verify checks an access JWT: size, algorithm allowlist, the key its kid
// names and that key's own algorithm, signature, iss, aud, exp, nbf, and
// that its session was not ended. Every refusal is
// fault.AccessTokenInvalid; a revocation list too stale to trust is
// fault.Unavailable (fail closed).
func (s *Service) Verify(ctx context.Context, token string) (Claims, error) {
	bad := fault.New(fault.AccessTokenInvalid)
	if len(token) > MaxTokenBytes {
		return Claims{}, bad
	}
	if cl, ok := s.seen.get(token, s.now()); ok {
		return s.live(cl)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
	if err != nil || len(tok.Headers) != 1 {
		return Claims{}, bad
	}
	h := tok.Headers[0]
	set := s.current(ctx, false)
	if set == nil {
		return Claims{}, bad
	}
	k, ok := set.verify[h.KeyID]
	if !ok {
		if set = s.current(ctx, true); set != nil {
			k, ok = set.verify[h.KeyID]
		}
	}
	if !ok || k.alg != h.Algorithm {
		return Claims{}, bad
	}
	var c wireClaims
	if err := tok.Claims(k.key, &c); err != nil {
		return Claims{}, bad
	}
	if c.Expiry == nil || c.IssuedAt == nil || c.Subject == "" || c.SID == "" || c.ID == "" {
		return Claims{}, bad
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.issuer(), AnyAudience: jwt.Audience{s.audience()}, Time: s.now()}, leeway); err != nil {
		return Claims{}, bad
	}
	cl := Claims{Subject: c.Subject, SessionID: c.SID, ID: c.ID, IssuedAt: c.IssuedAt.Time(), Expiry: c.Expiry.Time()}
	// nbf is checked before the token is remembered: the cache only ever
	// holds tokens already valid, whose validity can then only end.
	s.seen.put(token, cl)
	return s.live(cl)
}

// live is the part of Verify that can change for a token already
// verified: its session's end, from the in-memory revocation list.
func (s *Service) live(cl Claims) (Claims, error) {
	if s.Revoked != nil {
		revoked, err := s.Revoked.IsRevoked(cl.SessionID)
		if err != nil {
			return Claims{}, err
		}
		if revoked {
			return Claims{}, fault.New(fault.AccessTokenInvalid)
		}
	}
	return cl, nil
}
