package tokens

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
	"partnergate/store/kv"
)

// memKeys is an in-memory store.SigningKeys.
type memKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
	now  func() time.Time
}

func (m *memKeys) AddSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := m.now()
	for i := range m.keys {
		if m.keys[i].Retired == nil {
			m.keys[i].Retired = &at
		}
	}
	k.Created = at
	m.keys = append([]store.SigningKey{k}, m.keys...)
	return nil
}

func (m *memKeys) SigningKeys(_ context.Context, since time.Time) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.SigningKey
	for _, k := range m.keys {
		if k.Retired == nil || !k.Retired.Before(since) {
			out = append(out, k)
		}
	}
	return out, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t testing.TB, alg string) (*Service, *clock) {
	t.Helper()
	ring, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	cl, closeFn, err := kv.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	rev := &Revocations{KV: kv.New(cl), Now: c.now}
	if err := rev.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := &Service{Store: &memKeys{now: c.now}, Ring: ring, Revoked: rev, Alg: alg, Now: c.now}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func wantCode(t *testing.T, err error, code fault.Code) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != code {
		t.Fatalf("err = %v, want code %d", err, code)
	}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			s, c := newService(t, alg)
			good, _, err := s.Issue(ctx, "u1", "sid1")
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Verify(ctx, good)
			if err != nil || got.Subject != "u1" || got.SessionID != "sid1" || got.ID == "" {
				t.Fatalf("Verify = %+v, %v", got, err)
			}
			parts := strings.Split(good, ".")
			var hdr map[string]any
			raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
			_ = json.Unmarshal(raw, &hdr)
			kid := hdr["kid"].(string)
			pubJWK := s.set.jwks

			claims := func(mod func(m map[string]any)) string {
				raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
				var m map[string]any
				_ = json.Unmarshal(raw, &m)
				mod(m)
				return b64(m)
			}
			// HS256 keyed with the public JWKS bytes: the classic confusion.
			mac := hmac.New(sha256.New, pubJWK)
			hsInput := b64(map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + parts[1]
			mac.Write([]byte(hsInput))
			hs := hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

			bad := map[string]string{
				"alg none":         b64(map[string]any{"alg": "none", "kid": kid}) + "." + parts[1] + ".",
				"HS256 confusion":  hs,
				"RS256 header":     b64(map[string]any{"alg": "RS256", "kid": kid}) + "." + parts[1] + "." + parts[2],
				"tampered claims":  parts[0] + "." + claims(func(m map[string]any) { m["sub"] = "u2" }) + "." + parts[2],
				"unknown kid":      b64(map[string]any{"alg": alg, "kid": "nope"}) + "." + parts[1] + "." + parts[2],
				"garbage":          "a.b.c",
				"empty":            "",
				"too long":         strings.Repeat("a", MaxTokenBytes+1),
				"two segments":     parts[0] + "." + parts[1],
				"signature cut":    parts[0] + "." + parts[1] + "." + parts[2][:10],
				"other alg header": b64(map[string]any{"alg": map[string]string{EdDSA: ES256, ES256: EdDSA}[alg], "kid": kid}) + "." + parts[1] + "." + parts[2],
			}
			for name, tok := range bad {
				_, err := s.Verify(ctx, tok)
				wantCode(t, err, fault.AccessTokenInvalid)
				_ = name
			}

			// Wrong audience and issuer, signed with the real key.
			other := &Service{Store: s.Store, Ring: s.Ring, Now: s.Now, Audience: "someone-else"}
			if err := other.Open(ctx); err != nil {
				t.Fatal(err)
			}
			wrongAud, _, _ := other.Issue(ctx, "u1", "sid1")
			_, err = s.Verify(ctx, wrongAud)
			wantCode(t, err, fault.AccessTokenInvalid)
			other.Audience, other.Issuer = "", "evil"
			wrongIss, _, _ := other.Issue(ctx, "u1", "sid1")
			_, err = s.Verify(ctx, wrongIss)
			wantCode(t, err, fault.AccessTokenInvalid)

			// Rotation: the old key verifies until its tokens expire.
			if _, err := s.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verify(ctx, good); err != nil {
				t.Fatalf("token of the retired key: %v", err)
			}
			fresh, _, _ := s.Issue(ctx, "u1", "sid1")
			if strings.Split(fresh, ".")[0] == parts[0] {
				t.Fatal("rotation did not change the signing key")
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(s.JWKS(ctx), &set); err != nil || len(set.Keys) != 2 {
				t.Fatalf("JWKS after rotation: %d keys, %v", len(set.Keys), err)
			}

			// Revoking the session stops both.
			if err := s.Revoked.Revoke(ctx, []string{"sid1"}, c.now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			_, err = s.Verify(ctx, fresh)
			wantCode(t, err, fault.AccessTokenInvalid)
			// good was verified before: its remembered claims do not
			// outlive the session.
			_, err = s.Verify(ctx, good)
			wantCode(t, err, fault.AccessTokenInvalid)

			// Expiry (also of a token verified, and so remembered, while
			// it was valid), and a stale revocation list fails closed.
			other2, _, _ := s.Issue(ctx, "u1", "sid2")
			if _, err := s.Verify(ctx, other2); err != nil {
				t.Fatal(err)
			}
			c.add(DefaultLifetime + time.Minute)
			if err := s.Revoked.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = s.Verify(ctx, other2)
			wantCode(t, err, fault.AccessTokenInvalid)
			c.add(staleAfter + time.Second)
			live, _, _ := s.Issue(ctx, "u1", "sid3")
			_, err = s.Verify(ctx, live)
			wantCode(t, err, fault.Unavailable)
		})
	}
}

// TestIndependentVerifier checks a token against the JWKS document alone,
// as a third party would.
func TestIndependentVerifier(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, EdDSA)
	tok, _, err := s.Issue(ctx, "u1", "sid1")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(s.JWKS(ctx), &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 || keys[0].Algorithm != EdDSA || keys[0].Use != "sig" || !keys[0].IsPublic() {
		t.Fatalf("JWKS key: %+v", keys)
	}
	var c jwt.Claims
	if err := parsed.Claims(keys[0].Key, &c); err != nil || c.Subject != "u1" {
		t.Fatalf("independent verify: %+v, %v", c, err)
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := newService(f, EdDSA)
	good, _, _ := s.Issue(context.Background(), "u1", "sid1")
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("pgr_x.y.z")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(context.Background(), tok)
		if err == nil && (c.Subject != "u1" || tok != good) {
			t.Fatalf("accepted a token it did not issue: %q", tok)
		}
	})
}

func FuzzParseRefresh(f *testing.F) {
	f.Add("pgr_123e4567-e89b-12d3-a456-426614174000.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("pgr_..")
	f.Fuzz(func(t *testing.T, tok string) {
		uid, sid, ok := parseRefresh(tok)
		if ok && (len(uid) != 36 || len(sid) != 22 || !strings.HasPrefix(tok, refreshPrefix+uid+"."+sid+".")) {
			t.Fatalf("parseRefresh(%q) = %q, %q", tok, uid, sid)
		}
	})
}
