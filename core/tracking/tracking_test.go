package tracking

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

var now = time.Date(2024, 5, 17, 9, 30, 0, 0, time.UTC)

func newService(t *testing.T, users ...string) (*Service, *sqlstore.Store) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range users {
		if err := st.CreateUser(t.Context(), store.NewUser{User: store.User{ID: id, Created: now, Updated: now, State: store.StateActive}}); err != nil {
			t.Fatal(err)
		}
	}
	return &Service{Store: st, Now: func() time.Time { return now }}, st
}

func ptr[T any](v T) *T { return &v }

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		in    Attributes
		field string // "" means valid
	}{
		{"webstat ids", Attributes{WebstatVisitorID: "v-1", WebstatFingerprintID: "f1", WebstatSessionID: "s1", WebstatAPIHandler: "https://ws.example.com/h"}, ""},
		{"everything in range", Attributes{Location: []float64{-90, 180, 100000}, Screen: []int{1, 100000}, BatteryCharge: ptr(0), ProviderQuality: ptr(1.0), ProviderName: "Vodafone DE"}, ""},
		{"location without altitude", Attributes{Location: []float64{55.75, 37.62}}, ""},
		{"uris and events", Attributes{WebURI: []string{"https://example.com/a?b=c"}, AppURI: []string{"myapp://screen/1"}, WebEvent: []string{"click"}, AppEvent: repeat("open", MaxItems)}, ""},
		{"battery zero is set", Attributes{BatteryCharge: ptr(0)}, ""},

		{"bad wifi mac", Attributes{WifiMAC: "00:1a:2b:3c:4d"}, "wifi_mac"},
		{"eui-64 bluetooth mac", Attributes{BluetoothMAC: "00:1a:2b:3c:4d:5e:6f:70"}, "bluetooth_mac"},
		{"mac garbage", Attributes{WifiMAC: "hello"}, "wifi_mac"},
		{"latitude", Attributes{Location: []float64{90.5, 0}}, "location"},
		{"longitude", Attributes{Location: []float64{0, -180.1}}, "location"},
		{"altitude", Attributes{Location: []float64{0, 0, -1001}}, "location"},
		{"location arity", Attributes{Location: []float64{1}}, "location"},
		{"location four", Attributes{Location: []float64{1, 2, 3, 4}}, "location"},
		{"screen zero", Attributes{Screen: []int{0, 100}}, "screen"},
		{"screen negative", Attributes{Screen: []int{100, -1}}, "screen"},
		{"screen huge", Attributes{Screen: []int{100001, 1}}, "screen"},
		{"screen arity", Attributes{Screen: []int{100}}, "screen"},
		{"battery over", Attributes{BatteryCharge: ptr(101)}, "battery_charge"},
		{"battery under", Attributes{BatteryCharge: ptr(-1)}, "battery_charge"},
		{"quality over", Attributes{ProviderQuality: ptr(1.01)}, "provider_quality"},
		{"quality under", Attributes{ProviderQuality: ptr(-0.1)}, "provider_quality"},
		{"gaid not a uuid", Attributes{GAID: "not-a-uuid"}, "gaid"},
		{"idfa braces", Attributes{IDFA: "{6D92078A-8246-4BA4-AE5B-76104861E7DC}"}, "idfa"},
		{"web uri relative", Attributes{WebURI: []string{"/path"}}, "web_uri[0]"},
		{"web uri other scheme", Attributes{WebURI: []string{"https://ok.example.com", "ftp://example.com/x"}}, "web_uri[1]"},
		{"web uri too long", Attributes{WebURI: []string{"https://example.com/" + strings.Repeat("a", MaxURI)}}, "web_uri[0]"},
		{"app uri no scheme", Attributes{AppURI: []string{"screen/1"}}, "app_uri[0]"},
		{"app uri with space", Attributes{AppURI: []string{"myapp://a b"}}, "app_uri[0]"},
		{"too many uris", Attributes{WebURI: repeat("https://example.com", MaxItems+1)}, "web_uri"},
		{"too many events", Attributes{WebEvent: repeat("e", MaxItems+1)}, "web_event"},
		{"long event", Attributes{AppEvent: []string{strings.Repeat("e", MaxEventName+1)}}, "app_event[0]"},
		{"empty event", Attributes{AppEvent: []string{"ok", ""}}, "app_event[1]"},
		{"control character", Attributes{ProviderName: "a\x07b"}, "provider_name"},
		{"id with space", Attributes{DeviceID: "dev 1"}, "device_id"},
		{"long push id", Attributes{PushDeviceID: strings.Repeat("p", MaxPushID+1)}, "push_device_id"},
		{"set and unset one device", Attributes{PushDeviceID: "p1", UnsetPushDeviceID: "p1"}, "unset_push_device_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Code != fault.Invalid || fe.Fields[tc.field] == "" || len(fe.Fields) != 1 {
				t.Fatalf("Validate = %v (fields %v), want Invalid on %s only", err, fieldsOf(err), tc.field)
			}
		})
	}
}

func fieldsOf(err error) map[string]string {
	if fe, ok := fault.As(err); ok {
		return fe.Fields
	}
	return nil
}

func TestValidate_Normalises(t *testing.T) {
	got, err := Validate(Attributes{WifiMAC: "00-1A-2B-3C-4D-5E", BluetoothMAC: "001a.2b3c.4d5e",
		GAID: "38400000-8CF0-11BD-B23E-10B96E40000D", IDFA: "6D92078A-8246-4BA4-AE5B-76104861E7DC"})
	if err != nil {
		t.Fatal(err)
	}
	want := Attributes{WifiMAC: "00:1a:2b:3c:4d:5e", BluetoothMAC: "00:1a:2b:3c:4d:5e",
		GAID: "38400000-8cf0-11bd-b23e-10b96e40000d", IDFA: "6d92078a-8246-4ba4-ae5b-76104861e7dc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestValidate_NothingSet(t *testing.T) {
	for _, a := range []Attributes{{}, {WebURI: []string{}, Location: []float64{}}} {
		_, err := Validate(a)
		fe, ok := fault.As(err)
		if !ok || fe.Code != fault.Invalid || fe.Message != NoAttributesMessage || fe.Fields["params"] == "" {
			t.Errorf("Validate(%+v) = %v", a, err)
		}
	}
}

func TestService_Set(t *testing.T) {
	s, st := newService(t, "u1", "u2")
	ctx := t.Context()
	o := Origin{UserID: "u1", IP: "192.0.2.4", UserAgent: "ios/17"}
	steps := []struct {
		name    string
		o       Origin
		a       Attributes
		code    fault.Code
		devices []string
	}{
		{"identifiers", o, Attributes{WebstatVisitorID: "v1", Screen: []int{1170, 2532}, WifiMAC: "AA:BB:CC:DD:EE:FF"}, 0, []string{}},
		{"push device added", o, Attributes{PushDeviceID: "fcm:abc"}, 0, []string{"fcm:abc"}},
		{"second device", o, Attributes{PushDeviceID: "apns:def", BatteryCharge: ptr(55)}, 0, []string{"apns:def", "fcm:abc"}},
		{"device removed", o, Attributes{UnsetPushDeviceID: "fcm:abc"}, 0, []string{"apns:def"}},
		{"invalid stores nothing", o, Attributes{PushDeviceID: "x", Screen: []int{0, 0}}, fault.Invalid, []string{"apns:def"}},
		{"nothing set", o, Attributes{}, fault.Invalid, []string{"apns:def"}},
		{"unknown user", Origin{UserID: "ghost"}, Attributes{DeviceID: "d"}, fault.NotFound, []string{"apns:def"}},
		{"too big", o, Attributes{WebURI: repeat("https://example.com/"+strings.Repeat("x", 1000), MaxItems)}, fault.Invalid, []string{"apns:def"}},
	}
	stored := 0
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Set(ctx, tc.o, tc.a)
			if fault.CodeOf(err) != tc.code || (tc.code == 0 && err != nil) {
				t.Fatalf("Set = %v, want code %d", err, tc.code)
			}
			if err == nil {
				stored++
			}
			ds, err := st.PushDevices(ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, d := range ds {
				got = append(got, d.DeviceID)
			}
			if !reflect.DeepEqual(got, tc.devices) {
				t.Errorf("devices %v, want %v", got, tc.devices)
			}
		})
	}
	evs, err := st.TrackingEvents(ctx, "u1", 0)
	if err != nil || len(evs) != stored {
		t.Fatalf("%d events, %v; want %d", len(evs), err, stored)
	}
	first := evs[len(evs)-1]
	var data map[string]any
	if err := json.Unmarshal([]byte(first.Data), &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"webstat_visitor_id": "v1", "screen": []any{1170.0, 2532.0}, "wifi_mac": "aa:bb:cc:dd:ee:ff"}
	if !reflect.DeepEqual(data, want) || !first.At.Equal(now) || first.IP != "192.0.2.4" || first.UserAgent != "ios/17" {
		t.Errorf("first event %+v, data %v", first, data)
	}
	if evs, _ := st.TrackingEvents(ctx, "u2", 0); len(evs) != 0 {
		t.Errorf("u2 has %d events", len(evs))
	}
}

func TestService_KeepsNewestEvents(t *testing.T) {
	s, st := newService(t, "u1")
	s.KeepEvents = 3
	for i := range 5 {
		if err := s.Set(t.Context(), Origin{UserID: "u1"}, Attributes{BatteryCharge: ptr(i)}); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := st.TrackingEvents(t.Context(), "u1", 0)
	if len(evs) != 3 || evs[0].Data != `{"battery_charge":4}` || evs[2].Data != `{"battery_charge":2}` {
		t.Errorf("kept %+v", evs)
	}
}
