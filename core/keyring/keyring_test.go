package keyring_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"partnergate/core/keyring"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, keyring.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newRing(t *testing.T, keys ...[]byte) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(keys...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func seal(t *testing.T, r *keyring.Ring, plain, context string) string {
	t.Helper()
	s, err := r.Seal([]byte(plain), context)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	r := newRing(t, newKey(t))
	for _, plain := range []string{"", "pks_secret", strings.Repeat("x", 4096)} {
		s := seal(t, r, plain, "partner-secret:pk_1")
		if !strings.HasPrefix(s, "v1.") || strings.Contains(s, plain) && plain != "" {
			t.Fatalf("sealed form %q: want v1. prefix and no plaintext", s)
		}
		got, err := r.Open(s, "partner-secret:pk_1")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if string(got) != plain {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
	}
	// Sealing twice gives different ciphertexts (fresh nonces).
	if a, b := seal(t, r, "same", "c"), seal(t, r, "same", "c"); a == b {
		t.Fatal("two seals of the same value are identical")
	}
}

func TestOpenRefuses(t *testing.T) {
	r := newRing(t, newKey(t))
	other := newRing(t, newKey(t))
	const ctx = "partner-secret:pk_1"
	good := seal(t, r, "pks_secret", ctx)
	parts := strings.SplitN(good, ".", 3)
	ct, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(c)
	}
	tests := []struct {
		name, sealed, context string
		ring                  *keyring.Ring
	}{
		{"wrong context", good, "partner-secret:pk_2", r},
		{"empty context", good, "", r},
		{"other key", good, ctx, other},
		{"ciphertext byte flipped", flip(len(ct) - 20), ctx, r},
		{"tag byte flipped", flip(len(ct) - 1), ctx, r},
		{"nonce byte flipped", flip(0), ctx, r},
		{"truncated", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(ct[:len(ct)-1]), ctx, r},
		{"shorter than a nonce", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(ct[:4]), ctx, r},
		{"key id changed", parts[0] + ".00000000." + parts[2], ctx, r},
		{"version changed", "v2." + parts[1] + "." + parts[2], ctx, r},
		{"not base64", parts[0] + "." + parts[1] + ".!!!", ctx, r},
		{"no dots", "garbage", ctx, r},
		{"empty", "", ctx, r},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.sealed, tt.context)
			if !errors.Is(err, keyring.ErrOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrOpen", got, err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := newKey(t), newKey(t)
	a := newRing(t, oldKey)
	b := newRing(t, newKey, oldKey)

	sealedByA := seal(t, a, "old secret", "c")
	if got, err := b.Open(sealedByA, "c"); err != nil || string(got) != "old secret" {
		t.Fatalf("rotated ring opening old value = %q, %v", got, err)
	}
	sealedByB := seal(t, b, "new secret", "c")
	if got, err := a.Open(sealedByB, "c"); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("old ring opened a value sealed with the new key: %q, %v", got, err)
	}
	if got, err := b.Open(sealedByB, "c"); err != nil || string(got) != "new secret" {
		t.Fatalf("rotated ring opening its own value = %q, %v", got, err)
	}
	// The first key seals: what B seals names a different key than what A seals.
	if strings.Split(sealedByA, ".")[1] == strings.Split(sealedByB, ".")[1] {
		t.Fatal("rotated ring sealed with the old key")
	}
}

func TestNewAndParse(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	std, raw := base64.StdEncoding.EncodeToString(k1), base64.RawURLEncoding.EncodeToString(k2)
	short := base64.StdEncoding.EncodeToString(k1[:16])
	long := base64.StdEncoding.EncodeToString(append(bytes.Clone(k1), 0))

	t.Run("New", func(t *testing.T) {
		for name, keys := range map[string][][]byte{
			"no keys":   nil,
			"short key": {k1[:31]},
			"long key":  {append(bytes.Clone(k1), 0)},
			"one bad":   {k1, k2[:16]},
		} {
			if _, err := keyring.New(keys...); err == nil {
				t.Errorf("New(%s) succeeded", name)
			}
		}
	})

	good := []struct{ name, in string }{
		{"standard", std},
		{"raw url", raw},
		{"two keys with spaces", " " + std + " , " + raw + " "},
		{"trailing comma", std + ","},
	}
	for _, tt := range good {
		t.Run("ok/"+tt.name, func(t *testing.T) {
			r, err := keyring.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// The parsed ring opens what a ring of the first key sealed.
			first := k1
			if tt.name == "raw url" {
				first = k2
			}
			s := seal(t, newRing(t, first), "v", "c")
			if got, err := r.Open(s, "c"); err != nil || string(got) != "v" {
				t.Fatalf("parsed ring cannot open: %q, %v", got, err)
			}
		})
	}

	bad := []struct{ name, in string }{
		{"empty", ""},
		{"only commas", " , ,"},
		{"not base64", "not-a-key!"},
		{"16 bytes", short},
		{"33 bytes", long},
		{"one good one bad", std + "," + short},
		{"hex", strings.Repeat("ab", 32)},
	}
	for _, tt := range bad {
		t.Run("bad/"+tt.name, func(t *testing.T) {
			if r, err := keyring.Parse(tt.in); err == nil || r != nil {
				t.Fatalf("Parse(%q) = %v, %v; want an error", tt.in, r, err)
			}
		})
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "keys")
	r1, err := keyring.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate (create): %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("key file mode = %o, want 600", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != keyring.KeySize {
		t.Fatalf("key file holds %q, want one base64 32-byte key", b)
	}

	sealed := seal(t, r1, "pks_secret", "c")
	r2, err := keyring.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate (reload): %v", err)
	}
	if got, err := r2.Open(sealed, "c"); err != nil || string(got) != "pks_secret" {
		t.Fatalf("reloaded ring cannot open: %q, %v", got, err)
	}
	if r1.MAC("p", []byte("m")) != r2.MAC("p", []byte("m")) {
		t.Fatal("reloaded ring has a different current key")
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Fatal("reload rewrote the key file")
	}

	t.Run("one key per line", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "keys")
		k1, k2 := newKey(t), newKey(t)
		content := base64.StdEncoding.EncodeToString(k1) + "\n" + base64.StdEncoding.EncodeToString(k2) + "\n"
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := keyring.LoadOrCreate(p)
		if err != nil {
			t.Fatal(err)
		}
		s := seal(t, newRing(t, k2), "v", "c")
		if got, err := r.Open(s, "c"); err != nil || string(got) != "v" {
			t.Fatalf("second key of the file not used for opening: %q, %v", got, err)
		}
	})

	t.Run("bad file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "keys")
		if err := os.WriteFile(p, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.LoadOrCreate(p); err == nil {
			t.Fatal("LoadOrCreate accepted a bad key file")
		}
	})
}

func TestMAC(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	r := newRing(t, k1)
	msg := []byte("123456")
	m := r.MAC("code", msg)
	if len(m) != 64 || strings.Trim(m, "0123456789abcdef") != "" {
		t.Fatalf("MAC = %q, want 64 hex characters", m)
	}
	tests := []struct {
		name  string
		got   string
		equal bool
	}{
		{"stable", r.MAC("code", msg), true},
		{"same key, another ring", newRing(t, k1).MAC("code", msg), true},
		{"other purpose", r.MAC("token", msg), false},
		{"purpose is not a message prefix", r.MAC("cod", append([]byte("e"), msg...)), false},
		{"other message", r.MAC("code", []byte("123457")), false},
		{"other key", newRing(t, k2).MAC("code", msg), false},
		{"rotated ring uses its new key", newRing(t, k2, k1).MAC("code", msg), false},
		{"old key kept second changes nothing", newRing(t, k1, k2).MAC("code", msg), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == m) != tt.equal {
				t.Fatalf("MAC %q vs %q: equal = %v, want %v", tt.got, m, tt.got == m, tt.equal)
			}
		})
	}
}
