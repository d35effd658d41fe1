// Package accountwire holds seed 004's params and result types for
// account.*. It imports only the standard library so that an SDK can name
// them without linking the server; methods/account serves them.
package accountwire

import "encoding/json"

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

// RefreshParams is account.refresh's request. On the path style rt may
// be left out and sent as the seed's clients do, as the rt cookie.
type RefreshParams struct {
	RT string `json:"rt" rpc:"max=256"`
}

// LogoutParams is account.logout's request; rt as for RefreshParams.
type LogoutParams struct {
	RT string `json:"rt" rpc:"max=256"`
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

// SignupParams is account.signup's request, in the seed's names. An email
// (headEmail) or a phone, or both, and the password twice.
type SignupParams struct {
	LastName    string `json:"lastName" rpc:"max=256"`
	FirstName   string `json:"firstName" rpc:"max=256"`
	HeadEmail   string `json:"headEmail" rpc:"max=320"`
	Phone       string `json:"phone" rpc:"max=64"`
	Password    string `json:"password" rpc:"max=1024"`
	RepPassword string `json:"repPassword" rpc:"max=1024"`
}

// Result is the seed's {"success": true, "message": "..."}.
type Result struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// ConfirmParams is account.signup.confirm's request: the email or phone
// the code was sent to, and the code.
type ConfirmParams struct {
	Login string `json:"login" rpc:"required,max=320"`
	Code  string `json:"code" rpc:"required,max=16"`
}

// ResendParams is account.signup.resend's request.
type ResendParams struct {
	Login string `json:"login" rpc:"required,max=320"`
}

// UpdateParams is account.update's request: the seed's editable members,
// each optional (absent leaves it as it is).
type UpdateParams struct {
	LastName  *string `json:"lastName" rpc:"max=256"`
	FirstName *string `json:"firstName" rpc:"max=256"`
	HeadEmail *string `json:"headEmail" rpc:"max=320"`
	Phone     *string `json:"phone" rpc:"max=64"`
}

// UpdateResult is account.update's answer: the seed's success and
// message, and which new email or phone now waits for its code
// (account.update.confirm).
type UpdateResult struct {
	Success bool     `json:"success"`
	Message string   `json:"message"`
	Pending []string `json:"pending"`
}

// CodeParams is a method that takes one code.
type CodeParams struct {
	Code string `json:"code" rpc:"required,max=16"`
}

// PasswordChangeParams is account.password.change's request. Both members
// are checked by the method, so that a missing one gets the seed's
// per-field message rather than a params error.
type PasswordChangeParams struct {
	PasswordOld string `json:"password_old" rpc:"max=1024"`
	PasswordNew string `json:"password_new" rpc:"max=1024"`
}

// RecoverParams is account.recoverPassword's request.
type RecoverParams struct {
	Email string `json:"email" rpc:"required,max=320"`
}

// RecoverResult is the seed's answer: the same for every email.
type RecoverResult struct {
	Message string `json:"message"`
	Success bool   `json:"success"`
	Type    string `json:"type"`
}

// ResetParams is account.resetPassword's request: the token of the link
// account.recoverPassword sent, and the new password twice.
type ResetParams struct {
	Token       string `json:"token" rpc:"required,max=128"`
	Password    string `json:"password" rpc:"max=1024"`
	RepPassword string `json:"repPassword" rpc:"max=1024"`
}

// Setting is one entry of account.settings.get: the seed's name,
// createdTS (Unix seconds) and value (as text), and its type ("string",
// "number" or "bool").
type Setting struct {
	Name      string `json:"name"`
	CreatedTS int64  `json:"createdTS"`
	Value     string `json:"value"`
	Type      string `json:"type"`
}

// Settings is account.settings.get's answer.
type Settings struct {
	API []Setting `json:"api"`
}

// SettingsSetParams is account.settings.set's request: setting names to
// a string, a number or a bool; null removes the setting.
type SettingsSetParams map[string]json.RawMessage

// SettingsSetResult is the seed's answer: how many names were set and
// each one's outcome (true: written).
type SettingsSetResult struct {
	Success  bool            `json:"success"`
	SetCount int             `json:"set_count"`
	Result   map[string]bool `json:"result"`
}

// AuthHistoryParams pages account.authHistory: at most limit entries
// (1 to 100, default 25) older than the entry id before.
type AuthHistoryParams struct {
	Limit  int   `json:"limit"`
	Before int64 `json:"before"`
}

// NameVersion is a browser or operating system.
type NameVersion struct {
	Family  string  `json:"family"`
	Version *string `json:"version"`
}

// Device is the seed's device member; brand and model are null when the
// user agent names none.
type Device struct {
	Brand  *string `json:"brand"`
	Family string  `json:"family"`
	Model  *string `json:"model"`
}

// Place is the seed's country or city member.
type Place struct {
	ISO    string   `json:"iso,omitempty"`
	NameEN string   `json:"name_en"`
	Lat    *float64 `json:"lat"`
	Lon    *float64 `json:"lon"`
}

// AuthEntry is one entry of account.authHistory in the seed's members,
// with id (the keyset for the next page) and action ("login" or
// "refresh") added. country and city are null without a geo database or
// an entry for the address; map_links is empty without a location.
type AuthEntry struct {
	ID        int64             `json:"id"`
	DateTime  string            `json:"date_time"`
	Browser   NameVersion       `json:"browser"`
	OS        NameVersion       `json:"operating_system"`
	Device    Device            `json:"device"`
	TS        string            `json:"ts"`
	Country   *Place            `json:"country"`
	City      *Place            `json:"city"`
	MapLinks  map[string]string `json:"map_links"`
	Type      string            `json:"type"`
	Action    string            `json:"action"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
}
