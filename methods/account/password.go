package account

import (
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/methods/account/accountwire"
	"partnergate/rpc"
	"partnergate/store"
)

const (
	msgIncorrect  = "Incorrect request"
	msgLinkSent   = "Email with password recovery link sent."
	msgPasswordOK = "Password changed."
)

// PasswordChange is account.password.change: the seed's per-field
// messages for missing members; every other session of the user ends.
func (s *Service) PasswordChange(r *http.Request, p *accountwire.PasswordChangeParams, res *accountwire.Success) error {
	fields := map[string]string{}
	if p.PasswordOld == "" {
		fields["password_old"] = "Old password is not provided"
	}
	if p.PasswordNew == "" {
		fields["password_new"] = "New password is not provided"
	}
	if len(fields) > 0 {
		return invalid(fields, msgIncorrect)
	}
	c := rpc.CallerFrom(r.Context())
	err := s.Accounts.ChangePassword(r.Context(), accounts.PasswordChange{
		UserID: c.UserID, Old: p.PasswordOld, New: p.PasswordNew, KeepSession: c.SessionHash, IP: c.IP,
	})
	if err != nil {
		return renamed(err, seedFields, "")
	}
	res.Success = true
	return nil
}

// RecoverPassword is account.recoverPassword: a reset link goes to the
// email if an account has it; the answer is the seed's success either way
// (its "not found" reply would tell who has an account).
func (s *Service) RecoverPassword(r *http.Request, p *accountwire.RecoverParams, res *accountwire.RecoverResult) error {
	if s.ResetURL == nil {
		return fault.New(fault.Unavailable)
	}
	base := s.ResetURL()
	if base == "" {
		return fault.New(fault.Unavailable)
	}
	if _, err := s.Accounts.StartRecoveryLink(r.Context(), store.KindEmail, accounts.EmailLogin(p.Email), accounts.LinkWithToken(base)); err != nil {
		return err
	}
	*res = accountwire.RecoverResult{Message: msgLinkSent, Success: true, Type: store.KindEmail}
	return nil
}

// ResetPassword is account.resetPassword: the link's token and a new
// password; every session of the user ends.
func (s *Service) ResetPassword(r *http.Request, p *accountwire.ResetParams, res *accountwire.Result) error {
	fields := map[string]string{}
	if p.Password == "" {
		fields["password"] = "New password is not provided"
	} else if p.RepPassword != "" && p.RepPassword != p.Password {
		fields["repPassword"] = "does not match password"
	}
	if len(fields) > 0 {
		return invalid(fields, msgIncorrect)
	}
	if _, err := s.Accounts.ResetPasswordByLink(r.Context(), p.Token, p.Password); err != nil {
		return renamed(err, map[string]string{accounts.FieldNewPassword: "password"}, "")
	}
	*res = accountwire.Result{Success: true, Message: msgPasswordOK}
	return nil
}
