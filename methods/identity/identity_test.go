package identity

import (
	"encoding/json"
	"strings"
	"testing"

	"partnergate/core/fault"
)

func TestParseData(t *testing.T) {
	many := make([]string, MaxDataKeys+1)
	for i := range many {
		many[i] = `"k` + strings.Repeat("x", i) + `":1`
	}
	for _, c := range []struct {
		in, out string
		ok      bool
	}{
		{"", "", true},
		{"  ", "", true},
		{`{}`, `{}`, true},
		{` {"b": "x", "a": 1, "c": true, "d": null} `, `{"a":1,"b":"x","c":true,"d":null}`, true},
		{`null`, "", false},
		{`[1]`, "", false},
		{`"s"`, "", false},
		{`{"a":{"b":1}}`, "", false},
		{`{"a":[1]}`, "", false},
		{`{"":1}`, "", false},
		{`{"a":1} {"b":2}`, "", false},
		{`{"a":1`, "", false},
		{"{" + strings.Join(many, ",") + "}", "", false},
		{"{" + strings.Join(many[:MaxDataKeys], ",") + "}", "", true},
	} {
		got, err := ParseData(c.in)
		if c.ok != (err == nil) {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if err != nil && fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%q: code %d", c.in, fault.CodeOf(err))
		}
		if c.ok && c.out != "" && got != c.out {
			t.Errorf("%q: got %q, want %q", c.in, got, c.out)
		}
	}
}

func FuzzParseData(f *testing.F) {
	for _, s := range []string{"", `{}`, `{"a":1}`, `{"a":{"b":1}}`, `[1]`, `{"a":"\u0000"}`, `{"a":1}x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseData(s)
		if err != nil {
			if out != "" || fault.CodeOf(err) != fault.Invalid {
				t.Fatalf("%q: %q %v", s, out, err)
			}
			return
		}
		if out == "" {
			return
		}
		// What is accepted is a flat object that reads back as itself.
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(out), &m) != nil || len(m) > MaxDataKeys {
			t.Fatalf("%q accepted as %q", s, out)
		}
		if again, err := ParseData(out); err != nil || again != out {
			t.Fatalf("%q: not stable: %q %v", out, again, err)
		}
	})
}
