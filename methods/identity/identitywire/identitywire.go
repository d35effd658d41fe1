// Package identitywire holds seed 002's (Barong 2.4's) identity.* params and
// results. It imports only the standard library so that an SDK can name these
// types without linking the server; methods/identity serves them. The rpc
// tags are the server's limits, read by rpc when it decodes params.
package identitywire

import (
	"time"

	"partnergate/methods/barong/barongwire"
)

// Empty is the params of the methods that take none.
type Empty struct{}

// SessionCreateParams is POST /identity/sessions.
type SessionCreateParams struct {
	Email           string `json:"email" rpc:"required,max=254"`
	Password        string `json:"password" rpc:"required,max=1024"`
	CaptchaResponse string `json:"captcha_response" rpc:"max=4096"`
	OTPCode         string `json:"otp_code" rpc:"max=64"`
}

// User is Barong's user object, shared by seed 002's namespaces.
type User = barongwire.User

// Session is identity.sessions.create's result: Barong's user object at the
// top level (where Barong's clients read it) and the bearer token that
// replaces Barong's session cookie.
type Session struct {
	User
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// UserCreateParams is POST /identity/users.
type UserCreateParams struct {
	Email           string `json:"email" rpc:"required,max=254"`
	Password        string `json:"password" rpc:"required,max=1024"`
	RefID           string `json:"refid" rpc:"max=12"`
	Lang            string `json:"lang" rpc:"max=2"`
	CaptchaResponse string `json:"captcha_response" rpc:"max=4096"`
	Data            string `json:"data" rpc:"max=4096"`
}

// PasswordValidateParams is POST /identity/password/validate.
type PasswordValidateParams struct {
	Password string `json:"password" rpc:"required,max=1024"`
}

// PasswordValidateResult is the strength answer: zxcvbn's score (0-4) under
// the registration policy, and whether registration would accept it.
type PasswordValidateResult struct {
	Score    int  `json:"score"`
	Accepted bool `json:"accepted"`
}

// VersionResult is GET /identity/version.
type VersionResult struct {
	Git     string `json:"git_tag"`
	Commit  string `json:"git_sha"`
	BuildAt string `json:"build_date"`
	Version string `json:"version"`
}

// TimeResult is GET /identity/time.
type TimeResult struct {
	Time int64 `json:"time"`
}

// PingResult is GET /identity/ping.
type PingResult struct {
	Ping string `json:"ping"`
}

// ConfigsResult is GET /identity/configs: the settings a Barong client reads
// before it draws its forms.
type ConfigsResult struct {
	SessionExpiresIn int    `json:"session_expires_in"`
	CaptchaType      string `json:"captcha_type"`
	CaptchaID        string `json:"captcha_id"`
	PasswordMinScore int    `json:"password_min_score"`
}
