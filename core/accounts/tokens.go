package accounts

import (
	"context"
	"errors"
	"strings"

	"partnergate/core"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/store"
)

// Seed 002 (Barong) confirms an email and resets a password with one token
// from the email, where seed 000 sends a code and hands the caller a
// token. The machinery is the same: the email carries a ticket of
// codes.NewToken and the code of codes.Send, joined as ticket + "." +
// code, and confirming checks both with the functions seed 000's verify
// and recovery use.

// MaxLinkToken bounds a ticket-and-code token.
const MaxLinkToken = 64

func splitLinkToken(tok string) (ticket, code string, ok bool) {
	if len(tok) > MaxLinkToken {
		return "", "", false
	}
	i := strings.LastIndexByte(tok, '.')
	if i <= 0 {
		return "", "", false
	}
	return tok[:i], tok[i+1:], true
}

// SendConfirmation sends a registration code with its ticket to an email
// whose owner has not confirmed it. An unknown or already confirmed email
// gets a decoy, written, throttled and counted like a real send, so the
// answer (nil) says nothing about the address (SECURITY.md 9).
func (s *Service) SendConfirmation(ctx context.Context, email string) error {
	norm := EmailLogin(email)
	u, err := s.Store.UserByIdentifier(ctx, store.KindEmail, norm)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("accounts: look up email", err)
	}
	id, known := u.Identifier(store.KindEmail)
	if err != nil || !known || id.Verified {
		dt := codes.Target{Channel: store.KindEmail, Address: norm}
		ticket, err := s.Codes.NewToken(ctx, codes.Registration, codes.Ticket{Target: dt, Decoy: true})
		if err != nil {
			return err
		}
		if err := s.Codes.SendDecoyWith(ctx, codes.Registration, dt, map[string]string{"ticket": ticket}); err != nil {
			return err
		}
		s.audit(ctx, "code.sent", "", "purpose", codes.Registration, "channel", store.KindEmail)
		return nil
	}
	t, _ := target(u, store.KindEmail)
	ticket, err := s.Codes.NewToken(ctx, codes.Registration, codes.Ticket{Target: t})
	if err != nil {
		return err
	}
	if err := s.Codes.SendWith(ctx, codes.Registration, t, map[string]string{"ticket": ticket}); err != nil {
		return err
	}
	s.audit(ctx, "code.sent", u.ID, "purpose", codes.Registration, "channel", store.KindEmail)
	return nil
}

// ConfirmEmail checks a token of SendConfirmation: its ticket names the
// user, its code is checked as user.auth.verify checks it (Verify), and
// the ticket is then used up. fault.CodeInvalid for anything that does not
// verify: malformed, unknown, used, a decoy, a wrong code.
func (s *Service) ConfirmEmail(ctx context.Context, token string) (store.User, error) {
	ticket, code, ok := splitLinkToken(token)
	if !ok {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	tk, err := s.Codes.Ticket(ctx, codes.Registration, ticket)
	if fe, isFault := fault.As(err); isFault && fe.Code == fault.NotFound {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if err != nil {
		return store.User{}, err
	}
	if tk.Decoy {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	u, err := s.Verify(ctx, tk.Target.UserID, map[string]string{store.KindEmail: code})
	if fe, isFault := fault.As(err); isFault && fe.Code == fault.NotFound {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if err != nil {
		return store.User{}, err
	}
	_, _ = s.Codes.TakeTicket(ctx, codes.Registration, ticket)
	return u, nil
}

// StartReset is StartRecovery for an email, with the recovery ticket in the
// email instead of the answer: the caller learns nothing, known address or
// not (the unknown one gets a decoy, as in StartRecovery).
func (s *Service) StartReset(ctx context.Context, email string) error {
	_, _, err := s.startRecovery(ctx, email, true)
	return err
}

// ResetPassword checks a token of StartReset (FinishRecovery's checks: a
// wrong code counts, a decoy never verifies), sets the new password and
// ends every session of the user. The password policy is checked before
// the code is used up, so a refused password changes nothing.
func (s *Service) ResetPassword(ctx context.Context, token, pw string) (store.User, error) {
	ticket, code, ok := splitLinkToken(token)
	if !ok {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	tk, err := s.Codes.Ticket(ctx, codes.Recovery, ticket)
	if fe, isFault := fault.As(err); isFault && fe.Code == fault.NotFound {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if err != nil {
		return store.User{}, err
	}
	if !tk.Decoy {
		u, err := s.User(ctx, tk.Target.UserID)
		if err != nil {
			return store.User{}, err
		}
		if err := s.CheckNewPassword(ctx, u, pw); err != nil {
			return store.User{}, err
		}
	}
	u, err := s.FinishRecovery(ctx, ticket, code)
	if fe, isFault := fault.As(err); isFault && fe.Code == fault.NotFound {
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if err != nil {
		return store.User{}, err
	}
	if err := s.SetPassword(ctx, u, pw, ""); err != nil {
		return store.User{}, err
	}
	return s.User(ctx, u.ID)
}
