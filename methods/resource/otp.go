package resource

import (
	"encoding/base64"
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/otp"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
)

// OTP serves resource.otp.*: the signed-in user's second factor.
type OTP struct {
	Accounts *accounts.Service
	OTP      *otp.Service
}

// Methods declares them.
func (s *OTP) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.otp.generate_qrcode", Go: "GenerateQRCode", Access: rpc.SessionUser, RateClass: "code", Positional: []string{},
			Doc: "Makes a new TOTP secret for the signed-in user (replacing one not yet enabled); returns the otpauth URL and its QR code as a base64 PNG."},
		{Name: "resource.otp.enable", Go: "Enable", Access: rpc.SessionUser, RateClass: "code", Positional: []string{"code"},
			Doc: "Turns 2FA on with a code from the app; returns ten single-use recovery codes, shown once, and ends the user's other sessions."},
		{Name: "resource.otp.disable", Go: "Disable", Access: rpc.SessionUser, RateClass: "code", Positional: []string{"code"},
			Doc: "Turns 2FA off with a code from the app or a recovery code."},
		{Name: "resource.otp.verify", Go: "Verify", Access: rpc.SessionUser, RateClass: "code", Positional: []string{"code"},
			Doc: "Checks (and uses up) a code from the app or a recovery code."},
	}
}

// otpKeys are Barong's error keys for the 2FA faults, where its clients
// look for them. Barong has no "not generated" state (its enable then fails
// validation), so that answers its invalid key under a code of its own.
var otpKeys = map[fault.Code]string{
	fault.OTPAlreadyEnabled: "resource.otp.already_enabled",
	fault.OTPInvalid:        "resource.otp.invalid",
	fault.OTPMalformed:      "resource.otp.invalid",
	fault.OTPNotGenerated:   "resource.otp.invalid",
	fault.OTPNotEnabled:     "resource.otp.not_enabled",
}

// GenerateQRCode is resource.otp.generate_qrcode.
func (s *OTP) GenerateQRCode(r *http.Request, _ *resourcewire.OTPEmpty, res *resourcewire.OTPQRCode) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	en, err := s.OTP.Generate(ctx, u)
	if err != nil {
		return barong.Err(err, otpKeys)
	}
	res.Data = resourcewire.OTPBarcode{Barcode: base64.StdEncoding.EncodeToString(en.PNG), URL: en.URL}
	return nil
}

// Enable is resource.otp.enable.
func (s *OTP) Enable(r *http.Request, p *resourcewire.OTPCodeParams, res *resourcewire.OTPEnableResult) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	codes, err := s.OTP.Enable(ctx, c.UserID, c.SessionHash, p.Code)
	if err != nil {
		return barong.Err(err, otpKeys)
	}
	res.RecoveryCodes = codes
	return nil
}

// Disable is resource.otp.disable.
func (s *OTP) Disable(r *http.Request, p *resourcewire.OTPCodeParams, res *bool) error {
	ctx := r.Context()
	if err := s.OTP.Disable(ctx, rpc.CallerFrom(ctx).UserID, p.Code); err != nil {
		return barong.Err(err, otpKeys)
	}
	*res = true
	return nil
}

// Verify is resource.otp.verify.
func (s *OTP) Verify(r *http.Request, p *resourcewire.OTPCodeParams, res *bool) error {
	ctx := r.Context()
	if err := s.OTP.Verify(ctx, rpc.CallerFrom(ctx).UserID, p.Code); err != nil {
		return barong.Err(err, otpKeys)
	}
	*res = true
	return nil
}
