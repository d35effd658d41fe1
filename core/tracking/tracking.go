// Package tracking is the domain core of seed 000's user.tracking.set: it
// validates the analytics identifiers and environment data a client sends
// and stores each call as one timestamped event of the user, keeping push
// devices in a table of their own.
package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Attributes are every member seed 000 lists for user.tracking.set. Empty
// strings, empty arrays and absent numbers mean "not sent". The JSON names
// are the seed's; an event stores the validated attributes in this form.
type Attributes struct {
	WebstatVisitorID     string    `json:"webstat_visitor_id,omitempty"`
	WebstatFingerprintID string    `json:"webstat_fingerprint_id,omitempty"`
	WebstatSessionID     string    `json:"webstat_session_id,omitempty"`
	WebstatAPIHandler    string    `json:"webstat_api_handler,omitempty"`
	WifiMAC              string    `json:"wifi_mac,omitempty"`
	BluetoothMAC         string    `json:"bluetooth_mac,omitempty"`
	Location             []float64 `json:"location,omitempty"`
	Screen               []int     `json:"screen,omitempty"`
	DeviceID             string    `json:"device_id,omitempty"`
	GAID                 string    `json:"gaid,omitempty"`
	IDFA                 string    `json:"idfa,omitempty"`
	PushDeviceID         string    `json:"push_device_id,omitempty"`
	UnsetPushDeviceID    string    `json:"unset_push_device_id,omitempty"`
	WebURI               []string  `json:"web_uri,omitempty"`
	WebEvent             []string  `json:"web_event,omitempty"`
	AppURI               []string  `json:"app_uri,omitempty"`
	AppEvent             []string  `json:"app_event,omitempty"`
	BatteryCharge        *int      `json:"battery_charge,omitempty"`
	ProviderName         string    `json:"provider_name,omitempty"`
	ProviderQuality      *float64  `json:"provider_quality,omitempty"`
}

// Limits, documented in docs/api.md.
const (
	MaxItems     = 100      // items in one array
	MaxURI       = 2048     // characters in one URI
	MaxEventName = 256      // characters in one event
	MaxID        = 256      // characters in an identifier or name
	MaxPushID    = 512      // characters in a push device id
	MaxEventSize = 64 << 10 // bytes of one stored event (JSON)
	MaxScreen    = 100000   // pixels on a screen side
	MinAltitude  = -1000.0  // metres
	MaxAltitude  = 100000.0 // metres
)

// NoAttributesMessage is the seed's message when a call sets nothing.
const NoAttributesMessage = "No one attributes is set."

// Service is the tracking core. Its fields are its dependencies, set in cmd.
type Service struct {
	Store store.TrackingStore
	// KeepEvents is how many of a user's newest events are kept (default
	// 1000); KeepPush how many push devices (default 20).
	KeepEvents int
	KeepPush   int
	Now        func() time.Time
	Log        zerolog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Origin is where a call came from.
type Origin struct {
	UserID    string
	IP        string
	UserAgent string
}

// Set validates a and stores it as one event of the user, registering or
// removing push devices on the way. fault.Invalid with the seed's message
// when nothing is set, or with one entry in fields per bad member;
// fault.NotFound when the user does not exist.
func (s *Service) Set(ctx context.Context, o Origin, a Attributes) error {
	norm, err := Validate(a)
	if err != nil {
		return err
	}
	data, err := json.Marshal(norm)
	if err != nil {
		return fmt.Errorf("tracking: encode: %w", err)
	}
	if len(data) > MaxEventSize {
		return fault.Field(fault.Invalid, "params", fmt.Sprintf("the attributes take more than %d bytes", MaxEventSize))
	}
	keepEvents, keepPush := s.KeepEvents, s.KeepPush
	if keepEvents <= 0 {
		keepEvents = 1000
	}
	if keepPush <= 0 {
		keepPush = 20
	}
	_, err = s.Store.RecordTracking(ctx, store.TrackingRecord{
		Event:   store.TrackingEvent{UserID: o.UserID, At: s.now(), IP: o.IP, UserAgent: truncate(o.UserAgent, 512), Data: string(data)},
		SetPush: norm.PushDeviceID, UnsetPush: norm.UnsetPushDeviceID,
		KeepEvents: keepEvents, KeepPush: keepPush,
	})
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound)
	}
	if err != nil {
		return core.StoreError("tracking: record", err)
	}
	if norm.PushDeviceID != "" || norm.UnsetPushDeviceID != "" {
		s.Log.Info().Str("event", "push_device.changed").Str("user", o.UserID).
			Bool("set", norm.PushDeviceID != "").Bool("unset", norm.UnsetPushDeviceID != "").Msg("audit")
	}
	return nil
}

// Validate checks every member of a and returns it normalised (MAC
// addresses in lower-case colon form, advertising ids lower-case).
func Validate(a Attributes) (Attributes, error) {
	if isEmpty(a) {
		return a, &fault.Error{Code: fault.Invalid, Message: NoAttributesMessage,
			Fields: map[string]string{"params": "set at least one attribute"}}
	}
	v := validator{fields: map[string]string{}}
	v.token("webstat_visitor_id", a.WebstatVisitorID, MaxID)
	v.token("webstat_fingerprint_id", a.WebstatFingerprintID, MaxID)
	v.token("webstat_session_id", a.WebstatSessionID, MaxID)
	v.text("webstat_api_handler", a.WebstatAPIHandler, MaxURI)
	a.WifiMAC = v.mac("wifi_mac", a.WifiMAC)
	a.BluetoothMAC = v.mac("bluetooth_mac", a.BluetoothMAC)
	v.location(a.Location)
	v.screen(a.Screen)
	v.token("device_id", a.DeviceID, MaxID)
	a.GAID = v.adID("gaid", a.GAID)
	a.IDFA = v.adID("idfa", a.IDFA)
	v.token("push_device_id", a.PushDeviceID, MaxPushID)
	v.token("unset_push_device_id", a.UnsetPushDeviceID, MaxPushID)
	if a.PushDeviceID != "" && a.PushDeviceID == a.UnsetPushDeviceID {
		v.fields["unset_push_device_id"] = "must differ from push_device_id"
	}
	v.uris("web_uri", a.WebURI, true)
	v.list("web_event", a.WebEvent)
	v.uris("app_uri", a.AppURI, false)
	v.list("app_event", a.AppEvent)
	if a.BatteryCharge != nil && (*a.BatteryCharge < 0 || *a.BatteryCharge > 100) {
		v.fields["battery_charge"] = "must be 0 to 100"
	}
	v.text("provider_name", a.ProviderName, MaxID)
	if q := a.ProviderQuality; q != nil && (math.IsNaN(*q) || *q < 0 || *q > 1) {
		v.fields["provider_quality"] = "must be 0 to 1"
	}
	if len(v.fields) > 0 {
		return a, &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: v.fields}
	}
	return a, nil
}

func isEmpty(a Attributes) bool {
	return a.WebstatVisitorID == "" && a.WebstatFingerprintID == "" && a.WebstatSessionID == "" &&
		a.WebstatAPIHandler == "" && a.WifiMAC == "" && a.BluetoothMAC == "" && len(a.Location) == 0 &&
		len(a.Screen) == 0 && a.DeviceID == "" && a.GAID == "" && a.IDFA == "" && a.PushDeviceID == "" &&
		a.UnsetPushDeviceID == "" && len(a.WebURI) == 0 && len(a.WebEvent) == 0 && len(a.AppURI) == 0 &&
		len(a.AppEvent) == 0 && a.BatteryCharge == nil && a.ProviderName == "" && a.ProviderQuality == nil
}

type validator struct {
	fields map[string]string
}

// text accepts printable text without control characters.
func (v *validator) text(name, s string, max int) {
	if s == "" {
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.fields[name] = fmt.Sprintf("longer than %d characters", max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			v.fields[name] = "must not contain control characters"
			return
		}
	}
}

// token accepts printable ASCII without spaces: identifiers.
func (v *validator) token(name, s string, max int) {
	if s == "" {
		return
	}
	if len(s) > max {
		v.fields[name] = fmt.Sprintf("longer than %d characters", max)
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			v.fields[name] = "must be printable ASCII without spaces"
			return
		}
	}
}

// mac accepts a 6-byte (EUI-48) MAC address in any form net.ParseMAC takes.
func (v *validator) mac(name, s string) string {
	if s == "" {
		return ""
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		v.fields[name] = "must be a 6-byte MAC address such as 00:1a:2b:3c:4d:5e"
		return s
	}
	return hw.String()
}

// adID accepts an advertising id: a UUID in its 36-character form.
func (v *validator) adID(name, s string) string {
	if s == "" {
		return ""
	}
	if len(s) != 36 {
		v.fields[name] = "must be a UUID such as 38400000-8cf0-11bd-b23e-10b96e40000d"
		return s
	}
	if _, err := uuid.Parse(s); err != nil {
		v.fields[name] = "must be a UUID such as 38400000-8cf0-11bd-b23e-10b96e40000d"
		return s
	}
	return strings.ToLower(s)
}

func (v *validator) location(l []float64) {
	if len(l) == 0 {
		return
	}
	if len(l) != 2 && len(l) != 3 {
		v.fields["location"] = "must be [latitude, longitude] or [latitude, longitude, altitude]"
		return
	}
	for _, x := range l {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			v.fields["location"] = "must hold finite numbers"
			return
		}
	}
	switch {
	case l[0] < -90 || l[0] > 90:
		v.fields["location"] = "latitude must be -90 to 90"
	case l[1] < -180 || l[1] > 180:
		v.fields["location"] = "longitude must be -180 to 180"
	case len(l) == 3 && (l[2] < MinAltitude || l[2] > MaxAltitude):
		v.fields["location"] = fmt.Sprintf("altitude must be %g to %g metres", MinAltitude, MaxAltitude)
	}
}

func (v *validator) screen(s []int) {
	if len(s) == 0 {
		return
	}
	if len(s) != 2 || s[0] < 1 || s[1] < 1 || s[0] > MaxScreen || s[1] > MaxScreen {
		v.fields["screen"] = fmt.Sprintf("must be [width, height], each 1 to %d", MaxScreen)
	}
}

// uris accepts up to MaxItems absolute URIs; web ones must be http(s).
func (v *validator) uris(name string, list []string, web bool) {
	if len(list) > MaxItems {
		v.fields[name] = fmt.Sprintf("more than %d items", MaxItems)
		return
	}
	for i, s := range list {
		u, err := url.Parse(s)
		ok := err == nil && len(s) <= MaxURI && u.Scheme != "" && !strings.ContainsAny(s, " \t\r\n")
		if ok && web {
			ok = (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
		}
		if !ok {
			what := "an absolute URI (scheme:…)"
			if web {
				what = "an absolute http(s) URL"
			}
			v.fields[fmt.Sprintf("%s[%d]", name, i)] = fmt.Sprintf("must be %s of at most %d characters", what, MaxURI)
			return
		}
	}
}

// list accepts up to MaxItems event names.
func (v *validator) list(name string, list []string) {
	if len(list) > MaxItems {
		v.fields[name] = fmt.Sprintf("more than %d items", MaxItems)
		return
	}
	for i, s := range list {
		item := fmt.Sprintf("%s[%d]", name, i)
		if s == "" {
			v.fields[item] = "must not be empty"
			return
		}
		if v.text(item, s, MaxEventName); v.fields[item] != "" {
			return
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
