package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"partnergate/core"
	"partnergate/core/codes"
	"partnergate/core/events"
	"partnergate/core/fault"
	"partnergate/store"
)

// publish pushes an account event to the user's live connections. Events
// are a convenience, never a condition of success: a failure is logged.
func (s *Service) publish(ctx context.Context, userID, event string, data map[string]any) {
	if s.Events == nil {
		return
	}
	e := events.Event{Type: event, At: s.now().UTC()}
	if data != nil {
		e.Data, _ = json.Marshal(data)
	}
	if err := s.Events.Publish(ctx, userID, e); err != nil {
		s.Log.Warn().Err(err).Str("event", event).Str("user", userID).Msg("publish event")
	}
}

func target(u store.User, kind string) (codes.Target, bool) {
	id, ok := u.Identifier(kind)
	if !ok {
		return codes.Target{}, false
	}
	return codes.Target{UserID: u.ID, Channel: kind, Address: id.Norm, Lang: u.Lang}, true
}

// SendVerification sends a registration code to the user's email or phone.
// fault.EmailVerified / PhoneVerified when there is nothing to verify.
func (s *Service) SendVerification(ctx context.Context, u store.User, kind string) error {
	id, ok := u.Identifier(kind)
	if !ok {
		return fault.Field(fault.Invalid, "type", "the user has no "+kind)
	}
	if id.Verified {
		if kind == store.KindPhone {
			return fault.New(fault.PhoneVerified)
		}
		return fault.New(fault.EmailVerified)
	}
	t, _ := target(u, kind)
	if err := s.Codes.Send(ctx, codes.Registration, t); err != nil {
		return err
	}
	s.audit(ctx, "code.sent", u.ID, "purpose", codes.Registration, "channel", kind)
	return nil
}

// Verify checks registration codes for the user's channels (a code per
// channel; empty codes are skipped) and marks each matched channel verified.
// It returns the updated user; the caller decides what else the user needs.
func (s *Service) Verify(ctx context.Context, userID string, byKind map[string]string) (store.User, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return store.User{}, err
	}
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		code := byKind[kind]
		if code == "" {
			continue
		}
		t, ok := target(u, kind)
		if !ok {
			return store.User{}, fault.New(fault.CodeInvalid)
		}
		if err := s.Codes.Check(ctx, codes.Registration, t, code); err != nil {
			s.audit(ctx, "code.failed", u.ID, "purpose", codes.Registration, "channel", kind)
			return store.User{}, err
		}
		id, _ := u.Identifier(kind)
		id.Verified = true
		if err := s.Store.SetIdentifier(ctx, id); err != nil {
			return store.User{}, core.StoreError("accounts: mark verified", err)
		}
		s.audit(ctx, "identifier.verified", u.ID, "channel", kind)
		s.publish(ctx, u.ID, events.Verified, map[string]any{"channel": kind})
	}
	return s.User(ctx, userID)
}

// RequestChange starts an email or phone change for a logged-in user: the
// new value is held with a code sent to it, and the old one stays in force
// until ConfirmChange. fault.AlreadyExists when another user holds it.
func (s *Service) RequestChange(ctx context.Context, userID, kind, value string) error {
	var v, n string
	switch kind {
	case store.KindEmail:
		e, err := ParseEmail(value)
		if err != nil {
			return err
		}
		v, n = e.Value, e.Norm
	case store.KindPhone:
		p, err := ParsePhone(value)
		if err != nil {
			return err
		}
		v, n = p.Value, p.Norm
	default:
		return fmt.Errorf("account: cannot change %q", kind)
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if cur, ok := u.Identifier(kind); ok && cur.Norm == n {
		return nil
	}
	if other, err := s.Store.UserByIdentifier(ctx, kind, n); err == nil && other.ID != userID {
		return fault.New(fault.AlreadyExists)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("accounts: look up "+kind, err)
	}
	t := codes.Target{UserID: userID, Channel: kind, Address: n, Lang: u.Lang}
	if err := s.Codes.Send(ctx, codes.Change, t); err != nil {
		return err
	}
	if err := s.KV.PutPending(ctx, userID, kind, v, n, s.Codes.Policy.TTL); err != nil {
		return core.StoreError("accounts: hold pending change", err)
	}
	s.audit(ctx, "identifier.change_requested", userID, "channel", kind)
	return nil
}

// PendingChanges returns the values waiting for confirmation, by kind.
func (s *Service) PendingChanges(ctx context.Context, userID string) (map[string]string, error) {
	out := map[string]string{}
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		v, _, err := s.KV.Pending(ctx, userID, kind)
		if err != nil {
			return nil, core.StoreError("accounts: read pending change", err)
		}
		if v != "" {
			out[kind] = v
		}
	}
	return out, nil
}

// ConfirmChange applies whichever pending change the code belongs to.
func (s *Service) ConfirmChange(ctx context.Context, userID, code string) (store.User, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return store.User{}, err
	}
	type change struct {
		kind, value string
		t           codes.Target
	}
	var pending []change
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		v, n, err := s.KV.Pending(ctx, userID, kind)
		if err != nil {
			return store.User{}, core.StoreError("accounts: read pending change", err)
		}
		if v != "" {
			pending = append(pending, change{kind, v, codes.Target{UserID: userID, Channel: kind, Address: n, Lang: u.Lang}})
		}
	}
	// With an email and a phone change both waiting, find the one the code
	// belongs to first, so a right code for one is not a wrong try on the
	// other. A code that matches none counts as a wrong try on each.
	for _, c := range pending {
		ok, err := s.Codes.Matches(ctx, codes.Change, c.t, code)
		if err != nil {
			return store.User{}, err
		}
		if !ok {
			continue
		}
		if err := s.Codes.Check(ctx, codes.Change, c.t, code); err != nil {
			return store.User{}, err
		}
		err = s.Store.SetIdentifier(ctx, store.Identifier{UserID: userID, Kind: c.kind, Value: c.value, Norm: c.t.Address, Verified: true})
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.User{}, fault.New(fault.AlreadyExists)
		}
		if err != nil {
			return store.User{}, core.StoreError("accounts: apply change", err)
		}
		_ = s.KV.DropPending(ctx, userID, c.kind)
		s.audit(ctx, "identifier.changed", userID, "channel", c.kind)
		s.publish(ctx, userID, events.Verified, map[string]any{"channel": c.kind})
		return s.User(ctx, userID)
	}
	for _, c := range pending {
		_ = s.Codes.Check(ctx, codes.Change, c.t, code)
	}
	return store.User{}, fault.New(fault.CodeInvalid)
}

// ResendChange sends the pending change codes again.
func (s *Service) ResendChange(ctx context.Context, userID string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	sent := false
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		_, n, err := s.KV.Pending(ctx, userID, kind)
		if err != nil {
			return core.StoreError("accounts: read pending change", err)
		}
		if n == "" {
			continue
		}
		if err := s.Codes.Send(ctx, codes.Change, codes.Target{UserID: userID, Channel: kind, Address: n, Lang: u.Lang}); err != nil {
			return err
		}
		sent = true
	}
	if !sent {
		return fault.Errorf(fault.NotFound, "Nothing is waiting for a code.")
	}
	return nil
}

// preferred picks the channel a recovery or deletion code goes to: a
// verified email, else a verified phone, else whichever exists.
func preferred(u store.User) (codes.Target, bool) {
	for _, verifiedOnly := range []bool{true, false} {
		for _, kind := range []string{store.KindEmail, store.KindPhone} {
			if id, ok := u.Identifier(kind); ok && (id.Verified || !verifiedOnly) {
				return target(u, kind)
			}
		}
	}
	return codes.Target{}, false
}

// StartRecovery sends a recovery code for a login and returns a token and
// the channel used. An unknown login gets a decoy token on the channel the
// login names, answered exactly as a known one (SECURITY.md 10).
func (s *Service) StartRecovery(ctx context.Context, login string) (token, channel string, err error) {
	kind, norm := ParseLogin(login)
	u, err := s.Store.UserByIdentifier(ctx, kind, norm)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", core.StoreError("accounts: look up login", err)
	}
	// The code goes to the address the login names, so the answer's channel
	// is the same for known and unknown logins; only a username login,
	// which names no address, uses the account's preferred channel.
	t, known := target(u, kind)
	if kind == store.KindUsername {
		t, known = preferred(u)
	}
	if err != nil || !known {
		ch := store.KindEmail
		if kind == store.KindPhone {
			ch = store.KindPhone
		}
		// The decoy does every write a real send does (the resend hold, the
		// daily count, a code, an outbox row) and is audited alike, so
		// neither the answer, its time nor the caps tell the logins apart.
		dt := codes.Target{Channel: ch, Address: norm}
		if err := s.Codes.SendDecoy(ctx, codes.Recovery, dt); err != nil {
			return "", "", err
		}
		token, err := s.Codes.NewToken(ctx, codes.Recovery, codes.Ticket{Target: dt, Decoy: true})
		if err != nil {
			return "", "", err
		}
		s.audit(ctx, "recovery.started", "", "channel", ch)
		return token, ch, nil
	}
	if err := s.Codes.Send(ctx, codes.Recovery, t); err != nil {
		return "", "", err
	}
	token, err = s.Codes.NewToken(ctx, codes.Recovery, codes.Ticket{Target: t})
	if err != nil {
		return "", "", err
	}
	s.audit(ctx, "recovery.started", u.ID, "channel", t.Channel)
	return token, t.Channel, nil
}

// ResendFor sends the code of a recovery or deletion token again. Decoys and
// unknown tokens answer like real ones.
func (s *Service) ResendFor(ctx context.Context, purpose, token string) error {
	tk, err := s.Codes.Ticket(ctx, purpose, token)
	if fe, ok := fault.As(err); ok && fe.Code == fault.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if tk.Decoy {
		return s.Codes.SendDecoy(ctx, purpose, tk.Target)
	}
	return s.Codes.Send(ctx, purpose, tk.Target)
}

// FinishRecovery checks the code of a recovery token and returns the user,
// whose channel the code went to is thereby verified. fault.CodeInvalid for
// a wrong code, fault.NotFound for an unknown or used token. It proves the
// channel only: a flow that hands out a session on it calls RecoverSession,
// which also asks a 2FA user for the second factor.
func (s *Service) FinishRecovery(ctx context.Context, token, code string) (store.User, error) {
	return s.finishRecovery(ctx, token, code, nil)
}

// RecoverSession is FinishRecovery for flows that log the user in: a user
// with 2FA on must also give a second-factor code (fault.OTPRequired,
// OTPInvalid), checked once the recovery code is known to match and before
// it is used up, so a missing or mistyped second code can be sent again
// with the same recovery code. Asking only after a matching recovery code
// keeps whether 2FA is on from anyone who merely started a recovery.
func (s *Service) RecoverSession(ctx context.Context, token, code, otpCode string) (store.User, error) {
	return s.finishRecovery(ctx, token, code, &otpCode)
}

func (s *Service) finishRecovery(ctx context.Context, token, code string, otpCode *string) (store.User, error) {
	tk, err := s.Codes.Ticket(ctx, codes.Recovery, token)
	if err != nil {
		return store.User{}, err
	}
	if tk.Decoy {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if otpCode != nil {
		if err := s.recoverySecondFactor(ctx, tk, code, *otpCode); err != nil {
			return store.User{}, err
		}
	}
	if err := s.Codes.Check(ctx, codes.Recovery, tk.Target, code); err != nil {
		return store.User{}, err
	}
	if _, err := s.Codes.TakeTicket(ctx, codes.Recovery, token); err != nil {
		return store.User{}, err
	}
	u, err := s.User(ctx, tk.Target.UserID)
	if err != nil {
		return store.User{}, err
	}
	if id, ok := u.Identifier(tk.Target.Channel); ok && !id.Verified && id.Norm == tk.Target.Address {
		// Whoever set the password and the other identifiers never proved
		// this address: it may be a squatter who registered someone else's
		// email to wait for its owner's recovery. The owner's proof takes
		// the account back clean, so nothing set before it logs in again.
		if err := s.Store.ClaimIdentifier(ctx, u.ID, id.Kind); err != nil {
			return store.User{}, core.StoreError("accounts: claim identifier", err)
		}
		// The squatter's second factor goes with the rest.
		if err := s.Store.DisableTOTP(ctx, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, core.StoreError("accounts: drop claimed 2FA", err)
		}
		if _, err := s.EndUserSessions(ctx, u.ID, ""); err != nil {
			return store.User{}, err
		}
		s.audit(ctx, "identifier.claimed", u.ID, "channel", id.Kind)
		u, err = s.User(ctx, u.ID)
		if err != nil {
			return store.User{}, err
		}
	}
	s.audit(ctx, "recovery.finished", u.ID)
	return u, nil
}

// UpdateProfile changes a user's profile through fn inside one transaction
// and, when lang is not nil, the language the user's messages are written
// in. fn gets a copy it may edit; identity, role, state and verification
// are not in a profile, so they can never change this way (SECURITY.md
// 17). fn runs before anything is written, so its error changes nothing;
// the language is written after the profile, in a transaction of its own
// (it belongs to the user, not the profile), and a failure there is
// returned with the profile already written.
func (s *Service) UpdateProfile(ctx context.Context, userID string, lang *string, fn func(p *store.Profile) error) (store.Profile, error) {
	p, err := s.Store.UpdateProfile(ctx, userID, func(old store.Profile) (store.Profile, error) {
		next := old
		if err := fn(&next); err != nil {
			return store.Profile{}, err
		}
		return next, nil
	})
	if err == nil && lang != nil {
		_, err = s.Store.UpdateUser(ctx, userID, func(u store.User) (store.User, error) {
			u.Lang = *lang
			return u, nil
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Profile{}, fault.New(fault.NotFound)
	}
	if _, coded := fault.As(err); coded {
		return store.Profile{}, err
	}
	if err != nil {
		return store.Profile{}, core.StoreError("accounts: update profile", err)
	}
	s.audit(ctx, "profile.updated", userID)
	s.publish(ctx, userID, events.SettingsChanged, nil)
	return p, nil
}

// StartDeletion sends a deletion code to the user and returns its token.
func (s *Service) StartDeletion(ctx context.Context, userID string) (token, channel string, err error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return "", "", err
	}
	t, ok := preferred(u)
	if !ok {
		return "", "", fault.Errorf(fault.NotFound, "The account has no email or phone to confirm with.")
	}
	if err := s.Codes.Send(ctx, codes.Deletion, t); err != nil {
		return "", "", err
	}
	token, err = s.Codes.NewToken(ctx, codes.Deletion, codes.Ticket{Target: t})
	if err != nil {
		return "", "", err
	}
	s.audit(ctx, "deletion.requested", userID, "channel", t.Channel)
	return token, t.Channel, nil
}

// FinishDeletion checks the deletion code and deletes the account with
// everything tied to it, then revokes all its sessions.
func (s *Service) FinishDeletion(ctx context.Context, userID, code string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	var lastErr error = fault.New(fault.CodeInvalid)
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		t, ok := target(u, kind)
		if !ok {
			continue
		}
		if pending, err := s.Codes.Pending(ctx, codes.Deletion, t); err != nil {
			return err
		} else if !pending {
			continue
		}
		if lastErr = s.Codes.Check(ctx, codes.Deletion, t, code); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return lastErr
	}
	if err := s.Store.DeleteUser(ctx, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("accounts: delete user", err)
	}
	if _, err := s.EndUserSessions(ctx, userID, ""); err != nil {
		return err
	}
	s.audit(ctx, "user.deleted", userID)
	s.publish(ctx, userID, events.SessionRevoked, map[string]any{"reason": "account deleted"})
	return nil
}
