package settings

import (
	"encoding/json"
	"strings"
	"testing"

	"partnergate/store"
)

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"notifications-meters__email": true, "theme": true, "a1-b2__c3-d4": true, "x__y__z": true,
		"": false, "Upper": false, "bad name": false, "x_y": false, "-x": false, "x-": false, "x--y": false,
		"x___y": false, "1x": false, "é": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		raw, typ, value string
		remove, bad     bool
	}{
		{raw: `1`, typ: store.SettingNumber, value: "1"},
		{raw: `-2.50`, typ: store.SettingNumber, value: "-2.50"},
		{raw: `true`, typ: store.SettingBool, value: "true"},
		{raw: ` false `, typ: store.SettingBool, value: "false"},
		{raw: `"dark"`, typ: store.SettingString, value: "dark"},
		{raw: `""`, typ: store.SettingString, value: ""},
		{raw: `null`, remove: true},
		{raw: `{}`, bad: true},
		{raw: `[1]`, bad: true},
		{raw: `"` + strings.Repeat("v", MaxValue+1) + `"`, bad: true},
		{raw: ``, bad: true},
	} {
		v, rm, problem := ParseValue(json.RawMessage(tc.raw))
		if (problem != "") != tc.bad || rm != tc.remove || (!tc.bad && !rm && (v.Type != tc.typ || v.Value != tc.value)) {
			t.Errorf("ParseValue(%.20q) = %+v %v %q", tc.raw, v, rm, problem)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{`1`, `"x"`, `true`, `null`, `{"a":1}`, `1e999`, `"\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !json.Valid([]byte(raw)) {
			return
		}
		v, rm, problem := ParseValue(json.RawMessage(raw))
		if problem != "" || rm {
			return
		}
		if len(v.Value) > MaxValue || (v.Type != store.SettingString && v.Type != store.SettingNumber && v.Type != store.SettingBool) {
			t.Fatalf("%q: %+v", raw, v)
		}
	})
}
