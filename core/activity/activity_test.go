package activity

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/core/geo/geotest"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

func newRecorder(t *testing.T) *Recorder {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateUser(t.Context(), store.NewUser{User: store.User{ID: "u1", Created: now, Updated: now, State: store.StateActive}}); err != nil {
		t.Fatal(err)
	}
	mmdb := filepath.Join(t.TempDir(), "w.mmdb")
	if err := geotest.Write(mmdb, geotest.Default); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(mmdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Recorder{Store: st, Geo: db}
}

func TestRecordTakesTheCall(t *testing.T) {
	r := newRecorder(t)
	ctx := core.WithCall(t.Context(), core.Call{ActorKind: "user", ActorID: "u1", IP: "192.0.2.9",
		UserAgent: strings.Repeat("é", MaxUserAgent), RequestID: "r1"})
	a, err := r.Record(ctx, Entry{UserID: "u1", Topic: "session", Action: "login",
		Data: map[string]any{"email": "a@example.com", "password": "hunter2", "nested": map[string]any{"otp_code": "123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Actor != "user:u1" || a.IP != "192.0.2.9" || a.Country != "CH" || a.Category != store.CategoryUser || a.Result != store.ResultSucceed {
		t.Errorf("entry %+v", a)
	}
	if len(a.UserAgent) > MaxUserAgent || !strings.HasPrefix(a.UserAgent, "é") || strings.ContainsRune(a.UserAgent, '\uFFFD') {
		t.Errorf("user agent not clipped at a rune: %d bytes", len(a.UserAgent))
	}
	if strings.Contains(a.Data, "hunter2") || strings.Contains(a.Data, "123456") || !strings.Contains(a.Data, "a@example.com") {
		t.Errorf("data %s", a.Data)
	}
	got, err := r.List(t.Context(), store.ActivityFilter{UserID: "u1"})
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("list: %v %v", got, err)
	}
}

func TestRecordWithoutCallOrGeo(t *testing.T) {
	r := newRecorder(t)
	r.Geo = nil
	a, err := r.Record(t.Context(), Entry{UserID: "u1", Topic: "account", Action: "delete", Result: store.ResultFailed})
	if err != nil {
		t.Fatal(err)
	}
	if a.Country != "" || a.Result != store.ResultFailed {
		t.Errorf("entry %+v", a)
	}
	if _, err := r.Record(t.Context(), Entry{UserID: "nobody", Topic: "t", Action: "a"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// Note never fails the caller, whatever the store says.
	r.Note(t.Context(), Entry{UserID: "nobody", Topic: "t", Action: "a"})
	var none *Recorder
	none.Note(t.Context(), Entry{UserID: "u1", Topic: "t", Action: "a"})
}

func TestListLimits(t *testing.T) {
	r := newRecorder(t)
	for i := 0; i < DefaultLimit+3; i++ {
		if _, err := r.Record(t.Context(), Entry{UserID: "u1", Topic: "session", Action: "login"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		limit, want int
		field       string
	}{
		{0, DefaultLimit, ""},
		{MaxLimit, DefaultLimit + 3, ""},
		{1, 1, ""},
		{-1, 0, "limit"},
		{MaxLimit + 1, 0, "limit"},
	} {
		got, err := r.List(t.Context(), store.ActivityFilter{UserID: "u1", Limit: tc.limit})
		if tc.field != "" {
			if fe, ok := fault.As(err); !ok || fe.Code != fault.Invalid {
				t.Errorf("limit %d: %v, want a field error", tc.limit, err)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("limit %d: %d entries, %v; want %d", tc.limit, len(got), err, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"email":"a@b","password":"p"}`, `{"email":"a@b","password":"[FILTERED]"}`},
		{`{"NewPassword":"p","Confirm_Password":"p"}`, `{"Confirm_Password":"[FILTERED]","NewPassword":"[FILTERED]"}`},
		{`{"list":[{"totp_code":"1"},{"x":1}]}`, `{"list":[{"totp_code":"[FILTERED]"},{"x":1}]}`},
		{`{"api_key":{"secret":"s"},"kid":"k"}`, `{"api_key":"[FILTERED]","kid":"k"}`},
		{`["reset_password_token"]`, `["reset_password_token"]`},
		{`{"captcha_response":"c","refresh_token":"t","Authorization":"Basic x"}`, `{"Authorization":"[FILTERED]","captcha_response":"[FILTERED]","refresh_token":"[FILTERED]"}`},
		{`not json`, `"[FILTERED]"`},
	} {
		if got := string(ScrubJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.in, got, tc.want)
		}
	}
	in := map[string]any{"pin": "1234", "name": "x"}
	out := Scrub(in)
	if in["pin"] != "1234" {
		t.Error("Scrub changed its argument")
	}
	b, _ := json.Marshal(out)
	if string(b) != `{"name":"x","pin":"[FILTERED]"}` {
		t.Errorf("%s", b)
	}
}

func FuzzScrubJSON(f *testing.F) {
	f.Add([]byte(`{"password":"x","a":[{"token":"y"}]}`))
	f.Add([]byte(`[1,"2",null,true]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := ScrubJSON(doc)
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("output is not JSON: %q", out)
		}
		var check func(any)
		check = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, y := range x {
					if IsSecretName(k) && y != Filtered {
						t.Fatalf("%q kept its value in %s", k, out)
					}
					check(y)
				}
			case []any:
				for _, y := range x {
					check(y)
				}
			}
		}
		check(v)
	})
}
