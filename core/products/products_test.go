package products

import (
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

// newService returns a service on a fresh, migrated SQLite store holding the
// users given.
func newService(t *testing.T, users ...string) (*Service, *sqlstore.Store) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
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

func wantCode(t *testing.T, what string, err error, code fault.Code) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if code == 0 {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return nil
	}
	if !ok || fe.Code != code {
		t.Fatalf("%s: err = %v, want code %d", what, err, code)
	}
	return fe
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"webstat": true, "dating": true, "a": true, "pro.v2_x-y": true, strings.Repeat("a", 64): true,
		"": false, "Webstat": false, "1st": false, "a b": false, "a/b": false, "ä": false, strings.Repeat("a", 65): false,
		"a\x00": false, "-x": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestService_ActivateDeactivate(t *testing.T) {
	s, st := newService(t, "u1")
	ctx := t.Context()
	if err := s.Put(ctx, store.Product{ID: "pro", Title: "Pro", SubscriptionCancel: "https://pay.example.com/cancel?p=pro", Position: 30}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, store.Product{ID: "old", Title: "Old", Disabled: true, Position: 40}); err != nil {
		t.Fatal(err)
	}
	change := func(user, product string) Change {
		return Change{UserID: user, ProductID: product, IP: "203.0.113.9", UserAgent: "app/2.0"}
	}
	steps := []struct {
		name       string
		activate   bool
		user, id   string
		code       fault.Code
		modules    []string
		cancelLink string
	}{
		{"activate dating", true, "u1", "dating", 0, []string{"dating"}, ""},
		{"activate webstat", true, "u1", "webstat", 0, []string{"dating", "webstat"}, ""},
		{"activate again", true, "u1", "webstat", 0, []string{"dating", "webstat"}, ""},
		{"activate pro", true, "u1", "pro", 0, []string{"dating", "pro", "webstat"}, ""},
		{"deactivate pro gives the cancel link", false, "u1", "pro", 0, []string{"dating", "webstat"}, "https://pay.example.com/cancel?p=pro"},
		{"deactivate dating", false, "u1", "dating", 0, []string{"webstat"}, ""},
		{"unknown product", true, "u1", "nope", fault.NotFound, nil, ""},
		{"unknown product deactivated", false, "u1", "nope", fault.NotFound, nil, ""},
		{"malformed id", true, "u1", "Web Stat", fault.Invalid, nil, ""},
		{"disabled product", true, "u1", "old", fault.ProductDisabled, nil, ""},
		{"disabled product can be deactivated", false, "u1", "old", 0, []string{"webstat"}, ""},
		{"unknown user", true, "ghost", "webstat", fault.NotFound, nil, ""},
	}
	consents := 0
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			var (
				modules []string
				link    string
				err     error
			)
			if tc.activate {
				modules, err = s.Activate(ctx, change(tc.user, tc.id))
			} else {
				modules, link, err = s.Deactivate(ctx, change(tc.user, tc.id))
			}
			wantCode(t, tc.name, err, tc.code)
			if tc.code != 0 {
				return
			}
			consents++
			if !reflect.DeepEqual(modules, tc.modules) || link != tc.cancelLink {
				t.Errorf("modules %v, link %q; want %v, %q", modules, link, tc.modules, tc.cancelLink)
			}
		})
	}
	cs, err := st.ProductConsents(ctx, "u1")
	if err != nil || len(cs) != consents {
		t.Fatalf("%d consents, %v; want one per successful call (%d)", len(cs), err, consents)
	}
	if c := cs[0]; c.ProductID != "dating" || c.Action != store.ConsentActivate || !c.At.Equal(now) || c.IP != "203.0.113.9" || c.UserAgent != "app/2.0" {
		t.Errorf("first consent %+v", c)
	}
}

func TestService_List(t *testing.T) {
	s, _ := newService(t, "u1", "u2")
	ctx := t.Context()
	if err := s.Put(ctx, store.Product{ID: "old", Title: "Old", Disabled: true, Position: 40}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activate(ctx, Change{UserID: "u1", ProductID: "dating"}); err != nil {
		t.Fatal(err)
	}
	states := func(user string) map[string]string {
		list, err := s.List(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range list {
			out[p.ID] = p.State
		}
		return out
	}
	if got, want := states("u1"), map[string]string{"webstat": StateDeactivated, "dating": StateActivated, "old": StateDisabled}; !reflect.DeepEqual(got, want) {
		t.Errorf("u1 states %v, want %v", got, want)
	}
	if got := states("u2")["dating"]; got != StateDeactivated {
		t.Errorf("u2 sees dating %s", got)
	}
	list, _ := s.List(ctx, "u1")
	if list[0].ID != "webstat" || list[0].Title != "Advanced web analytics" || list[0].Icon != "globe" {
		t.Errorf("first entry %+v", list[0])
	}
}

func TestService_Put(t *testing.T) {
	s, st := newService(t)
	ctx := t.Context()
	cases := []struct {
		name   string
		p      store.Product
		fields []string
	}{
		{"valid", store.Product{ID: "vpn", Title: "VPN", Info: "https://example.com/vpn"}, nil},
		{"replaces", store.Product{ID: "vpn", Title: "VPN 2"}, nil},
		{"bad id", store.Product{ID: "VPN!", Title: "x"}, []string{"id"}},
		{"no title", store.Product{ID: "x", Title: "  "}, []string{"title"}},
		{"long title", store.Product{ID: "x", Title: strings.Repeat("t", 201)}, []string{"title"}},
		{"long icon", store.Product{ID: "x", Title: "x", Icon: strings.Repeat("i", 201)}, []string{"icon"}},
		{"bad links", store.Product{ID: "x", Title: "x", Info: "javascript:alert(1)", SubscriptionCancel: "/relative"}, []string{"info", "subscription_cancel"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(ctx, tc.p)
			if tc.fields == nil {
				wantCode(t, "Put", err, 0)
				got, err := st.Product(ctx, tc.p.ID)
				if err != nil || got.Title != tc.p.Title {
					t.Errorf("stored %+v, %v", got, err)
				}
				return
			}
			fe := wantCode(t, "Put", err, fault.Invalid)
			for _, f := range tc.fields {
				if fe.Fields[f] == "" {
					t.Errorf("fields %v lack %s", fe.Fields, f)
				}
			}
			if len(fe.Fields) != len(tc.fields) {
				t.Errorf("fields %v, want exactly %v", fe.Fields, tc.fields)
			}
		})
	}
}
