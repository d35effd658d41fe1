package identity

import (
	"net/http"

	"partnergate/core/captcha"
	"partnergate/core/fault"
	"partnergate/methods/barong"
	"partnergate/methods/identity/identitywire"
	"partnergate/rpc"
)

// Barong's names of the endpoints it guards with a captcha.
const (
	EndpointUserCreate        = captcha.UserCreate
	EndpointSessionCreate     = captcha.SessionCreate
	EndpointPasswordReset     = captcha.PasswordReset
	EndpointEmailConfirmation = captcha.EmailConfirmation
)

var captchaKeys = map[fault.Code]string{
	fault.CaptchaRequired:    "identity.captcha.required",
	fault.CaptchaInvalid:     "identity.captcha.verification_failed",
	fault.CaptchaUnavailable: "identity.captcha.verification_failed",
}

// captcha checks the answer for a guarded endpoint, before the endpoint
// does anything else.
func (s *Service) captcha(r *http.Request, endpoint, response string) error {
	err := s.Captcha.Check(r.Context(), endpoint, response, rpc.CallerFrom(r.Context()).IP)
	if err == nil {
		return nil
	}
	if fe, ok := fault.As(err); ok && fe.Code == fault.CaptchaRequired && response != "" {
		// A GeeTest answer without its three members, Barong's own key.
		out := *fe
		out.Message = "identity.captcha.mandatory_fields"
		return &out
	}
	return barong.Err(err, captchaKeys)
}

// RegisterGeetest is identity.users.register_geetest.
func (s *Service) RegisterGeetest(r *http.Request, _ *identitywire.Empty, res *identitywire.GeetestResult) error {
	ch, err := s.Captcha.Register(r.Context(), rpc.CallerFrom(r.Context()).IP)
	if err != nil {
		return barong.Err(err, captchaKeys)
	}
	*res = identitywire.GeetestResult{Success: ch.Success, GT: ch.GT, Challenge: ch.Challenge, NewCaptcha: ch.NewCaptcha}
	return nil
}
