package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/store"
)

// refreshPrefix marks refresh tokens for leaked-secret scans. A token is
// pgr_<user id>.<session id>.<secret>: the ids route it to its family
// (one Redis slot per user) and the 256-bit secret is what proves it; only
// the SHA-256 of the whole token is stored.
const refreshPrefix = "pgr_"

// DefaultRefreshLifetime is a session's absolute lifetime: refreshing never
// extends it past this from the login.
const DefaultRefreshLifetime = 30 * 24 * time.Hour

// Pair is what a login or a refresh hands the client.
type Pair struct {
	Access    string
	AccessExp time.Time
	Refresh   string
	SessionID string
	UserID    string
}

// Refresher runs refresh-token families over Service's access JWTs.
type Refresher struct {
	KV       store.RefreshFamilies
	Access   *Service
	Revoked  *Revocations
	Lifetime time.Duration
	Log      zerolog.Logger
	Now      func() time.Time
	// Activity, when set, gets the token-session events in the user's
	// activity trail; a reused refresh token is recorded there as denied.
	Activity *activity.Recorder
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refresher) lifetime() time.Duration {
	if r.Lifetime > 0 {
		return r.Lifetime
	}
	return DefaultRefreshLifetime
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tokens: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newRefresh(userID, sid string) (string, error) {
	secret, err := random(32)
	if err != nil {
		return "", err
	}
	return refreshPrefix + userID + "." + sid + "." + secret, nil
}

// parseRefresh splits a refresh token without trusting it.
func parseRefresh(token string) (userID, sid string, ok bool) {
	rest, found := strings.CutPrefix(token, refreshPrefix)
	if !found || len(token) > 128 {
		return "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || len(parts[1]) != 22 || len(parts[2]) != 43 {
		return "", "", false
	}
	if _, err := uuid.Parse(parts[0]); err != nil || len(parts[0]) != 36 {
		return "", "", false
	}
	for _, p := range parts[1:] {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return "", "", false
		}
	}
	return parts[0], parts[1], true
}

// Start begins a session for userID: a new family and its first pair.
func (r *Refresher) Start(ctx context.Context, userID string) (Pair, error) {
	sid, err := random(16)
	if err != nil {
		return Pair{}, err
	}
	rt, err := newRefresh(userID, sid)
	if err != nil {
		return Pair{}, err
	}
	now := r.now()
	f := store.RefreshFamily{ID: sid, UserID: userID, Created: now, ExpiresAt: now.Add(r.lifetime())}
	if err := r.KV.CreateFamily(ctx, f, hashRefresh(rt)); err != nil {
		return Pair{}, core.StoreError("tokens: create refresh family", err)
	}
	at, exp, err := r.Access.Issue(ctx, userID, sid)
	if err != nil {
		return Pair{}, err
	}
	r.audit(ctx, "session.created", userID, sid)
	return Pair{Access: at, AccessExp: exp, Refresh: rt, SessionID: sid, UserID: userID}, nil
}

// Refresh exchanges a refresh token for a new pair. Each token works once:
// a replaced one presented again ends its whole session (its JWTs too) and
// is fault.RefreshTokenReused; anything else that does not match is
// fault.RefreshTokenInvalid and changes nothing.
func (r *Refresher) Refresh(ctx context.Context, token string) (Pair, error) {
	userID, sid, ok := parseRefresh(token)
	if !ok {
		return Pair{}, fault.New(fault.RefreshTokenInvalid)
	}
	next, err := newRefresh(userID, sid)
	if err != nil {
		return Pair{}, err
	}
	res, _, err := r.KV.RotateRefresh(ctx, userID, sid, hashRefresh(token), hashRefresh(next))
	if err != nil {
		return Pair{}, core.StoreError("tokens: rotate refresh token", err)
	}
	switch res {
	case store.RotateReused:
		r.audit(ctx, "refresh.reused", userID, sid)
		if err := r.revoke(ctx, sid); err != nil {
			return Pair{}, err
		}
		return Pair{}, fault.New(fault.RefreshTokenReused)
	case store.RotateOK:
	default:
		return Pair{}, fault.New(fault.RefreshTokenInvalid)
	}
	at, exp, err := r.Access.Issue(ctx, userID, sid)
	if err != nil {
		return Pair{}, err
	}
	r.audit(ctx, "session.refreshed", userID, sid)
	return Pair{Access: at, AccessExp: exp, Refresh: next, SessionID: sid, UserID: userID}, nil
}

// EndSession ends session sid of userID: its family and its JWTs. An
// unknown session is not an error (logging out twice succeeds).
func (r *Refresher) EndSession(ctx context.Context, userID, sid string) error {
	if _, err := r.KV.DeleteFamily(ctx, userID, sid); err != nil {
		return core.StoreError("tokens: end session", err)
	}
	r.audit(ctx, "session.ended", userID, sid)
	return r.revoke(ctx, sid)
}

// EndByRefresh ends the session of a refresh token, if the token proves
// it: the ids in a token are not secret, so the token is first spent like
// a refresh (one step in Redis) and only a current one ends its session. A
// replaced one is reuse and ends the session too; anything else, or a
// token of another user than userID (when set), is
// fault.RefreshTokenInvalid and changes nothing.
func (r *Refresher) EndByRefresh(ctx context.Context, userID, token string) error {
	uid, sid, ok := parseRefresh(token)
	if !ok || (userID != "" && uid != userID) {
		return fault.New(fault.RefreshTokenInvalid)
	}
	spent, err := random(32)
	if err != nil {
		return err
	}
	res, _, err := r.KV.RotateRefresh(ctx, uid, sid, hashRefresh(token), hashRefresh(spent))
	if err != nil {
		return core.StoreError("tokens: end session", err)
	}
	switch res {
	case store.RotateOK:
		return r.EndSession(ctx, uid, sid)
	case store.RotateReused:
		r.audit(ctx, "refresh.reused", uid, sid)
		if err := r.revoke(ctx, sid); err != nil {
			return err
		}
		return fault.New(fault.RefreshTokenReused)
	}
	return fault.New(fault.RefreshTokenInvalid)
}

// EndUserSessions ends every session of userID but except.
func (r *Refresher) EndUserSessions(ctx context.Context, userID, except string) error {
	ended, err := r.KV.DeleteUserFamilies(ctx, userID, except)
	if rerr := r.revoke(ctx, ended...); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return core.StoreError("tokens: end user sessions", err)
	}
	return nil
}

func (r *Refresher) revoke(ctx context.Context, sids ...string) error {
	if r.Revoked == nil || len(sids) == 0 {
		return nil
	}
	// Past the last JWT of the session, with the verifier's leeway.
	return r.Revoked.Revoke(ctx, sids, r.now().Add(r.Access.lifetime()+2*leeway))
}

// audit writes one audit event; it names sessions by id, never by token.
func (r *Refresher) audit(ctx context.Context, event, userID, sid string) {
	c := core.CallFrom(ctx)
	r.Log.Info().Str("event", event).Str("user", userID).Str("session", sid).Str("actor", c.Actor()).
		Str("ip", c.IP).Str("rid", c.RequestID).Msg("audit")
	action, result := "", store.ResultSucceed
	switch event {
	case "session.ended":
		action = "logout"
	case "session.refreshed":
		action = "refresh"
	case "refresh.reused":
		action, result = "refresh_reused", store.ResultDenied
	default:
		return
	}
	r.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: "session", Action: action, Result: result,
		Data: map[string]any{"session": sid}})
}

// RefreshSessionID returns the session id a well-formed refresh token
// names, without checking it: for matching it with a session id sent
// beside it (seed 004's sessid cookie). ok is false for a malformed token.
func RefreshSessionID(token string) (sid string, ok bool) {
	_, sid, ok = parseRefresh(token)
	return sid, ok
}
