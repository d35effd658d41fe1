package otp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"partnergate/core/fault"
)

// Kinds of second-factor code.
const (
	KindTOTP     = "totp"     // 6 digits from the authenticator app
	KindRecovery = "recovery" // one of the ten single-use recovery codes
)

// MaxCodeLen bounds what ParseCode looks at: a recovery code with its dashes
// and a few spaces fits well within it.
const MaxCodeLen = 64

// recoveryLen is a recovery code's length in base32 characters: 100 random
// bits, far past guessing within the throttle, so a plain SHA-256 of it is
// as safe to store as a slow hash would be.
const recoveryLen = 20

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// Code is a parsed second-factor code: its kind and canonical form (the 6
// digits, or the recovery code upper-cased without separators).
type Code struct {
	Kind  string
	Canon string
}

// ParseCode reads a second-factor code as a user types it: exactly 6 ASCII
// digits, or a recovery code of 20 base32 characters in any case, with
// dashes and spaces anywhere ignored. An empty code is fault.OTPRequired;
// anything else is fault.OTPMalformed. Nothing is checked against a secret.
func ParseCode(s string) (Code, error) {
	if s == "" {
		return Code{}, fault.New(fault.OTPRequired)
	}
	if len(s) > MaxCodeLen {
		return Code{}, fault.New(fault.OTPMalformed)
	}
	if len(s) == Digits && allDigits(s) {
		return Code{Kind: KindTOTP, Canon: s}, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(base32Alphabet, c) < 0 {
			return Code{}, fault.New(fault.OTPMalformed)
		}
		b.WriteByte(c)
	}
	if b.Len() != recoveryLen {
		return Code{}, fault.New(fault.OTPMalformed)
	}
	return Code{Kind: KindRecovery, Canon: b.String()}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newRecoveryCode returns a fresh recovery code as it is shown,
// XXXXX-XXXXX-XXXXX-XXXXX.
func newRecoveryCode() (string, error) {
	var raw [recoveryLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("otp: recovery code: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(base32Alphabet[r&31]) // 256 is a multiple of 32: uniform
	}
	return b.String(), nil
}

// recoveryHash is how a recovery code is stored: SHA-256 over the user and
// the canonical code, so one code's hash means nothing for another user.
func recoveryHash(userID, canon string) string {
	sum := sha256.Sum256([]byte("partnergate/totp-recovery\x00" + userID + "\x00" + canon))
	return hex.EncodeToString(sum[:])
}
