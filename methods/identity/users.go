package identity

import (
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/methods/barong"
	"partnergate/methods/identity/identitywire"
	"partnergate/rpc"
)

// codeMethods are identity.users.email.* and identity.users.password.*.
func (s *Service) codeMethods() []rpc.Method {
	return []rpc.Method{
		{Name: "identity.users.email.generate_code", Go: "EmailGenerate", Access: rpc.Public, RateClass: "code",
			Doc: "Sends the email confirmation token (and code) to an unconfirmed email; answers the same for any address."},
		{Name: "identity.users.email.confirm_code", Go: "EmailConfirm", Access: rpc.Public, RateClass: "code",
			Doc: "Confirms the email with the token from the message; returns the user object and a session."},
		{Name: "identity.users.password.generate_code", Go: "PasswordGenerate", Access: rpc.Public, RateClass: "code",
			Doc: "Sends a password reset token to the email; answers the same for any address."},
		{Name: "identity.users.password.confirm_code", Go: "PasswordConfirm", Access: rpc.Public, RateClass: "code",
			Doc: "Sets a new password with the reset token from the email and ends every session of the user."},
	}
}

var emailConfirmKeys = map[fault.Code]string{
	fault.CodeInvalid:      "identity.user.active_or_doesnt_exist",
	fault.UserDisabled:     "identity.session.not_active",
	fault.PhoneNotVerified: "identity.session.not_active",
}

var resetKeys = map[fault.Code]string{
	fault.CodeInvalid:      "identity.user.utilized_token",
	fault.PasswordTooShort: "password.requirements",
	fault.PasswordTooLong:  "password.requirements",
	fault.PasswordWeak:     "password.weak",
}

func checkLang(lang string) error {
	if lang != "" && !validLang(lang) {
		return fault.Field(fault.Invalid, "lang", "two lowercase letters (ISO 639-1)")
	}
	return nil
}

// EmailGenerate is identity.users.email.generate_code.
func (s *Service) EmailGenerate(r *http.Request, p *identitywire.EmailGenerateParams, res *bool) error {
	if err := checkLang(p.Lang); err != nil {
		return err
	}
	if err := s.captcha(r, EndpointEmailConfirmation, p.CaptchaResponse); err != nil {
		return err
	}
	if err := s.Accounts.SendConfirmation(r.Context(), p.Email); err != nil {
		return err
	}
	*res = true
	return nil
}

// EmailConfirm is identity.users.email.confirm_code: like Barong, a
// confirmed user is signed in.
func (s *Service) EmailConfirm(r *http.Request, p *identitywire.EmailConfirmParams, res *identitywire.Session) error {
	if err := checkLang(p.Lang); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.Accounts.ConfirmEmail(ctx, p.Token)
	if err != nil {
		return barong.Err(err, emailConfirmKeys)
	}
	if err := accounts.LoginState(u); err != nil {
		return barong.Err(err, emailConfirmKeys)
	}
	c := rpc.CallerFrom(ctx)
	sess, err := s.Accounts.NewSession(ctx, u.ID, c.IP, c.UserAgent)
	if err != nil {
		return err
	}
	prof, err := s.Accounts.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	if res.User, err = s.present(ctx, u, prof); err != nil {
		return err
	}
	res.Token, res.ExpiresAt = sess.Token, sess.ExpiresAt.UTC()
	return nil
}

// PasswordGenerate is identity.users.password.generate_code.
func (s *Service) PasswordGenerate(r *http.Request, p *identitywire.PasswordGenerateParams, res *bool) error {
	if err := checkLang(p.Lang); err != nil {
		return err
	}
	if err := s.captcha(r, EndpointPasswordReset, p.CaptchaResponse); err != nil {
		return err
	}
	if err := s.Accounts.StartReset(r.Context(), p.Email); err != nil {
		return err
	}
	*res = true
	return nil
}

// PasswordConfirm is identity.users.password.confirm_code.
func (s *Service) PasswordConfirm(r *http.Request, p *identitywire.PasswordConfirmParams, res *bool) error {
	if err := checkLang(p.Lang); err != nil {
		return err
	}
	if p.Password != p.ConfirmPassword {
		e := fault.Field(fault.Invalid, "confirm_password", "does not match password")
		e.Message = "identity.user.passwords_doesnt_match"
		return e
	}
	if _, err := s.Accounts.ResetPassword(r.Context(), p.ResetPasswordToken, p.Password); err != nil {
		return barong.Err(err, resetKeys)
	}
	*res = true
	return nil
}
