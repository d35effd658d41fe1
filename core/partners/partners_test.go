package partners_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/core/partners"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

// clock is the test's time, shared by the service and KV and moved together
// with miniredis so nothing sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type env struct {
	st   *sqlstore.Store
	mr   *miniredis.Miniredis
	kv   *kv.KV
	ring *keyring.Ring
	clk  *clock
	svc  *partners.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = client.Close() })
	k := kv.New(client, kv.WithClock(clk.Now))
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	ring, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, mr: mr, kv: k, ring: ring, clk: clk, svc: partners.New(st, k, ring, clk.Now)}
	t.Cleanup(func() {
		// Every nonce key must expire on its own.
		for _, key := range mr.Keys() {
			if mr.TTL(key) <= 0 {
				t.Errorf("redis key %q has no TTL", key)
			}
		}
	})
	return e
}

// advance moves the service clock and miniredis time together.
func (e *env) advance(d time.Duration) {
	e.clk.mu.Lock()
	e.clk.t = e.clk.t.Add(d)
	e.clk.mu.Unlock()
	e.mr.FastForward(d)
}

func (e *env) create(t *testing.T, scopes ...string) partners.Created {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"auth"}
	}
	k, err := e.svc.Create(t.Context(), "Acme backend", scopes)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return k
}

func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) // 24 characters
}

func stamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// sign builds the headers of a request signed now by k.
func (e *env) sign(k partners.Created, body []byte) partners.Signed {
	ts, n := stamp(e.clk.Now()), nonce()
	return partners.Signed{KID: k.KID, Timestamp: ts, Nonce: n, Path: "/rpc", Signature: partners.Sign(k.Secret, ts, n, k.KID, "/rpc", body)}
}

func wantCode(t *testing.T, what string, err error, want fault.Code) {
	t.Helper()
	if got := fault.CodeOf(err); got != want {
		t.Fatalf("%s: err = %v (code %d), want code %d", what, err, got, want)
	}
}

func TestCreateListRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.create(t, "auth", "user.profile")
	b := e.create(t, "*")
	if !strings.HasPrefix(a.KID, "pk_") || len(a.KID) != 3+16 {
		t.Errorf("kid %q: want pk_ and 16 characters", a.KID)
	}
	if !strings.HasPrefix(a.Secret, "pks_") || len(a.Secret) != 4+43 {
		t.Errorf("secret %q: want pks_ and 43 characters (256 bits)", a.Secret)
	}
	if a.KID == b.KID || a.Secret == b.Secret {
		t.Fatal("two keys share a kid or a secret")
	}

	// The store holds the secret sealed, never in clear.
	p, err := e.st.Partner(ctx, a.KID)
	if err != nil {
		t.Fatal(err)
	}
	if p.SecretSealed == "" || strings.Contains(p.SecretSealed, a.Secret) || strings.Contains(p.SecretSealed, strings.TrimPrefix(a.Secret, "pks_")) {
		t.Fatalf("stored secret %q is empty or in clear", p.SecretSealed)
	}

	list, err := e.svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("List returned %d keys, want 2", len(list))
	}
	for _, p := range list {
		if p.SecretSealed != "" {
			t.Errorf("List returned a sealed secret for %s", p.KID)
		}
		if p.Revoked != nil {
			t.Errorf("%s revoked before Revoke", p.KID)
		}
		if p.KID == a.KID && (p.Name != "Acme backend" || strings.Join(p.Scopes, " ") != "auth user.profile") {
			t.Errorf("listed %+v", p)
		}
	}

	if err := e.svc.Revoke(ctx, a.KID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := e.svc.Revoke(ctx, a.KID); err != nil {
		t.Fatalf("Revoke twice: %v", err)
	}
	if err := e.svc.Revoke(ctx, "pk_nosuchkey"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	list, _ = e.svc.List(ctx)
	for _, p := range list {
		if (p.KID == a.KID) != (p.Revoked != nil) {
			t.Errorf("%s: Revoked = %v", p.KID, p.Revoked)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		kname  string
		scopes []string
		ok     bool
	}{
		{"wildcard", "n", []string{"*"}, true},
		{"namespace", "n", []string{"auth"}, true},
		{"dotted", "n", []string{"user.profile_v2", "Auth9"}, true},
		{"128 characters", "n", []string{strings.Repeat("a", 128)}, true},
		{"name of 100", strings.Repeat("n", 100), []string{"auth"}, true},
		{"no scopes", "n", nil, false},
		{"empty scope", "n", []string{""}, false},
		{"leading dot", "n", []string{".auth"}, false},
		{"trailing dot", "n", []string{"auth."}, false},
		{"space", "n", []string{"auth user"}, false},
		{"slash", "n", []string{"auth/user"}, false},
		{"wildcard suffix", "n", []string{"auth.*"}, false},
		{"non-ascii", "n", []string{"authé"}, false},
		{"129 characters", "n", []string{strings.Repeat("a", 129)}, false},
		{"one bad among good", "n", []string{"auth", "bad scope"}, false},
		{"empty name", "", []string{"auth"}, false},
		{"name of 101", strings.Repeat("n", 101), []string{"auth"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.svc.List(t.Context())
			_, err := e.svc.Create(t.Context(), tt.kname, tt.scopes)
			if (err == nil) != tt.ok {
				t.Fatalf("Create(%q, %q) = %v, want ok=%v", tt.kname, tt.scopes, err, tt.ok)
			}
			after, _ := e.svc.List(t.Context())
			if !tt.ok && len(after) != len(before) {
				t.Fatal("a refused key was stored")
			}
		})
	}
}

func TestVerify(t *testing.T) {
	e := newEnv(t)
	k := e.create(t, "auth", "user")
	other := e.create(t)
	body := []byte(`{"jsonrpc":"2.0","method":"auth.registerUser","id":1}`)

	// Each case starts from a fresh, valid request; mutate changes it and
	// may re-sign it.
	resign := func(s *partners.Signed, secret string, b []byte) {
		s.Signature = partners.Sign(secret, s.Timestamp, s.Nonce, s.KID, s.Path, b)
	}
	at := func(d time.Duration) func(s *partners.Signed, b *[]byte) {
		return func(s *partners.Signed, b *[]byte) {
			s.Timestamp = stamp(e.clk.Now().Add(d))
			resign(s, k.Secret, *b)
		}
	}
	tests := []struct {
		name   string
		mutate func(s *partners.Signed, b *[]byte)
		want   fault.Code
	}{
		{"valid", func(*partners.Signed, *[]byte) {}, 0},
		{"all headers missing", func(s *partners.Signed, _ *[]byte) { *s = partners.Signed{} }, fault.SignatureMissing},
		{"kid missing", func(s *partners.Signed, _ *[]byte) { s.KID = "" }, fault.SignatureMissing},
		{"timestamp missing", func(s *partners.Signed, _ *[]byte) { s.Timestamp = "" }, fault.SignatureMissing},
		{"nonce missing", func(s *partners.Signed, _ *[]byte) { s.Nonce = "" }, fault.SignatureMissing},
		{"signature missing", func(s *partners.Signed, _ *[]byte) { s.Signature = "" }, fault.SignatureMissing},
		{"timestamp not a number", func(s *partners.Signed, b *[]byte) { s.Timestamp = "yesterday"; resign(s, k.Secret, *b) }, fault.SignatureMalformed},
		{"timestamp in seconds with a fraction", func(s *partners.Signed, b *[]byte) { s.Timestamp += ".5"; resign(s, k.Secret, *b) }, fault.SignatureMalformed},
		{"nonce of 15", func(s *partners.Signed, b *[]byte) { s.Nonce = s.Nonce[:15]; resign(s, k.Secret, *b) }, fault.SignatureMalformed},
		{"nonce of 16", func(s *partners.Signed, b *[]byte) { s.Nonce = s.Nonce[:16]; resign(s, k.Secret, *b) }, 0},
		{"nonce of 64", func(s *partners.Signed, b *[]byte) {
			s.Nonce = strings.Repeat(nonce(), 3)[:64]
			resign(s, k.Secret, *b)
		}, 0},
		{"nonce of 65", func(s *partners.Signed, b *[]byte) {
			s.Nonce = strings.Repeat(nonce(), 3)[:65]
			resign(s, k.Secret, *b)
		}, fault.SignatureMalformed},
		{"nonce with a space", func(s *partners.Signed, b *[]byte) {
			s.Nonce = s.Nonce[:10] + " " + s.Nonce[11:]
			resign(s, k.Secret, *b)
		}, fault.SignatureMalformed},
		{"nonce non-ascii", func(s *partners.Signed, b *[]byte) { s.Nonce = s.Nonce[:20] + "é"; resign(s, k.Secret, *b) }, fault.SignatureMalformed},
		{"signature not hex", func(s *partners.Signed, _ *[]byte) { s.Signature = strings.Repeat("zz", 32) }, fault.SignatureMalformed},
		{"signature of 62 hex", func(s *partners.Signed, _ *[]byte) { s.Signature = s.Signature[:62] }, fault.SignatureMalformed},
		{"signature of 66 hex", func(s *partners.Signed, _ *[]byte) { s.Signature += "00" }, fault.SignatureMalformed},
		{"signature in upper case", func(s *partners.Signed, _ *[]byte) { s.Signature = strings.ToUpper(s.Signature) }, 0},
		{"kid of 65", func(s *partners.Signed, b *[]byte) { s.KID = strings.Repeat("k", 65); resign(s, k.Secret, *b) }, fault.SignatureMalformed},
		{"31 s old", at(-31 * time.Second), fault.TimestampStale},
		{"31 s ahead", at(31 * time.Second), fault.TimestampStale},
		{"an hour old", at(-time.Hour), fault.TimestampStale},
		{"29 s old", at(-29 * time.Second), 0},
		{"29 s ahead", at(29 * time.Second), 0},
		{"30 s old", at(-30 * time.Second), 0},
		{"30 s ahead", at(30 * time.Second), 0},
		{"unknown kid", func(s *partners.Signed, b *[]byte) { s.KID = "pk_doesnotexist00"; resign(s, k.Secret, *b) }, fault.KeyUnknown},
		{"wrong secret", func(s *partners.Signed, b *[]byte) { resign(s, other.Secret, *b) }, fault.SignatureInvalid},
		{"signed by another key", func(s *partners.Signed, b *[]byte) { s.KID = other.KID }, fault.SignatureInvalid},
		{"body changed after signing", func(_ *partners.Signed, b *[]byte) { *b = append([]byte(nil), (*b)[:len(*b)-1]...) }, fault.SignatureInvalid},
		{"body extended after signing", func(_ *partners.Signed, b *[]byte) { *b = append(append([]byte(nil), *b...), ' ') }, fault.SignatureInvalid},
		{"timestamp changed after signing", func(s *partners.Signed, _ *[]byte) { s.Timestamp = stamp(e.clk.Now().Add(time.Millisecond)) }, fault.SignatureInvalid},
		{"nonce changed after signing", func(s *partners.Signed, _ *[]byte) { s.Nonce = nonce() }, fault.SignatureInvalid},
		{"signature of the empty body", func(s *partners.Signed, _ *[]byte) { resign(s, k.Secret, nil) }, fault.SignatureInvalid},
		{"sent to another method than signed for", func(s *partners.Signed, _ *[]byte) { s.Path = "/api/v0/partnerRpc/auth.registerUser" }, fault.SignatureInvalid},
		{"path-style signature sent to /rpc", func(s *partners.Signed, b *[]byte) {
			s.Path = "/api/v0/partnerRpc/system.ping"
			resign(s, k.Secret, *b)
			s.Path = "/rpc"
		}, fault.SignatureInvalid},
		{"signed without the path", func(s *partners.Signed, b *[]byte) {
			p := s.Path
			s.Path = ""
			resign(s, k.Secret, *b)
			s.Path = p
		}, fault.SignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			s := e.sign(k, b)
			tt.mutate(&s, &b)
			p, err := e.svc.Verify(t.Context(), s, b)
			wantCode(t, "Verify", err, tt.want)
			if tt.want != 0 {
				if err == nil {
					t.Fatal("refusal without an error")
				}
				if p.KID != "" {
					t.Fatalf("refusal returned partner %q", p.KID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.KID != k.KID || strings.Join(p.Scopes, " ") != "auth user" || p.SecretSealed == "" {
				t.Fatalf("Verify returned %+v", p)
			}
		})
	}
}

func TestVerifyNonces(t *testing.T) {
	body := []byte(`{"method":"auth.getUserByEmailAndPassword"}`)

	t.Run("replay refused", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		s := e.sign(k, body)
		if _, err := e.svc.Verify(t.Context(), s, body); err != nil {
			t.Fatalf("first use: %v", err)
		}
		_, err := e.svc.Verify(t.Context(), s, body)
		wantCode(t, "replay", err, fault.NonceReplayed)
		// Still refused later in the window, and at its end the timestamp
		// itself is stale.
		e.advance(29 * time.Second)
		_, err = e.svc.Verify(t.Context(), s, body)
		wantCode(t, "replay after 29 s", err, fault.NonceReplayed)
		e.advance(2 * time.Second)
		_, err = e.svc.Verify(t.Context(), s, body)
		wantCode(t, "replay after 31 s", err, fault.TimestampStale)
	})

	t.Run("nonce outlives a timestamp from the future", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		ts, n := stamp(e.clk.Now().Add(30*time.Second)), nonce()
		s := partners.Signed{KID: k.KID, Timestamp: ts, Nonce: n, Path: "/rpc", Signature: partners.Sign(k.Secret, ts, n, k.KID, "/rpc", body)}
		if _, err := e.svc.Verify(t.Context(), s, body); err != nil {
			t.Fatalf("first use: %v", err)
		}
		e.advance(60 * time.Second) // the timestamp is now 30 s old: still fresh
		_, err := e.svc.Verify(t.Context(), s, body)
		wantCode(t, "replay 60 s later", err, fault.NonceReplayed)
	})

	t.Run("20 parallel identical requests", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		s := e.sign(k, body)
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() { _, errs[i] = e.svc.Verify(t.Context(), s, body) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch fault.CodeOf(err) {
			case 0:
				if err != nil {
					t.Fatalf("uncoded error: %v", err)
				}
				ok++
			case fault.NonceReplayed:
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 20 identical requests succeeded, want exactly 1", ok)
		}
	})

	t.Run("refused requests do not spend the nonce", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		good := e.sign(k, body)
		bad := good
		bad.Signature = partners.Sign("pks_guessed", good.Timestamp, good.Nonce, k.KID, good.Path, body)
		_, err := e.svc.Verify(t.Context(), bad, body)
		wantCode(t, "bad signature", err, fault.SignatureInvalid)
		stale := good
		stale.Timestamp = stamp(e.clk.Now().Add(-time.Minute))
		stale.Signature = partners.Sign(k.Secret, stale.Timestamp, stale.Nonce, k.KID, stale.Path, body)
		_, err = e.svc.Verify(t.Context(), stale, body)
		wantCode(t, "stale", err, fault.TimestampStale)
		if _, err := e.svc.Verify(t.Context(), good, body); err != nil {
			t.Fatalf("good request after refused ones with its nonce: %v", err)
		}
		_, err = e.svc.Verify(t.Context(), good, body)
		wantCode(t, "replay", err, fault.NonceReplayed)
	})

	t.Run("nonces are per key", func(t *testing.T) {
		e := newEnv(t)
		a, b := e.create(t), e.create(t)
		sa := e.sign(a, body)
		sb := sa
		sb.KID, sb.Signature = b.KID, partners.Sign(b.Secret, sa.Timestamp, sa.Nonce, b.KID, sa.Path, body)
		for _, s := range []partners.Signed{sa, sb} {
			if _, err := e.svc.Verify(t.Context(), s, body); err != nil {
				t.Fatalf("%s: %v", s.KID, err)
			}
		}
	})
}

func TestVerifyRevocation(t *testing.T) {
	body := []byte(`{}`)

	t.Run("Revoke takes effect at once", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		if _, err := e.svc.Verify(t.Context(), e.sign(k, body), body); err != nil {
			t.Fatal(err) // the key is now cached
		}
		if err := e.svc.Revoke(t.Context(), k.KID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Verify(t.Context(), e.sign(k, body), body)
		wantCode(t, "revoked key", err, fault.KeyUnknown)
	})

	t.Run("revoked in the store: refused within CacheTTL", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		if _, err := e.svc.Verify(t.Context(), e.sign(k, body), body); err != nil {
			t.Fatal(err)
		}
		// Another process (the CLI) revokes the key.
		if err := e.st.RevokePartner(t.Context(), k.KID); err != nil {
			t.Fatal(err)
		}
		e.advance(partners.CacheTTL)
		if _, err := e.svc.Verify(t.Context(), e.sign(k, body), body); err != nil {
			t.Fatalf("cached key refused before CacheTTL was over: %v", err)
		}
		e.advance(time.Millisecond)
		_, err := e.svc.Verify(t.Context(), e.sign(k, body), body)
		wantCode(t, "after CacheTTL", err, fault.KeyUnknown)
		e.advance(time.Hour)
		_, err = e.svc.Verify(t.Context(), e.sign(k, body), body)
		wantCode(t, "an hour later", err, fault.KeyUnknown)
	})

	t.Run("created in the store: accepted within CacheTTL", func(t *testing.T) {
		e := newEnv(t)
		const kid, secret = "pk_fromthecli0000", "pks_secretfromthecli"
		k := partners.Created{KID: kid, Secret: secret}
		_, err := e.svc.Verify(t.Context(), e.sign(k, body), body)
		wantCode(t, "unknown key", err, fault.KeyUnknown)
		sealed, err := e.ring.Seal([]byte(secret), "partner-secret:"+kid)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.CreatePartner(t.Context(), store.Partner{KID: kid, Name: "cli", SecretSealed: sealed, Scopes: []string{"auth"}}); err != nil {
			t.Fatal(err)
		}
		e.advance(partners.CacheTTL + time.Millisecond)
		if _, err := e.svc.Verify(t.Context(), e.sign(k, body), body); err != nil {
			t.Fatalf("key created by another process not accepted after CacheTTL: %v", err)
		}
	})

	t.Run("secret sealed for another kid", func(t *testing.T) {
		e := newEnv(t)
		k := e.create(t)
		p, err := e.st.Partner(t.Context(), k.KID)
		if err != nil {
			t.Fatal(err)
		}
		// A row whose sealed secret was copied from another key must not
		// open: the seal is bound to its kid.
		p.KID = "pk_copiedsecret00"
		if err := e.st.CreatePartner(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		copied := partners.Created{KID: p.KID, Secret: k.Secret}
		_, err = e.svc.Verify(t.Context(), e.sign(copied, body), body)
		if err == nil || fault.CodeOf(err) != 0 {
			t.Fatalf("Verify with a secret sealed for another kid = %v, want an internal error", err)
		}
	})
}

func TestVerifyRedisDown(t *testing.T) {
	e := newEnv(t)
	k := e.create(t)
	s := e.sign(k, nil)
	e.mr.Close()
	p, err := e.svc.Verify(t.Context(), s, nil)
	wantCode(t, "Redis down", err, fault.Unavailable)
	if p.KID != "" {
		t.Fatal("a partner was returned with Redis down")
	}
}

// TestSignVector is docs/api.md's worked example, so the documented string
// to sign and this package's cannot drift apart.
func TestSignVector(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","method":"system.ping","id":1}`)
	got := partners.Sign("pks_8rJvQm2yT5kLw3NcXa7HdPz1GfUe6BsoYiK0tRqWnE4", "1767225600000", "3f9c2a7b1e4d6058a9b0c1d2e3f40516", "pk_Zk3n9QfV2mXw8LtR", "/rpc", body)
	if want := "22c9f020a415f1c570ccc6fc2c8a84d5490a359f3090af7250453ddceb52669b"; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}
