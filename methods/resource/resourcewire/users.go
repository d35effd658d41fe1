package resourcewire

import "partnergate/methods/barong/barongwire"

// User is Barong's user object.
type User = barongwire.User

// MeDeleteParams is DELETE /resource/users/me.
type MeDeleteParams struct {
	Password string `json:"password" rpc:"required,max=1024"`
	OTPCode  string `json:"otp_code" rpc:"max=16"`
}

// PasswordUpdateParams is PUT /resource/users/password.
type PasswordUpdateParams struct {
	OldPassword     string `json:"old_password" rpc:"required,max=1024"`
	NewPassword     string `json:"new_password" rpc:"required,max=1024"`
	ConfirmPassword string `json:"confirm_password" rpc:"required,max=1024"`
	Lang            string `json:"lang" rpc:"max=2"`
}
