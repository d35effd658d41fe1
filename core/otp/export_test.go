package otp

import (
	"time"

	potp "github.com/pquerna/otp"
)

// CodeAt is the code of secret at t, for the RFC 6238 vectors.
func CodeAt(secret string, t time.Time, digits potp.Digits) (string, error) {
	return codeAt(secret, uint64(t.Unix()/Period), digits)
}
