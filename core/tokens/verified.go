package tokens

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedMax caps the verified-token cache; past it the cache starts
// over (one signature check per token again), never memory without bound.
const verifiedMax = 50_000

// verified remembers the claims of access JWTs whose signature, issuer and
// audience already checked out, keyed by the token's SHA-256, until they
// expire: a client calls with the same JWT for its whole 15 minutes, and
// an Ed25519 verify costs several times a whole system.ping. Only what
// cannot change for a token is cached; the expiry is checked again on
// every hit, and the revocation list and the user's state are checked on
// every call after the cache, so a hit never skips an ended session.
type verified struct {
	mu sync.RWMutex
	m  map[[32]byte]Claims
}

func (v *verified) get(token string, now time.Time) (Claims, bool) {
	sum := sha256.Sum256([]byte(token))
	v.mu.RLock()
	c, ok := v.m[sum]
	v.mu.RUnlock()
	if !ok || !now.Before(c.Expiry.Add(leeway)) {
		return Claims{}, false
	}
	return c, true
}

func (v *verified) put(token string, c Claims) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	if v.m == nil || len(v.m) >= verifiedMax {
		v.m = make(map[[32]byte]Claims, 1024)
	}
	v.m[sum] = c
	v.mu.Unlock()
}
