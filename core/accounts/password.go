package accounts

import (
	"context"

	"partnergate/core"
	"partnergate/core/events"
	"partnergate/core/password"
	"partnergate/store"
)

// passwordInputs are what a new password must not be built from: the
// user's identifiers and names (SECURITY.md 3).
func (s *Service) passwordInputs(ctx context.Context, u store.User) []string {
	in := make([]string, 0, len(u.Identifiers)+2)
	for _, id := range u.Identifiers {
		in = append(in, id.Value)
	}
	if p, err := s.Store.Profile(ctx, u.ID); err == nil {
		in = append(in, p.FirstName, p.LastName)
	}
	if p, err := s.ChatProfile(ctx, u.ID); err == nil && p.Name != "" {
		in = append(in, p.Name)
	}
	return in
}

// CheckNewPassword applies the registration policy to a password the user
// is about to set, so a caller can refuse it before it consumes anything
// (a code, a token).
func (s *Service) CheckNewPassword(ctx context.Context, u store.User, pw string) error {
	return password.Check(pw, s.passwordInputs(ctx, u)...)
}

// SetPassword checks pw against the policy, stores its hash and ends every
// session of the user but keepHash ("" ends all; see EndUserSessions), so
// a reset or a change leaves no other device signed in (SECURITY.md 4).
func (s *Service) SetPassword(ctx context.Context, u store.User, pw, keepHash string) error {
	if err := s.CheckNewPassword(ctx, u, pw); err != nil {
		return err
	}
	h, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.Store.SetPasswordHash(ctx, u.ID, h); err != nil {
		return core.StoreError("accounts: set password", err)
	}
	n, err := s.EndUserSessions(ctx, u.ID, keepHash)
	if err != nil {
		return err
	}
	s.audit(ctx, "password.changed", u.ID)
	if n > 0 || keepHash == "" {
		s.publish(ctx, u.ID, events.SessionRevoked, map[string]any{"reason": "password changed"})
	}
	return nil
}
