package gateway

import (
	"partnergate/core/apikeys"
	"partnergate/methods/resource"
	"partnergate/rpc"
)

// registerAPIKeys builds the user API-key service over second (core/otp)
// and registers resource.api_keys.* on reg.
func (m *Main) registerAPIKeys(reg *rpc.Registry, second apikeys.SecondFactor) error {
	m.apiKeys = &apikeys.Service{Store: m.store, Ring: m.ring, OTP: second, Nonces: m.kv(), MaxPerUser: m.Config.MaxAPIKeys, Activity: m.activity}
	svc := &resource.APIKeys{Keys: m.apiKeys}
	return reg.Register(svc, svc.Methods()...)
}

// APIKeys is the user API-key service, after Open.
func (m *Main) APIKeys() *apikeys.Service { return m.apiKeys }
