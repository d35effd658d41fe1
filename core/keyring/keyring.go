// Package keyring seals secrets that must be recovered later (partner HMAC
// secrets, TOTP seeds, API-key secrets) with AES-256-GCM, under a list of keys
// of which the first seals and all open, so keys can be rotated without
// re-sealing everything at once.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of every key, in bytes.
const KeySize = 32

// ErrOpen is returned for a sealed value that no key opens.
var ErrOpen = errors.New("keyring: cannot open sealed value")

type key struct {
	id   string
	aead cipher.AEAD
	raw  []byte
}

// Ring is an ordered list of keys; the first is current.
type Ring struct {
	keys []key
}

// New returns a ring of raw 32-byte keys, current first.
func New(raw ...[]byte) (*Ring, error) {
	if len(raw) == 0 {
		return nil, errors.New("keyring: no keys")
	}
	r := &Ring{}
	for i, k := range raw {
		if len(k) != KeySize {
			return nil, fmt.Errorf("keyring: key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %d: %w", i, err)
		}
		sum := sha256.Sum256(k)
		r.keys = append(r.keys, key{id: hex.EncodeToString(sum[:4]), aead: aead, raw: append([]byte(nil), k...)})
	}
	return r, nil
}

// Parse reads a comma-separated list of base64 (standard or URL) keys.
func Parse(s string) (*Ring, error) {
	var raw [][]byte
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := decodeKey(part)
		if err != nil {
			return nil, err
		}
		raw = append(raw, k)
	}
	return New(raw...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("keyring: a key must be %d bytes in base64", KeySize)
}

// LoadOrCreate reads the key file at path, creating it with one fresh key and
// mode 0600 when it does not exist.
func LoadOrCreate(path string) (*Ring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, KeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("keyring: generate key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return LoadOrCreate(path)
			}
			return nil, fmt.Errorf("keyring: create key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("keyring: write key file: %w", werr)
		}
		return New(k)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: read key file: %w", err)
	}
	return Parse(strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ","))
}

// Seal encrypts plain under the current key. The result names the key, so
// Open finds it after a rotation.
func (r *Ring) Seal(plain []byte, context string) (string, error) {
	k := r.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("keyring: nonce: %w", err)
	}
	ct := k.aead.Seal(nonce, nonce, plain, []byte(context))
	return "v1." + k.id + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a value made by Seal with the same context.
func (r *Ring) Open(sealed, context string) ([]byte, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, ErrOpen
	}
	ct, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, ErrOpen
	}
	for _, k := range r.keys {
		if k.id != parts[1] || len(ct) < k.aead.NonceSize() {
			continue
		}
		n := k.aead.NonceSize()
		if plain, err := k.aead.Open(nil, ct[:n], ct[n:], []byte(context)); err == nil {
			return plain, nil
		}
	}
	return nil, ErrOpen
}

// MAC returns HMAC-SHA256 of msg under a key derived from the current key for
// purpose, hex-encoded: how codes and tokens are stored so that a copy of
// Redis alone cannot verify guesses offline.
func (r *Ring) MAC(purpose string, msg []byte) string {
	m := hmac.New(sha256.New, r.derive(purpose))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func (r *Ring) derive(purpose string) []byte {
	m := hmac.New(sha256.New, r.keys[0].raw)
	m.Write([]byte("partnergate/" + purpose))
	return m.Sum(nil)
}
