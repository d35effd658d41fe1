// Package fault is partnergate's error catalogue: the coded errors a method
// returns inside the envelope's error member. It imports only the standard
// library, so that the core, the transport and clients can all use it
// without depending on each other. Codes are stable and never reused
// for another meaning; docs/errors.md lists them and a test keeps the two in
// step.
//
// The domain core returns *Error for every condition a caller may act on.
// Anything else is an internal failure: the transport logs it with the request
// id and the caller sees only JSON-RPC -32603 "Internal error".
package fault

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Code identifies one condition. 0 is success.
type Code int

// The catalogue. Ranges: 1xxx transport and access, 2xxx credentials and
// accounts, 3xxx validation.
const (
	// Access and transport.
	Unauthenticated    Code = 1001 // the method needs a caller and none was presented
	Forbidden          Code = 1002 // the caller is known but may not call this method
	Throttled          Code = 1003 // too many calls; retryAfter says when to retry
	Unavailable        Code = 1004 // a dependency (database, Redis) is down; retry later
	SignatureMissing   Code = 1010 // partner headers incomplete
	SignatureMalformed Code = 1011 // partner headers present but unparsable
	KeyUnknown         Code = 1012 // X-Api-Key is unknown or revoked
	SignatureInvalid   Code = 1013 // HMAC does not match
	TimestampStale     Code = 1014 // X-Api-Timestamp outside the ±30 s window
	NonceReplayed      Code = 1015 // X-Api-Nonce already used with this key
	SessionInvalid     Code = 1020 // bearer token unknown, expired or revoked
	DevOnly            Code = 1030 // method exists only in --dev mode

	// Credentials and accounts.
	WrongCredentials   Code = 2001 // unknown user or wrong password (never told apart)
	EmailNotVerified   Code = 2002
	PhoneNotVerified   Code = 2003
	NotVerified        Code = 2004 // neither email nor phone verified
	UserDisabled       Code = 2005
	AlreadyExists      Code = 2006 // an identifier (email, phone, username) is taken
	NotFound           Code = 2007
	PasswordTooShort   Code = 2010
	PasswordTooLong    Code = 2011
	PasswordWeak       Code = 2012
	CodeInvalid        Code = 2013 // verification code wrong, expired, used or voided
	EmailVerified      Code = 2014 // resend refused: the email is already verified
	PhoneVerified      Code = 2015 // resend refused: the phone is already verified
	ProductDisabled    Code = 2050 // user.products.activate: the product exists but is disabled
	ReferralUnknown    Code = 2100 // identity.users.create: refid names no user
	BasicMalformed     Code = 2200 // seed 003: an Authorization: Basic header that RFC 7617 does not allow
	AccountKeyInvalid  Code = 2201 // seed 003 users.resetPassword: unknown user, no key or a wrong key (never told apart)
	CaptchaRequired    Code = 2101 // a guarded endpoint was called without a captcha answer
	CaptchaInvalid     Code = 2102 // the captcha verifier refused the answer
	CaptchaUnavailable Code = 2103 // the captcha verifier could not be asked: refused (deny by default)
	LabelPrivate       Code = 2104 // a label the system keeps (private scope or a reserved key)
	LimitReached       Code = 2105 // the user has as many labels or phones as allowed
	ProfileExists      Code = 2106 // resource.profiles.create: the user has a profile already
	ProfileLocked      Code = 2107 // the profile is submitted, verified or rejected: no longer editable
	PhotoLimitReached  Code = 2202 // seed 003 users.me.photos.add: the user has the maximum number of photos

	// Uploaded files (core/files): files.create, documents, photos.
	FileInvalid      Code = 2250 // the content is not strict base64, or is empty
	FileTooLarge     Code = 2251 // over the configured size cap
	FileTypeRefused  Code = 2252 // the magic bytes are not a type this upload allows
	FileLimitReached Code = 2253 // the user holds the most files allowed

	// Seed 002 documents, data storage and user API keys.
	DocumentLimitReached   Code = 2140 // the user already holds the most documents allowed
	DocumentLimitWouldPass Code = 2141 // this upload would take the user past the documents limit
	DocumentExpired        Code = 2142 // doc_expire is in the past
	DataStorageTaken       Code = 2143 // the user already has a data storage of that title
	APIKeyLimitReached     Code = 2144 // the user already holds the most API keys allowed
	APIKeyInvalid          Code = 2148 // X-Auth-Apikey unknown, disabled, or its signature does not match

	// Seed 002's admin side: roles, permissions, restrictions (2160-2199).
	Restricted          Code = 2160 // a blacklist restriction matches the caller's address, country or continent
	Maintenance         Code = 2161 // a maintenance restriction is on and the caller is not whitelisted
	LoginRestricted     Code = 2162 // a blocklogin restriction refuses new sessions from the caller's address
	RoleUnknown         Code = 2163 // the role named is not one of the configured roles
	RoleAboveOwn        Code = 2164 // the caller may not give a role ranked above its own, or change a user ranked above it
	RestrictionInvalid  Code = 2165 // a restriction's value does not fit its scope (bad IP, CIDR, country or continent code)
	GeoUnavailable      Code = 2166 // a country or continent restriction without a GeoIP database (PARTNERGATE_GEOIP_DB)
	RestrictionLocksOut Code = 2167 // the restriction would refuse the admin making it (whitelist the admin's address first)
	TwoFactorRequired   Code = 2168 // admin.* needs the caller's 2FA on

	// Seed 004 and access JWTs.
	AccessTokenInvalid  Code = 2301 // access JWT malformed, badly signed, expired, for another audience or of an ended session
	RefreshTokenInvalid Code = 2302 // refresh token unknown, expired or of an ended session
	RefreshTokenReused  Code = 2303 // a refresh token was presented again: its session is ended
	RecoveryLinkInvalid Code = 2304 // account.resetPassword: the link's token is unknown, expired, used or a decoy
	SettingsLimit       Code = 2305 // account.settings.set: the user would have more settings than the cap
	CookieInvalid       Code = 2306 // a credential cookie (ck, WAVIOT_JWT, rt, sessid) is oversized, repeated or inconsistent

	// Two-factor authentication (core/otp), every namespace.
	OTPRequired       Code = 2120 // 2FA is on and no code was given
	OTPInvalid        Code = 2121 // the code is wrong, of a used step, or a used recovery code
	OTPMalformed      Code = 2122 // the code is neither 6 digits nor a recovery code
	OTPNotEnabled     Code = 2123 // verify/disable while 2FA is off
	OTPAlreadyEnabled Code = 2124 // generate/enable while 2FA is on
	OTPNotGenerated   Code = 2125 // enable before generate_qrcode

	// The admin console (GET /console/).
	ConsoleCSRF      Code = 2450 // a console call without the session's CSRF token, or with a wrong one
	ConsoleMethod    Code = 2451 // the console route forwards admin.* and identity.sessions.delete only
	ConsoleCrossSite Code = 2452 // a console call from another origin (Origin or Sec-Fetch-Site)
	ConsoleSignedOut Code = 2453 // a console call without the session cookie

	// Validation.
	Invalid      Code = 3001 // one or more fields failed validation; see fields
	EmailInvalid Code = 3002
	FieldTooLong Code = 3003
	PhoneInvalid Code = 3004
)

var messages = map[Code]string{
	Unauthenticated:    "Authentication required.",
	Forbidden:          "Forbidden.",
	Throttled:          "Too many requests, retry later.",
	Unavailable:        "Service temporarily unavailable, retry later.",
	SignatureMissing:   "Partner signature headers missing.",
	SignatureMalformed: "Partner signature headers malformed.",
	KeyUnknown:         "Unknown or revoked API key.",
	SignatureInvalid:   "Invalid signature.",
	TimestampStale:     "Timestamp outside the allowed window.",
	NonceReplayed:      "Nonce already used.",
	SessionInvalid:     "Session invalid or expired.",
	DevOnly:            "Method available in dev mode only.",

	WrongCredentials:   "Wrong email or password.",
	EmailNotVerified:   "Email not verified.",
	PhoneNotVerified:   "Phone not verified.",
	NotVerified:        "Email and phone not verified.",
	UserDisabled:       "User deactivated.",
	AlreadyExists:      "Already exists.",
	NotFound:           "Not found.",
	PasswordTooShort:   "Password too short.",
	PasswordTooLong:    "Password too long.",
	PasswordWeak:       "Password too weak or too common.",
	CodeInvalid:        "Code is wrong or expired.",
	EmailVerified:      "Email already verified.",
	PhoneVerified:      "Phone already verified.",
	ProductDisabled:    "Product disabled.",
	ReferralUnknown:    "Referral does not exist.",
	BasicMalformed:     "Basic credentials malformed.",
	AccountKeyInvalid:  "Wrong user id or account key.",
	CaptchaRequired:    "Captcha response required.",
	CaptchaInvalid:     "Captcha verification failed.",
	CaptchaUnavailable: "Captcha verification unavailable, retry later.",
	LabelPrivate:       "Label is managed by the system.",
	LimitReached:       "Limit reached.",
	ProfileExists:      "Profile already exists.",
	ProfileLocked:      "Profile can no longer be edited.",
	PhotoLimitReached:  "Photo limit reached.",

	FileInvalid:      "File content invalid.",
	FileTooLarge:     "File too large.",
	FileTypeRefused:  "File type not allowed.",
	FileLimitReached: "File limit reached.",

	DocumentLimitReached:   "Maximum number of documents already reached.",
	DocumentLimitWouldPass: "This upload would pass the documents limit.",
	DocumentExpired:        "Document already expired.",
	DataStorageTaken:       "Data storage title already used.",
	APIKeyLimitReached:     "API key limit reached.",
	APIKeyInvalid:          "API key or signature invalid.",

	Restricted:          "Access restricted.",
	Maintenance:         "Service under maintenance.",
	LoginRestricted:     "Login restricted.",
	RoleUnknown:         "Role does not exist.",
	RoleAboveOwn:        "Role above your own.",
	RestrictionInvalid:  "Restriction value invalid for its scope.",
	GeoUnavailable:      "No GeoIP database configured: country and continent restrictions cannot be checked.",
	RestrictionLocksOut: "Restriction would lock you out.",
	TwoFactorRequired:   "Two-factor authentication must be on for admin calls.",

	AccessTokenInvalid:  "Access token invalid or expired.",
	RefreshTokenInvalid: "Refresh token invalid or expired.",
	RefreshTokenReused:  "Refresh token already used; the session was ended.",
	RecoveryLinkInvalid: "Recovery link invalid, expired or already used.",
	SettingsLimit:       "Too many settings.",
	CookieInvalid:       "Credential cookie malformed.",

	OTPRequired:       "Two-factor code required.",
	OTPInvalid:        "Two-factor code is wrong or already used.",
	OTPMalformed:      "Two-factor code must be 6 digits or a recovery code.",
	OTPNotEnabled:     "Two-factor authentication is not enabled.",
	OTPAlreadyEnabled: "Two-factor authentication is already enabled.",
	OTPNotGenerated:   "No two-factor secret yet: generate a QR code first.",

	ConsoleCSRF:      "Console request refused: CSRF token missing or wrong.",
	ConsoleMethod:    "Method not available from the console.",
	ConsoleCrossSite: "Console request refused: not from the console's origin.",
	ConsoleSignedOut: "Not signed in to the console.",

	Invalid:      "Validation failed.",
	EmailInvalid: "Email address invalid.",
	FieldTooLong: "Field too long.",
	PhoneInvalid: "Phone number invalid.",
}

// Codes returns every catalogue code in ascending order, for docs and tests.
func Codes() []Code {
	cs := make([]Code, 0, len(messages))
	for c := range messages {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	return cs
}

// Message is the catalogue's fixed message for c.
func (c Code) Message() string { return messages[c] }

// Error is a coded failure. Its Message is safe to show a caller; Cause, when
// set, is logged and never shown.
type Error struct {
	Code       Code
	Message    string
	Fields     map[string]string
	RetryAfter time.Duration
	Cause      error
}

// New returns an error with c's catalogue message.
func New(c Code) *Error { return &Error{Code: c, Message: c.Message()} }

// Errorf returns an error with c and a formatted message. The message is shown
// to callers: never put a secret or stored data in it.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid-family error naming the one field at fault.
func Field(c Code, field, problem string) *Error {
	return &Error{Code: c, Message: c.Message(), Fields: map[string]string{field: problem}}
}

// Throttle returns a Throttled error that says when to retry.
func Throttle(after time.Duration) *Error {
	return &Error{Code: Throttled, Message: Throttled.Message(), RetryAfter: after}
}

// Wrap attaches an internal cause to a coded error; the cause is logged only.
func Wrap(c Code, cause error) *Error {
	return &Error{Code: c, Message: c.Message(), Cause: cause}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("fault %d: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("fault %d: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// As finds the coded error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// CodeOf returns err's catalogue code, or 0 when err carries none.
func CodeOf(err error) Code {
	if fe, ok := As(err); ok {
		return fe.Code
	}
	return 0
}
