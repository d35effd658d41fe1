package user

import (
	"net/http"

	"partnergate/core/tracking"
	"partnergate/rpc"
)

// Tracking serves user.tracking.set.
type Tracking struct {
	Tracking *tracking.Service
}

// Methods declares it.
func (s *Tracking) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.tracking.set", Go: "Set", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Stores analytics identifiers and environment data (any subset of the seed's members) as one event; registers or removes a push device."},
	}
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

// Set is user.tracking.set. Its data is true.
func (s *Tracking) Set(r *http.Request, p *TrackingSetParams, res *bool) error {
	c := rpc.CallerFrom(r.Context())
	o := tracking.Origin{UserID: c.UserID, IP: c.IP, UserAgent: c.UserAgent}
	if err := s.Tracking.Set(r.Context(), o, tracking.Attributes(*p)); err != nil {
		return err
	}
	*res = true
	return nil
}
