// Package accountwire holds seed 004's params and result types for
// account.*. It imports only the standard library so that an SDK can name
// them without linking the server; methods/account serves them.
package accountwire

// LoginParams is account.login's request: login is an email or a phone.
type LoginParams struct {
	Login    string `json:"login" rpc:"required,max=254"`
	Password string `json:"password" rpc:"required,max=1024"`
	// OTPCode is not in the seed: the 2FA code (6 digits or a recovery
	// code), required once the user turned 2FA on.
	OTPCode string `json:"otpCode" rpc:"max=64"`
}

// Tokens is what account.login and account.refresh return, with the seed's
// member names. WAVIOT_JWT is the access JWT (15 minutes), rt the rotating
// refresh token, sessid the session id (the JWT's sid), sc the access
// JWT's expiry in Unix seconds, as a string like the seed's members.
type Tokens struct {
	SC        string `json:"sc"`
	RT        string `json:"rt"`
	WaviotJWT string `json:"WAVIOT_JWT"`
	SessID    string `json:"sessid"`
}

// RefreshParams is account.refresh's request.
type RefreshParams struct {
	RT string `json:"rt" rpc:"required,max=256"`
}

// LogoutParams is account.logout's request.
type LogoutParams struct {
	RT string `json:"rt" rpc:"required,max=256"`
}

// Success is the seed's {"success": true}.
type Success struct {
	Success bool `json:"success"`
}

// Empty is a method without params.
type Empty struct{}

// WhoAmI is account.whoAmI: every member the seed shows, in the seed's
// JSON types (its clients parse strings): flags are "1" or "0",
// timestamps are Unix seconds as strings, absent values are null.
type WhoAmI struct {
	AccountID      string  `json:"account_id"`
	LastName       string  `json:"lastName"`
	FirstName      string  `json:"firstName"`
	HeadEmail      *string `json:"headEmail"`
	EmailConfirmed string  `json:"emailConfirmed"`
	CreatedTS      string  `json:"createdTS"`
	// ConfirmTS is null: partnergate does not record when a channel was
	// confirmed.
	ConfirmTS      *string `json:"confirmTS"`
	Birthday       *string `json:"birthday"`
	Phone          *string `json:"phone"`
	PhoneConfirmed string  `json:"phoneConfirmed"`
	// Balance, BID and LKID are the seed platform's billing ids: there is
	// no billing here, so "0" and null.
	Balance  string  `json:"balance"`
	BID      *string `json:"b_id"`
	LKID     *string `json:"lk_id"`
	Location *string `json:"location"`
	Language string  `json:"language"`
	// Activity is "1" for an active account, "0" for a deactivated one.
	Activity string `json:"activity"`
}
