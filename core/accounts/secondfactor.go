package accounts

import (
	"context"
	"errors"

	"partnergate/core"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/store"
)

// SecondFactor checks a user's second-factor code and uses it up
// (core/otp's Service). Verify returns fault.OTPRequired for an empty
// code.
type SecondFactor interface {
	Verify(ctx context.Context, userID, code string) error
}

// errNoSecondFactor is the fail-closed answer for a user with 2FA on when
// the service was built without a SecondFactor: never a login without it.
var errNoSecondFactor = errors.New("accounts: the user has 2FA on and no second factor is configured")

// RequireSecondFactor is the second-factor step of every flow that hands
// out a session or a user to a caller: nothing for a user with 2FA off,
// else the code must verify (fault.OTPRequired when empty, OTPInvalid when
// wrong or used, Throttled while guesses are backed off). CheckPassword
// calls it after a correct password; flows that prove the user some other
// way (a recovery or verification code) call it before handing out the
// session.
func (s *Service) RequireSecondFactor(ctx context.Context, u store.User, code string) error {
	if !u.TOTP {
		return nil
	}
	if s.SecondFactor == nil {
		return errNoSecondFactor
	}
	if err := s.SecondFactor.Verify(ctx, u.ID, code); err != nil {
		event := "login.second_factor_failed"
		if fault.CodeOf(err) == fault.OTPRequired {
			event = "login.second_factor_required"
		}
		s.audit(ctx, event, u.ID)
		return err
	}
	return nil
}

// AdmitGuess counts one guess at a secret of subject's (a second-factor
// code) before it is checked, with exactly the limits of a password login:
// Throttle's free failures, exponential backoff capped at MaxBackoff, at
// most HourlyAttempts in Window. It refuses with fault.Throttled (and
// retryAfter) while backed off and fails closed when Redis is down.
// Subjects are the caller's own namespace ("totp:<user id>"); a login's
// "u:"/"x:"/"ip:" counters are never touched.
func (s *Service) AdmitGuess(ctx context.Context, subject string) error {
	return s.admitLogin(ctx, subject, "")
}

// ClearGuesses clears subject's guess counter after a correct guess.
func (s *Service) ClearGuesses(ctx context.Context, subject string) error {
	if err := s.KV.ResetFailures(ctx, subject); err != nil {
		return core.StoreError("accounts: reset guesses", err)
	}
	return nil
}

// recoverySecondFactor asks a 2FA user's recovery for the second factor:
// only once the recovery code matches (a wrong one is counted by Check as
// usual), and not when the recovery claims an address nobody had proven,
// which takes the account back without the squatter's second factor.
func (s *Service) recoverySecondFactor(ctx context.Context, tk codes.Ticket, code, otpCode string) error {
	ok, err := s.Codes.Matches(ctx, codes.Recovery, tk.Target, code)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.Codes.Check(ctx, codes.Recovery, tk.Target, code); err != nil {
			return err
		}
		return fault.New(fault.CodeInvalid)
	}
	u, err := s.User(ctx, tk.Target.UserID)
	if err != nil {
		return err
	}
	if id, ok := u.Identifier(tk.Target.Channel); ok && !id.Verified && id.Norm == tk.Target.Address {
		return nil
	}
	return s.RequireSecondFactor(ctx, u, otpCode)
}
