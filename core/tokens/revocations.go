package tokens

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// PollEvery is how often a gateway reads the revocation list's version
// from Redis; an ended session's JWTs stop everywhere within about that.
const PollEvery = time.Second

// staleAfter is how long a gateway trusts its copy without a successful
// poll; past it JWT checks fail closed (SECURITY.md 22).
const staleAfter = 5 * time.Second

// Revocations is this process's copy of the shared list of ended sessions.
// Run keeps it current; IsRevoked reads memory only.
type Revocations struct {
	KV  store.Revocations
	Log zerolog.Logger
	Now func() time.Time

	mu      sync.RWMutex
	version int64
	ids     map[string]struct{}
	synced  time.Time
}

func (r *Revocations) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Sync reads the version and, when it moved, the list.
func (r *Revocations) Sync(ctx context.Context) error {
	v, err := r.KV.RevocationVersion(ctx)
	if err != nil {
		return core.StoreError("tokens: revocation version", err)
	}
	r.mu.RLock()
	same := r.ids != nil && v == r.version
	r.mu.RUnlock()
	if !same {
		v2, ids, err := r.KV.RevokedSessions(ctx)
		if err != nil {
			return core.StoreError("tokens: revoked sessions", err)
		}
		m := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			m[id] = struct{}{}
		}
		r.mu.Lock()
		r.version, r.ids = v2, m
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.synced = r.now()
	r.mu.Unlock()
	return nil
}

// Run polls until ctx ends.
func (r *Revocations) Run(ctx context.Context) {
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Sync(ctx); err != nil && ctx.Err() == nil {
				r.Log.Warn().Err(err).Msg("tokens: revocation list not refreshed")
			}
		}
	}
}

// Revoke ends sessions ids for every gateway and, at once, for this one.
func (r *Revocations) Revoke(ctx context.Context, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := r.KV.RevokeSessions(ctx, ids, until); err != nil {
		return core.StoreError("tokens: revoke sessions", err)
	}
	r.mu.Lock()
	if r.ids == nil {
		r.ids = map[string]struct{}{}
	}
	for _, id := range ids {
		r.ids[id] = struct{}{}
	}
	r.mu.Unlock()
	return nil
}

// IsRevoked reports whether sid's session was ended, from memory. A copy
// not refreshed for staleAfter is fault.Unavailable.
func (r *Revocations) IsRevoked(sid string) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ids == nil || r.now().Sub(r.synced) > staleAfter {
		return false, fault.New(fault.Unavailable)
	}
	_, ok := r.ids[sid]
	return ok, nil
}
