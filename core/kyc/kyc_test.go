package kyc

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

func TestCheckLabel(t *testing.T) {
	for _, c := range []struct {
		key, value string
		field      string
	}{
		{"color", "red", ""},
		{"a_b-9", "X_y-1", ""},
		{strings.Repeat("k", 255), strings.Repeat("v", 255), ""},
		{"ab", "v", "key"},
		{strings.Repeat("k", 256), "v", "key"},
		{"has space", "v", "key"},
		{"Upper", "v", "key"},
		{"ключ", "v", "key"},
		{"color", "", "value"},
		{"color", "not ok!", "value"},
		{"color", strings.Repeat("v", 256), "value"},
		{"color", "a\nb", "value"},
	} {
		err := CheckLabel(c.key, c.value)
		if c.field == "" {
			if err != nil {
				t.Errorf("%q=%q: %v", c.key, c.value, err)
			}
			continue
		}
		fe, ok := fault.As(err)
		if !ok || fe.Code != fault.Invalid || fe.Fields[c.field] == "" {
			t.Errorf("%q=%q: %v, want a %s field error", c.key, c.value, err, c.field)
		}
	}
}

func FuzzCheckLabel(f *testing.F) {
	for _, s := range [][2]string{{"color", "red"}, {"ab", ""}, {"a b", "c"}, {"\x00\x00\x00", "\xff"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if CheckLabel(key, value) != nil {
			return
		}
		// What is accepted is plain ASCII of the documented shape.
		if len(key) < 3 || len(key) > 255 || len(value) < 1 || len(value) > 255 || strings.ToLower(key) != key {
			t.Fatalf("accepted %q=%q", key, value)
		}
		for _, r := range key + value {
			if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Fatalf("accepted %q=%q", key, value)
			}
		}
	})
}

func TestParseMetadata(t *testing.T) {
	for in, want := range map[string]string{
		"": "", " ": "", `{}`: `{}`, `{"b":1,"a":"x"}`: `{"a":"x","b":1}`,
		`[1]`: "!", `{"a":{"b":1}}`: "!", `{"a":[1]}`: "!", `{"":1}`: "!", `{"a":1} {}`: "!", `null`: "!",
	} {
		got, err := ParseMetadata(in)
		if want == "!" {
			if fault.CodeOf(err) != fault.Invalid {
				t.Errorf("%q accepted as %q", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", `{}`, `{"a":1}`, `{"a":{"b":1}}`, `[`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseMetadata(s)
		if err != nil || out == "" {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(out), &m) != nil || len(m) > MaxMetaKeys {
			t.Fatalf("%q accepted as %q", s, out)
		}
		if again, err := ParseMetadata(out); err != nil || again != out {
			t.Fatalf("%q not stable: %q %v", out, again, err)
		}
	})
}

func TestProfileCheck(t *testing.T) {
	s := &Service{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }}
	str := func(v string) *string { return &v }
	for _, c := range []struct {
		in    ProfileInput
		field string
	}{
		{ProfileInput{FirstName: str("Zoë"), DOB: str("1990-02-28"), Country: str("nl"), Postcode: str("1011 AB")}, ""},
		{ProfileInput{DOB: str("")}, ""},
		{ProfileInput{DOB: str("1899-12-31")}, "dob"},
		{ProfileInput{DOB: str("2030-01-02")}, "dob"},
		{ProfileInput{DOB: str("1990-02-30")}, "dob"},
		{ProfileInput{Country: str("NLD")}, "country"},
		{ProfileInput{Country: str("1A")}, "country"},
		{ProfileInput{Postcode: str("12<3")}, "postcode"},
		{ProfileInput{Postcode: str(strings.Repeat("1", 33))}, "postcode"},
		{ProfileInput{FirstName: str(strings.Repeat("a", 256))}, "first_name"},
		{ProfileInput{LastName: str("a\tb")}, "last_name"},
		{ProfileInput{Address: str(strings.Repeat("a", 1025))}, "address"},
		{ProfileInput{Metadata: str(`{"a":[]}`)}, "metadata"},
	} {
		in := c.in
		err := s.check(&in)
		if c.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.in, err)
			}
			continue
		}
		if fe, ok := fault.As(err); !ok || fe.Fields[c.field] == "" {
			t.Errorf("%+v: %v, want a %s field error", c.in, err, c.field)
		}
	}
	in := ProfileInput{Country: str("nl")}
	if err := s.check(&in); err != nil || *in.Country != "NL" {
		t.Fatalf("country not upper-cased: %v", err)
	}
}

func TestLevel(t *testing.T) {
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: "u1", UID: "ID0000000001", Identifiers: []store.Identifier{{Kind: store.KindEmail, Value: "a@example.com", Norm: "a@example.com"}}}
	if err := st.CreateUser(ctx, store.NewUser{User: u, Identifiers: u.Identifiers}); err != nil {
		t.Fatal(err)
	}
	s := &Service{Store: st}
	want := func(n int) {
		t.Helper()
		if got, err := s.Level(ctx, u); err != nil || got != n {
			t.Fatalf("level %d %v, want %d", got, err, n)
		}
	}
	want(0)
	// The phone without the email gives nothing: levels are in order.
	if err := s.SetSystemLabel(ctx, "u1", "phone", "verified"); err != nil {
		t.Fatal(err)
	}
	want(0)
	u.Identifiers[0].Verified = true
	want(2)
	if err := s.SetSystemLabel(ctx, "u1", "document", "verified"); err != nil {
		t.Fatal(err)
	}
	want(3)
	// A public label of the same name is the user's, not a level.
	if err := s.SetSystemLabel(ctx, "u1", "phone", "rejected"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutLabel(ctx, store.Label{UserID: "u1", Key: "phone", Value: "verified", Scope: store.ScopePublic}); err != nil {
		t.Fatal(err)
	}
	want(1)
	// The table is configurable.
	s.Levels = []LevelRule{{"email", "verified"}, {"document", "verified"}}
	want(2)
}
