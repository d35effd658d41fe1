// Package resourcewire holds the request and result shapes of seed 002's
// resource.* namespace. It imports only the standard library so that an SDK
// can name it without linking the server.
package resourcewire

// OTPCodeParams is the request of resource.otp.enable, .disable and
// .verify: a code from the authenticator app (6 digits) or, for disable
// and verify, a recovery code.
type OTPCodeParams struct {
	Code string `json:"code" rpc:"required,max=64"`
}

// OTPEmpty is resource.otp.generate_qrcode's request: none.
type OTPEmpty struct{}

// OTPQRCode is resource.otp.generate_qrcode's result in Barong's shape
// (the answer of the Vault TOTP engine it forwards): data.barcode, the QR
// code as a base64 PNG, and data.url, the otpauth URL with the secret.
type OTPQRCode struct {
	Data OTPBarcode `json:"data"`
}

// OTPBarcode is the QR code and the otpauth URL.
type OTPBarcode struct {
	Barcode string `json:"barcode"`
	URL     string `json:"url"`
}

// OTPEnableResult is resource.otp.enable's result. Barong answers with no
// body; partnergate hands out the ten single-use recovery codes here, the
// only time they are shown.
type OTPEnableResult struct {
	RecoveryCodes []string `json:"recovery_codes"`
}
