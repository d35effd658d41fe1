package resourcewire

import "time"

// APIKeysListParams is GET /resource/api_keys. Barong asks for a TOTP code
// to list keys too.
type APIKeysListParams struct {
	TOTPCode string `json:"totp_code" rpc:"max=64"`
	Page     int    `json:"page"`
	Limit    int    `json:"limit"`
}

// APIKeyCreateParams is POST /resource/api_keys. Scope is Barong's
// comma-separated list of method prefixes; Kid is accepted and ignored, as
// Barong replaces it for HMAC keys.
type APIKeyCreateParams struct {
	Algorithm string `json:"algorithm" rpc:"required,max=16"`
	Kid       string `json:"kid" rpc:"max=64"`
	Scope     string `json:"scope" rpc:"max=1024"`
	TOTPCode  string `json:"totp_code" rpc:"max=64"`
}

// APIKeyUpdateParams is PATCH /resource/api_keys/{kid}: scope and state
// change when given.
type APIKeyUpdateParams struct {
	Kid      string  `json:"kid" rpc:"required,max=64"`
	Scope    *string `json:"scope" rpc:"max=1024"`
	State    *string `json:"state" rpc:"max=16"`
	TOTPCode string  `json:"totp_code" rpc:"max=64"`
}

// APIKeyDeleteParams is DELETE /resource/api_keys/{kid}.
type APIKeyDeleteParams struct {
	Kid      string `json:"kid" rpc:"required,max=64"`
	TOTPCode string `json:"totp_code" rpc:"max=64"`
}

// APIKey is Barong's API key entity. Secret is set only in
// resource.api_keys.create's result, the one time it is shown.
type APIKey struct {
	Kid       string    `json:"kid"`
	Algorithm string    `json:"algorithm"`
	Scope     []string  `json:"scope"`
	State     string    `json:"state"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}
