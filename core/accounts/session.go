package accounts

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

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// tokenPrefix marks partnergate session tokens so they are recognisable in a
// leaked-secret scan; 43 base64url characters carry 256 random bits.
const tokenPrefix = "pgs_"

// Session is what a login hands the client.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// HashToken is how a session token is stored and looked up: SHA-256, hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSession starts a session for userID with a fresh 256-bit token.
func (s *Service) NewSession(ctx context.Context, userID, ip, userAgent string) (Session, error) {
	return s.newSession(ctx, userID, ip, userAgent, store.Device{})
}

// newSession starts a session, of a device when d.ID is set (the store then
// ends the device's earlier session).
func (s *Service) newSession(ctx context.Context, userID, ip, userAgent string, d store.Device) (Session, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Session{}, fmt.Errorf("account: session token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC()
	ks := store.Session{
		TokenHash: HashToken(token), UserID: userID, IP: ip, UserAgent: truncate(userAgent, 256),
		Created: now, LastSeen: now, ExpiresAt: now.Add(s.Sessions.Absolute), Device: d,
	}
	if err := s.KV.CreateSession(ctx, ks, s.Sessions.Idle); err != nil {
		return Session{}, core.StoreError("accounts: create session", err)
	}
	s.audit(ctx, "session.created", userID)
	return Session{Token: token, ExpiresAt: ks.ExpiresAt}, nil
}

// SessionByToken returns the live session of token and slides its idle
// timeout, or fault.SessionInvalid. It fails closed: Redis down is
// fault.Unavailable, never an unchecked session.
func (s *Service) SessionByToken(ctx context.Context, token string) (store.Session, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return store.Session{}, fault.New(fault.SessionInvalid)
	}
	ks, err := s.KV.Session(ctx, HashToken(token), s.Sessions.Idle)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, fault.New(fault.SessionInvalid)
	}
	if err != nil {
		return store.Session{}, core.StoreError("accounts: read session", err)
	}
	return ks, nil
}

// EndSession deletes one session server-side.
func (s *Service) EndSession(ctx context.Context, tokenHash string) error {
	if err := s.KV.DeleteSession(ctx, tokenHash); err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("accounts: delete session", err)
	}
	return nil
}

// Logout ends the caller's own session (userID's, tokenHash) and records
// the logout in the user's trail.
func (s *Service) Logout(ctx context.Context, userID, tokenHash string) error {
	if err := s.EndSession(ctx, tokenHash); err != nil {
		return err
	}
	s.audit(ctx, "session.ended", userID)
	return nil
}

// TokenSessions ends the sessions another credential keeps for a user (seed
// 004's refresh-token families and their access JWTs), so that a password
// reset, a recovery or a deletion ends those too.
type TokenSessions interface {
	EndUserSessions(ctx context.Context, userID, except string) error
}

// EndUserSessions revokes every session of userID except keepHash: the
// opaque sessions and, when Tokens is set, every refresh-token family and
// its access JWTs. keepHash "jwt:<sid>" keeps that token session instead.
func (s *Service) EndUserSessions(ctx context.Context, userID, keepHash string) (int, error) {
	keepSID, isJWT := strings.CutPrefix(keepHash, "jwt:")
	opaqueKeep := keepHash
	if isJWT {
		opaqueKeep = ""
	} else {
		keepSID = ""
	}
	n, err := s.KV.DeleteUserSessions(ctx, userID, opaqueKeep)
	if err != nil {
		return 0, core.StoreError("accounts: delete sessions", err)
	}
	if s.Tokens != nil {
		if err := s.Tokens.EndUserSessions(ctx, userID, keepSID); err != nil {
			return n, fmt.Errorf("accounts: end token sessions: %w", err)
		}
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// CallerState is the account check every authenticated call makes, for
// opaque sessions and access JWTs alike: nil while the user may act,
// fault.UserDisabled once deactivated, fault.NotFound once deleted. It
// reads the store's per-process user copy (SessionUser), which every
// gateway's writes clear, so it costs no round trip while the copy is
// fresh and a deactivation stops the user's tokens within a second.
func (s *Service) CallerState(ctx context.Context, userID string) error {
	u, _, err := s.SessionUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.State == store.StateDisabled {
		return fault.New(fault.UserDisabled)
	}
	return nil
}
