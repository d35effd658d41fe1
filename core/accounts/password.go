package accounts

import (
	"context"

	"partnergate/core"
	"partnergate/core/events"
	"partnergate/core/fault"
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

// ChangePassword is a signed-in user's change: the current password is
// checked as a login is (throttles, backoff and failure counting
// included; a wrong one is fault.WrongCredentials), then the new one is
// set and every other session ended. keepHash is the caller's session.
func (s *Service) ChangePassword(ctx context.Context, userID, old, pw, keepHash, ip string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if len(u.Identifiers) == 0 {
		return fault.New(fault.WrongCredentials)
	}
	// Refuse a bad new password before the old one costs a hash or a try.
	if err := s.CheckNewPassword(ctx, u, pw); err != nil {
		return err
	}
	// A re-check inside a session: the password, throttled as a login, but
	// no second factor (the session already passed it).
	if err := s.ConfirmPassword(core.WithCall(ctx, callWithIP(ctx, ip)), userID, old); err != nil {
		if fault.CodeOf(err) == fault.WrongCredentials {
			s.audit(ctx, "password.change_failed", u.ID, "reason", "old password wrong")
		}
		return err
	}
	return s.SetPassword(ctx, u, pw, keepHash)
}
