// Package userwire holds seed 000's params and result types: what goes over
// the wire for user.*. It imports only the standard library so that an SDK
// can name these types without linking the server; methods/user serves them.
// The rpc tags are the server's limits, read by rpc when it decodes params.
package userwire

import "time"

// RegistrationParams is user.auth.registration's request.
type RegistrationParams struct {
	Email    string `json:"email" rpc:"max=254"`
	Phone    string `json:"phone" rpc:"max=32"`
	Name     string `json:"name" rpc:"max=100"`
	Surname  string `json:"surname" rpc:"max=100"`
	Password string `json:"password" rpc:"max=1024"`
	Lang     string `json:"lang" rpc:"max=2"`
}

// VerifyParams is user.auth.verify's request.
type VerifyParams struct {
	UserID    string `json:"user_id" rpc:"max=64"`
	EmailCode string `json:"email_code" rpc:"max=16"`
	PhoneCode string `json:"phone_code" rpc:"max=16"`
	Code      string `json:"code" rpc:"max=16"`
	// OTPCode is not in the seed: a 2FA user's code, needed for the
	// session the registration form hands out.
	OTPCode string `json:"otp_code" rpc:"max=64"`
}

// ResendParams is user.auth.resend's request, in its four forms.
type ResendParams struct {
	UserID        string `json:"user_id" rpc:"max=64"`
	Type          string `json:"type" rpc:"max=8"`
	RecoveryToken string `json:"recovery_token" rpc:"max=128"`
	DeletionToken string `json:"deletion_token" rpc:"max=128"`
}

// LoginParams is user.auth.login's request.
type LoginParams struct {
	Login    string `json:"login" rpc:"required,max=254"`
	Password string `json:"password" rpc:"required,max=1024"`
	// OTPCode is not in the seed: the 2FA code (6 digits or a recovery
	// code), required once the user turned 2FA on.
	OTPCode string `json:"otp_code" rpc:"max=64"`
}

// Empty is the params of methods that take none.
type Empty struct{}

// RecoveryParams is user.auth.recovery's request.
type RecoveryParams struct {
	Login string `json:"login" rpc:"required,max=254"`
}

// RecoveryResult is the recovery token and the channel of the code.
type RecoveryResult struct {
	Token string `json:"token"`
	Type  string `json:"type"`
}

// RecoveryDoneParams is user.auth.recovery_done's request.
type RecoveryDoneParams struct {
	Token string `json:"token" rpc:"required,max=128"`
	Code  string `json:"code" rpc:"required,max=16"`
	// OTPCode is not in the seed: a 2FA user's code, checked after the
	// recovery code matched and before the session is handed out.
	OTPCode string `json:"otp_code" rpc:"max=64"`
}

// DeleteResult is the deletion token and the channel of the code.
type DeleteResult struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// DeleteDoneParams is user.auth.delete_done's request.
type DeleteDoneParams struct {
	Code string `json:"code" rpc:"required,max=16"`
}

// BlocksParams is user.auth.block's request.
type BlocksParams struct {
	ID     string `json:"id" rpc:"required,max=64"`
	Reason *int   `json:"reason"`
}

// DataBackupParams is user.data.backup's request. The password (6
// characters or more) encrypts the archive; it is not the account password.
type DataBackupParams struct {
	Password string `json:"password" rpc:"required,max=1024"`
}

// ProductsGetParams is user.products.get's (empty) request.
type ProductsGetParams struct{}

// ProductsItem is one product as seed 000 lists it. Info is the URL of an
// information page, null when there is none.
type ProductsItem struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Policy      string  `json:"policy"`
	Icon        string  `json:"icon"`
	Info        *string `json:"info"`
	State       string  `json:"state"` // activated, deactivated or disabled
}

// ProductsChangeParams names the product to activate or deactivate.
type ProductsChangeParams struct {
	ProductID string `json:"product_id" rpc:"required,max=64"`
}

// ProductsActivateResult is user.products.activate's data.
type ProductsActivateResult struct {
	Modules []string `json:"modules"`
}

// ProductsDeactivateResult is user.products.deactivate's data;
// subscription_cancel is left out when the product has no subscription.
type ProductsDeactivateResult struct {
	Modules            []string `json:"modules"`
	SubscriptionCancel string   `json:"subscription_cancel,omitempty"`
}

// SettingsObject is seed 000's settings object.
type SettingsObject struct {
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Avatar        string `json:"avatar"`
	Sex           int    `json:"sex"`
	News          bool   `json:"news"`
	Restriction1  bool   `json:"restriction_1"`
	Restriction2  bool   `json:"restriction_2"`
	Restriction3  bool   `json:"restriction_3"`
	Restriction4  bool   `json:"restriction_4"`
	Restriction5  bool   `json:"restriction_5"`
	Lang          string `json:"lang"`
	Birthday      *int64 `json:"birthday,omitempty"`
	DatingModel   string `json:"dating.model"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	EmailVerified bool   `json:"email_verified"`
	PhoneVerified bool   `json:"phone_verified"`
	// A new email or phone waiting for its code.
	EmailPending string `json:"email_pending,omitempty"`
	PhonePending string `json:"phone_pending,omitempty"`
}

// SetParams is user.settings.set's request: every member optional. Role,
// state and verification are not members, so the strict decoder refuses
// them in any spelling (SECURITY.md 17).
type SetParams struct {
	FirstName    *string `json:"first_name,omitempty" rpc:"max=100"`
	LastName     *string `json:"last_name,omitempty" rpc:"max=100"`
	Avatar       *string `json:"avatar,omitempty" rpc:"max=256"`
	Sex          *int    `json:"sex,omitempty"`
	News         *bool   `json:"news,omitempty"`
	Restriction1 *bool   `json:"restriction_1,omitempty"`
	Restriction2 *bool   `json:"restriction_2,omitempty"`
	Restriction3 *bool   `json:"restriction_3,omitempty"`
	Restriction4 *bool   `json:"restriction_4,omitempty"`
	Restriction5 *bool   `json:"restriction_5,omitempty"`
	Lang         *string `json:"lang,omitempty" rpc:"max=2"`
	Birthday     *int64  `json:"birthday,omitempty"`
	DatingModel  *string `json:"dating.model,omitempty" rpc:"max=64"`
	Email        *string `json:"email,omitempty" rpc:"max=254"`
	Phone        *string `json:"phone,omitempty" rpc:"max=32"`
}

// TrackingSetParams is every member seed 000 lists; send any subset, at
// least one. Field order and types match tracking.Attributes, which holds
// the rules (formats, ranges, 100 items per array).
type TrackingSetParams struct {
	WebstatVisitorID     string    `json:"webstat_visitor_id" rpc:"max=256"`
	WebstatFingerprintID string    `json:"webstat_fingerprint_id" rpc:"max=256"`
	WebstatSessionID     string    `json:"webstat_session_id" rpc:"max=256"`
	WebstatAPIHandler    string    `json:"webstat_api_handler" rpc:"max=2048"`
	WifiMAC              string    `json:"wifi_mac" rpc:"max=32"`
	BluetoothMAC         string    `json:"bluetooth_mac" rpc:"max=32"`
	Location             []float64 `json:"location"`
	Screen               []int     `json:"screen"`
	DeviceID             string    `json:"device_id" rpc:"max=256"`
	GAID                 string    `json:"gaid" rpc:"max=64"`
	IDFA                 string    `json:"idfa" rpc:"max=64"`
	PushDeviceID         string    `json:"push_device_id" rpc:"max=512"`
	UnsetPushDeviceID    string    `json:"unset_push_device_id" rpc:"max=512"`
	WebURI               []string  `json:"web_uri" rpc:"max=2048"`
	WebEvent             []string  `json:"web_event" rpc:"max=256"`
	AppURI               []string  `json:"app_uri" rpc:"max=2048"`
	AppEvent             []string  `json:"app_event" rpc:"max=256"`
	BatteryCharge        *int      `json:"battery_charge"`
	ProviderName         string    `json:"provider_name" rpc:"max=256"`
	ProviderQuality      *float64  `json:"provider_quality"`
}

// Object is seed 000's user object. The seed leaves its members open; these
// are the account's own, named in the seed's style.
type Object struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Surname       string   `json:"surname"`
	Email         string   `json:"email"`
	Phone         string   `json:"phone"`
	EmailVerified bool     `json:"email_verified"`
	PhoneVerified bool     `json:"phone_verified"`
	Lang          string   `json:"lang"`
	Avatar        string   `json:"avatar"`
	Sex           int      `json:"sex"`
	Birthday      *int64   `json:"birthday"`
	DatingModel   string   `json:"dating.model"`
	State         string   `json:"state"` // "active" or "deactivated"
	IsNew         bool     `json:"is_new"`
	Created       int64    `json:"created"` // unix seconds
	Session       *Session `json:"session,omitempty"`
}

// SocketTicketParams is user.auth.websocket's (empty) request.
type SocketTicketParams struct{}

// SocketTicket is user.auth.websocket's data: url is relative to the
// gateway's base URL (ws:// or wss:// scheme).
type SocketTicket struct {
	Ticket    string    `json:"ticket"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Session is the envelope's session member, added to the data of a method
// that logs a user in.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}
