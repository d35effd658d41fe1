package resource

import (
	"net/http"

	"partnergate/core/apikeys"
	"partnergate/core/fault"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/store"
)

// APIKeys is resource.api_keys.*: the user's API keys. Every method needs
// the user's 2FA on and a valid totp_code, as Barong does.
type APIKeys struct {
	Keys *apikeys.Service
}

// Methods declares the methods for the registry.
func (s *APIKeys) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.api_keys.list", Go: "List", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Lists the user's API keys without secrets (totp_code required; page, limit ≤ 1000)."},
		{Name: "resource.api_keys.create", Go: "Create", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Creates an HMAC API key (algorithm HS256/HS384/HS512, comma-separated scope; totp_code required); the secret is returned this once."},
		{Name: "resource.api_keys.update", Go: "Update", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Changes a key's scope or state (active, disabled); totp_code required."},
		{Name: "resource.api_keys.delete", Go: "Delete", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Deletes a key; totp_code required."},
	}
}

var apiKeyKeys = map[fault.Code]string{
	fault.OTPNotEnabled:      "resource.api_key.2fa_disabled",
	fault.OTPRequired:        "resource.api_key.missing_otp",
	fault.OTPInvalid:         "resource.api_key.invalid_otp",
	fault.OTPMalformed:       "resource.api_key.invalid_otp",
	fault.APIKeyLimitReached: "resource.api_key.limit_reached",
	fault.NotFound:           "record.not_found",
}

var apiKeyFieldKeys = map[string]string{
	"algorithm": "resource.api_key.invalid_algorithm",
	"scope":     "resource.api_key.invalid_scope",
	"state":     "resource.api_key.invalid_state",
	"page":      "resource.api_key.non_positive_page",
	"limit":     "resource.api_key.invalid_limit",
}

func apiKeyErr(err error) error { return fieldKey(barong.Err(err, apiKeyKeys), apiKeyFieldKeys) }

func presentKey(k store.APIKey) resourcewire.APIKey {
	sc := k.Scope
	if sc == nil {
		sc = []string{}
	}
	return resourcewire.APIKey{Kid: k.KID, Algorithm: k.Algorithm, Scope: sc, State: k.State,
		CreatedAt: k.Created.UTC(), UpdatedAt: k.Updated.UTC()}
}

// List is resource.api_keys.list.
func (s *APIKeys) List(r *http.Request, p *resourcewire.APIKeysListParams, res *[]resourcewire.APIKey) error {
	ctx := r.Context()
	page, limit := p.Page, p.Limit
	if page == 0 {
		page = 1
	}
	if limit == 0 {
		limit = 100
	}
	ks, _, err := s.Keys.List(ctx, rpc.CallerFrom(ctx).UserID, p.TOTPCode, page, limit)
	if err != nil {
		return apiKeyErr(err)
	}
	out := make([]resourcewire.APIKey, len(ks))
	for i, k := range ks {
		out[i] = presentKey(k)
	}
	*res = out
	return nil
}

// Create is resource.api_keys.create.
func (s *APIKeys) Create(r *http.Request, p *resourcewire.APIKeyCreateParams, res *resourcewire.APIKey) error {
	ctx := r.Context()
	c, err := s.Keys.Create(ctx, rpc.CallerFrom(ctx).UserID, p.Algorithm, p.Scope, p.TOTPCode)
	if err != nil {
		return apiKeyErr(err)
	}
	*res = presentKey(c.Key)
	res.Secret = c.Secret
	return nil
}

// Update is resource.api_keys.update.
func (s *APIKeys) Update(r *http.Request, p *resourcewire.APIKeyUpdateParams, res *resourcewire.APIKey) error {
	ctx := r.Context()
	k, err := s.Keys.Update(ctx, rpc.CallerFrom(ctx).UserID, p.Kid, p.Scope, p.State, p.TOTPCode)
	if err != nil {
		return apiKeyErr(err)
	}
	*res = presentKey(k)
	return nil
}

// Delete is resource.api_keys.delete.
func (s *APIKeys) Delete(r *http.Request, p *resourcewire.APIKeyDeleteParams, res *bool) error {
	ctx := r.Context()
	if err := s.Keys.Delete(ctx, rpc.CallerFrom(ctx).UserID, p.Kid, p.TOTPCode); err != nil {
		return apiKeyErr(err)
	}
	*res = true
	return nil
}
