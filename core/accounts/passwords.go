package accounts

import (
	"context"
	"errors"
	"net/url"

	"partnergate/core"
	"partnergate/core/codes"
	"partnergate/core/events"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
)

// Field names of the faults ChangePassword and ResetPasswordByLink return; a
// dialect renames them to its seed's (password_old, old_password, ...).
const (
	FieldOldPassword = "old"
	FieldNewPassword = "new"
)

// PasswordChange is a logged-in user changing their password.
type PasswordChange struct {
	UserID string
	Old    string
	New    string
	// KeepSession is the caller's session, which stays: a session token's
	// hash, or "jwt:<sid>" for a token session (rpc.Caller.SessionHash).
	KeepSession string
	IP          string
}

// ChangePassword is every dialect's password change (SECURITY.md 4): the
// current password is checked under the login throttles of the account
// (a wrong one counts as a failed login), the new one against the policy,
// then every other session of the user ends, opaque sessions and token
// families alike. Faults carry Fields named FieldOldPassword and
// FieldNewPassword: fault.Invalid when one is missing or the new one equals
// the old, fault.WrongCredentials for a wrong current password, a password
// policy fault for the new one; fault.Throttled while backed off. Nothing
// changes on any fault.
func (s *Service) ChangePassword(ctx context.Context, c PasswordChange) error {
	fields := map[string]string{}
	if c.Old == "" {
		fields[FieldOldPassword] = "required"
	}
	if c.New == "" {
		fields[FieldNewPassword] = "required"
	}
	if len(fields) > 0 {
		return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: fields}
	}
	u, err := s.User(ctx, c.UserID)
	if err != nil {
		return err
	}
	// The new password's policy is checked before the old one is: a weak
	// new password must not cost a failed-login count.
	if err := s.checkNewPassword(ctx, u, c.New); err != nil {
		return err
	}
	release, err := s.Hasher.Reserve(ctx)
	if err != nil {
		return err
	}
	defer release()
	subject := "u:" + u.ID
	if err := s.admitLogin(ctx, subject, c.IP); err != nil {
		return err
	}
	var hash string
	cred, err := s.Store.Credential(ctx, u.ID)
	switch {
	case err == nil:
		hash = cred.PasswordHash
	case !errors.Is(err, store.ErrNotFound):
		return core.StoreError("accounts: read credential", err)
	}
	ok, _, err := s.Hasher.Verify(ctx, c.Old, hash)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordIPFailure(ctx, c.IP); err != nil {
			return err
		}
		s.audit(ctx, "password.change_failed", u.ID)
		return fault.Field(fault.WrongCredentials, FieldOldPassword, "wrong password")
	}
	if err := s.KV.ResetFailures(ctx, subject); err != nil {
		return core.StoreError("accounts: reset failures", err)
	}
	if password.Normalize(c.Old) == password.Normalize(c.New) {
		return fault.Field(fault.Invalid, FieldNewPassword, "must differ from the current password")
	}
	h, err := s.Hasher.Hash(ctx, c.New)
	release()
	if err != nil {
		return err
	}
	if err := s.setPassword(ctx, u.ID, h, c.KeepSession); err != nil {
		return err
	}
	s.audit(ctx, "password.changed", u.ID)
	return nil
}

// checkNewPassword applies the password policy (CheckNewPassword: the
// user's identifiers and names as inputs it must not resemble); its fault
// names FieldNewPassword.
func (s *Service) checkNewPassword(ctx context.Context, u store.User, pw string) error {
	if err := s.CheckNewPassword(ctx, u, pw); err != nil {
		if fe, ok := fault.As(err); ok {
			return &fault.Error{Code: fe.Code, Message: fe.Message, Fields: map[string]string{FieldNewPassword: fe.Message}}
		}
		return err
	}
	return nil
}

// setPassword stores a new hash and ends every session but keep ("" ends
// all), then tells the user's live connections.
func (s *Service) setPassword(ctx context.Context, userID, hash, keep string) error {
	if err := s.Store.SetPasswordHash(ctx, userID, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound)
		}
		return core.StoreError("accounts: set password", err)
	}
	if _, err := s.EndUserSessions(ctx, userID, keep); err != nil {
		return err
	}
	s.publish(ctx, userID, events.SessionRevoked, map[string]any{"reason": "password changed"})
	s.noticePassword(ctx, userID)
	return nil
}

// noticePassword tells the user, on their preferred channel, that the
// password changed (SECURITY.md 4). The change stands whatever happens
// to the message: a failure is logged.
func (s *Service) noticePassword(ctx context.Context, userID string) {
	if s.Codes == nil || s.Codes.Deliver == nil {
		return
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return
	}
	t, ok := preferred(u)
	if !ok {
		return
	}
	ch := "email"
	if t.Channel == store.KindPhone {
		ch = "sms"
	}
	if err := s.Codes.Deliver.Deliver(ctx, ch, t.Address, t.Lang, "notice.password", nil); err != nil {
		s.Log.Warn().Err(err).Str("user", userID).Msg("password change notice not queued")
	}
}

// RecoveryLink builds the link a recovery message carries from a token.
type RecoveryLink func(token string) string

// LinkWithToken returns a RecoveryLink of base (a configured public URL,
// never the request's Host) with the token as query parameter "token".
func LinkWithToken(base string) RecoveryLink {
	return func(token string) string {
		return base + "?token=" + url.QueryEscape(token)
	}
}

// StartRecoveryLink sends a password reset link (a single-use token of 192
// bits, 30 minutes) to the email or phone a login (kind and norm, as
// ParseLogin or EmailLogin give them) names; the caller gets
// nothing back but the channel. An unknown login gets a decoy that does
// every write a real send does, answered alike (SECURITY.md 10), under the
// same resend hold and daily cap as recovery codes.
func (s *Service) StartRecoveryLink(ctx context.Context, kind, norm string, link RecoveryLink) (channel string, err error) {
	u, err := s.Store.UserByIdentifier(ctx, kind, norm)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", core.StoreError("accounts: look up login", err)
	}
	t, known := target(u, kind)
	if kind == store.KindUsername {
		t, known = preferred(u)
	}
	if err != nil || !known {
		ch := store.KindEmail
		if kind == store.KindPhone {
			ch = store.KindPhone
		}
		dt := codes.Target{Channel: ch, Address: norm}
		if err := s.Codes.SendLink(ctx, codes.Recovery, codes.Ticket{Target: dt, Decoy: true}, link); err != nil {
			return "", err
		}
		s.audit(ctx, "recovery.started", "", "channel", ch)
		return ch, nil
	}
	if err := s.Codes.SendLink(ctx, codes.Recovery, codes.Ticket{Target: t}, link); err != nil {
		return "", err
	}
	s.audit(ctx, "recovery.started", u.ID, "channel", t.Channel)
	return t.Channel, nil
}

// ResetPasswordByLink finishes a recovery link (StartRecoveryLink): it sets the new password and
// ends every session of the user. The token is taken (single use) only
// once the new password passes the policy, so a weak one can be retried
// with the same link. fault.RecoveryLinkInvalid for an unknown, expired,
// used or decoy token; a password policy fault naming FieldNewPassword.
// Receiving the link proves the address it went to, as FinishRecovery's
// code does, with the same claim of an unverified identifier.
func (s *Service) ResetPasswordByLink(ctx context.Context, token, newPassword string) (store.User, error) {
	bad := fault.New(fault.RecoveryLinkInvalid)
	tk, err := s.Codes.Ticket(ctx, codes.Recovery, token)
	if fe, ok := fault.As(err); ok && fe.Code == fault.NotFound {
		return store.User{}, bad
	}
	if err != nil {
		return store.User{}, err
	}
	if tk.Decoy || !tk.Link {
		// A code-flow token (user.auth.recovery's, which its caller holds)
		// is no proof of the mailbox: only a link's token is.
		return store.User{}, bad
	}
	u, err := s.User(ctx, tk.Target.UserID)
	if fe, ok := fault.As(err); ok && fe.Code == fault.NotFound {
		return store.User{}, bad
	}
	if err != nil {
		return store.User{}, err
	}
	if err := s.checkNewPassword(ctx, u, newPassword); err != nil {
		return store.User{}, err
	}
	h, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return store.User{}, err
	}
	if _, err := s.Codes.TakeTicket(ctx, codes.Recovery, token); err != nil {
		if fe, ok := fault.As(err); ok && fe.Code == fault.NotFound {
			return store.User{}, bad
		}
		return store.User{}, err
	}
	u, err = s.claimRecovered(ctx, u, tk.Target)
	if err != nil {
		return store.User{}, err
	}
	if err := s.setPassword(ctx, u.ID, h, ""); err != nil {
		return store.User{}, err
	}
	s.audit(ctx, "recovery.finished", u.ID)
	return u, nil
}
