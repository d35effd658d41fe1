package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/coder/websocket"
	"github.com/google/uuid"

	"partnergate/client"
	"partnergate/core/events"
	"partnergate/core/fault"
	"partnergate/core/products"
	"partnergate/store"

	"partnergate/cmd/partnergate/gateway"
	"partnergate/internal/testkit"
)

// backupLinks records backup links when this test wires the services
// itself, standing in for the outbox.
type backupLinks struct {
	mu    sync.Mutex
	links map[string]string // user id → link
}

func (b *backupLinks) BackupReady(_ context.Context, userID, link string, _ time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.links[userID] = link
	return nil
}

var backupLinkRE = regexp.MustCompile(`https?://[^\s"]+/backup/pgb_[A-Za-z0-9_-]{22}`)

// userDataGateway makes sure the gateway serves the user-data methods and
// returns how to find a user's backup link. When serve.go already calls
// registerUserData, the link comes from the outbox (dev.outbox.list);
// otherwise the test registers the services on the running gateway itself
// with a recording Notifier.
func userDataGateway(t *testing.T, g *testkit.Gateway) func(t *testing.T, userID, email string) string {
	t.Helper()
	if _, wired := g.Handler().Registry().Lookup("user.products.get"); wired {
		return func(t *testing.T, _, email string) string {
			t.Helper()
			var out struct {
				Messages []struct{ Body string } `json:"messages"`
			}
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				// The address as stored, or as the account core folds it.
				for _, to := range []string{email, strings.ToLower(email)} {
					if err := client.New(g.URL).Call(context.Background(), "dev.outbox.list", map[string]string{"to": to}, &out); err != nil {
						t.Fatal(err)
					}
					for _, m := range out.Messages {
						if l := backupLinkRE.FindString(m.Body); l != "" {
							return l
						}
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("no backup link in the outbox of %s", email)
			return ""
		}
	}
	rec := &backupLinks{links: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mux, ok := g.Server().Handler.(*http.ServeMux)
	if !ok {
		t.Fatalf("server handler is %T, not a mux", g.Server().Handler)
	}
	if err := gateway.RegisterUserData(ctx, g.Main, g.Handler().Registry(), mux, nil, rec, g.URL); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, userID, _ string) string {
		t.Helper()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.links[userID] == "" {
			t.Fatalf("no backup link for %s", userID)
		}
		return rec.links[userID]
	}
}

// newSessionUser stores a user with a verified email and starts a session
// through the account core.
func newSessionUser(t *testing.T, g *testkit.Gateway, email string) (id string, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	id = uuid.NewString()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := g.Store().CreateUser(ctx, store.NewUser{
		User:        store.User{ID: id, Created: now, Updated: now, State: store.StateActive},
		Profile:     store.Profile{FirstName: "Data"},
		Identifiers: []store.Identifier{{UserID: id, Kind: store.KindEmail, Value: email, Norm: strings.ToLower(email), Verified: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.Accounts().NewSession(ctx, id, "127.0.0.1", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	return id, client.New(g.URL).WithToken(s.Token)
}

func wantFault(t *testing.T, err error, code fault.Code, field string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Code != int(code) {
		t.Fatalf("got %v, want code %d", err, code)
	}
	if field != "" && e.Fields[field] == "" {
		t.Fatalf("fields %v do not name %s", e.Fields, field)
	}
	return e
}

func TestUserData(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, b.Env)
			backupLink := userDataGateway(t, g)
			ctx := context.Background()
			const email = "Data.Owner@example.com"
			uid, c := newSessionUser(t, g, email)
			otherID, _ := newSessionUser(t, g, "other@example.com")

			t.Run("every method needs a session", func(t *testing.T) {
				anon := client.New(g.URL)
				for _, m := range []string{"user.products.get", "user.products.activate", "user.products.deactivate",
					"user.tracking.set", "user.data.backup", "user.auth.block", "user.auth.websocket"} {
					if err := anon.Call(ctx, m, map[string]any{}, nil); !client.IsCode(err, int(fault.Unauthenticated)) {
						t.Errorf("%s without a session: %v", m, err)
					}
				}
			})

			t.Run("products", func(t *testing.T) { testProductsE2E(t, g, c, uid) })
			t.Run("tracking", func(t *testing.T) { testTrackingE2E(t, g, c, uid) })
			t.Run("block", func(t *testing.T) {
				var ok bool
				if err := c.Call(ctx, "user.auth.block", map[string]any{"id": otherID}, &ok); err != nil || !ok {
					t.Fatalf("block: %v %v", ok, err)
				}
				if err := c.Call(ctx, "user.auth.block", []any{otherID, 3}, &ok); err != nil || !ok {
					t.Fatalf("block again, positional, reason 3: %v %v", ok, err)
				}
				for _, tc := range []struct {
					params any
					code   fault.Code
					field  string
				}{
					{map[string]any{"id": uid}, fault.Invalid, "id"},
					{map[string]any{"id": otherID, "reason": 0}, fault.Invalid, "reason"},
					{map[string]any{"id": otherID, "reason": 6}, fault.Invalid, "reason"},
					{map[string]any{"id": uuid.NewString()}, fault.NotFound, ""},
				} {
					wantFault(t, c.Call(ctx, "user.auth.block", tc.params, nil), tc.code, tc.field)
				}
				for _, pair := range [][2]string{{uid, otherID}, {otherID, uid}} {
					if blocked, err := g.Store().Blocked(ctx, pair[0], pair[1]); err != nil || !blocked {
						t.Errorf("Blocked(%s, %s) = %v, %v", pair[0], pair[1], blocked, err)
					}
				}
				bs, _ := g.Store().BlocksBy(ctx, uid)
				if len(bs) != 1 || bs[0].Reason != 3 {
					t.Errorf("blocks %+v", bs)
				}
			})
			t.Run("backup", func(t *testing.T) {
				e := wantFault(t, c.Call(ctx, "user.data.backup", map[string]string{"password": "12345"}, nil), fault.Invalid, "password")
				if e.Message != "No password or less than 6 characters." {
					t.Errorf("message %q", e.Message)
				}
				const pw = "my archive password"
				var ok bool
				if err := c.Call(ctx, "user.data.backup", map[string]string{"password": pw}, &ok); err != nil || !ok {
					t.Fatalf("backup: %v %v", ok, err)
				}
				link := backupLink(t, uid, email)
				if !strings.HasPrefix(link, g.URL+"/backup/") {
					t.Fatalf("link %q not built on the gateway's base URL", link)
				}
				resp, err := http.Get(link)
				if err != nil {
					t.Fatal(err)
				}
				sealed, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("download: HTTP %d %v", resp.StatusCode, resp.Header)
				}
				id, err := age.NewScryptIdentity(pw)
				if err != nil {
					t.Fatal(err)
				}
				r, err := age.Decrypt(bytes.NewReader(sealed), id)
				if err != nil {
					t.Fatalf("age decrypt: %v", err)
				}
				plain, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
				if err != nil {
					t.Fatal(err)
				}
				all := map[string]string{}
				for _, f := range zr.File {
					rc, _ := f.Open()
					b, _ := io.ReadAll(rc)
					rc.Close()
					all[f.Name] = string(b)
				}
				for name, want := range map[string]string{
					"identifiers.json":      email,
					"profile.json":          uid,
					"products.json":         `"webstat"`,
					"product_consents.json": `"127.0.0.1"`,
					"tracking_events.json":  `"wifi_mac": "00:1a:2b:3c:4d:5e"`,
					"blocks.json":           otherID,
				} {
					if !strings.Contains(all[name], want) {
						t.Errorf("%s lacks %s:\n%s", name, want, all[name])
					}
				}
				resp, err = http.Get(link)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("second download: HTTP %d, want 404", resp.StatusCode)
				}
			})
			t.Run("websocket", func(t *testing.T) { testWebsocketE2E(t, g, c, uid) })
		})
	}
}

func testProductsE2E(t *testing.T, g *testkit.Gateway, c *client.Client, uid string) {
	ctx := context.Background()
	resp, err := c.CallRaw(ctx, "user.products.get", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]json.RawMessage
	if err := resp.Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) < 2 {
		t.Fatalf("catalogue %v", list)
	}
	var members []string
	for k := range list[0] {
		members = append(members, k)
	}
	sort.Strings(members)
	if want := []string{"description", "icon", "id", "info", "policy", "state", "title"}; !reflect.DeepEqual(members, want) {
		t.Errorf("product members %v, want %v", members, want)
	}
	if string(list[0]["id"]) != `"webstat"` || string(list[0]["title"]) != `"Advanced web analytics"` ||
		string(list[0]["info"]) != "null" || string(list[0]["state"]) != `"deactivated"` || string(list[1]["id"]) != `"dating"` {
		t.Errorf("webstat entry %s / dating %s", list[0], list[1]["id"])
	}

	// An operator adds a paid product (the admin path).
	ps := &products.Service{Store: g.Store()}
	if err := ps.Put(ctx, store.Product{ID: "premium", Title: "Premium", SubscriptionCancel: "https://pay.example.com/cancel", Position: 30}); err != nil {
		t.Fatal(err)
	}
	type modules struct {
		Modules []string `json:"modules"`
	}
	steps := []struct {
		method, product string
		want            []string
	}{
		{"user.products.activate", "dating", []string{"dating"}},
		{"user.products.activate", "webstat", []string{"dating", "webstat"}},
		{"user.products.activate", "premium", []string{"dating", "premium", "webstat"}},
		{"user.products.activate", "premium", []string{"dating", "premium", "webstat"}},
	}
	for _, st := range steps {
		var got modules
		if err := c.Call(ctx, st.method, map[string]string{"product_id": st.product}, &got); err != nil || !reflect.DeepEqual(got.Modules, st.want) {
			t.Fatalf("%s %s = %v, %v; want %v", st.method, st.product, got.Modules, err, st.want)
		}
	}
	resp, err = c.CallRaw(ctx, "user.products.deactivate", []string{"premium"})
	if err != nil {
		t.Fatal(err)
	}
	var data json.RawMessage
	if err := resp.Decode(&data); err != nil || string(data) != `{"modules":["dating","webstat"],"subscription_cancel":"https://pay.example.com/cancel"}` {
		t.Errorf("deactivate premium = %s, %v", data, err)
	}
	if err := c.Call(ctx, "user.products.deactivate", map[string]string{"product_id": "dating"}, &data); err != nil || string(data) != `{"modules":["webstat"]}` {
		t.Errorf("deactivate dating = %s, %v (no subscription_cancel member)", data, err)
	}
	if err := c.Call(ctx, "user.products.get", nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		want := `"deactivated"`
		if string(p["id"]) == `"webstat"` {
			want = `"activated"`
		}
		if string(p["state"]) != want {
			t.Errorf("%s state %s, want %s", p["id"], p["state"], want)
		}
	}

	wantFault(t, c.Call(ctx, "user.products.activate", map[string]string{"product_id": "nosuch"}, nil), fault.NotFound, "")
	wantFault(t, c.Call(ctx, "user.products.deactivate", map[string]string{"product_id": "nosuch"}, nil), fault.NotFound, "")
	wantFault(t, c.Call(ctx, "user.products.activate", map[string]string{"product_id": "No Such"}, nil), fault.Invalid, "product_id")
	var pe *client.ProtocolError
	if err := c.Call(ctx, "user.products.activate", map[string]any{"product_id": "dating", "extra": 1}, nil); !errors.As(err, &pe) || pe.Code != -32602 {
		t.Errorf("unknown member: %v", err)
	}
	if err := c.Call(ctx, "user.products.activate", map[string]string{"product_id": strings.Repeat("a", 65)}, nil); !errors.As(err, &pe) || pe.Code != -32602 {
		t.Errorf("over-long id: %v", err)
	}

	cs, err := g.Store().ProductConsents(ctx, uid)
	if err != nil || len(cs) != 6 {
		t.Fatalf("%d consents, %v; want one per successful call (6)", len(cs), err)
	}
	for _, cons := range cs {
		if cons.IP != "127.0.0.1" || cons.At.IsZero() || time.Since(cons.At) > time.Minute {
			t.Errorf("consent %+v", cons)
		}
	}
}

func testTrackingE2E(t *testing.T, g *testkit.Gateway, c *client.Client, uid string) {
	ctx := context.Background()
	full := map[string]any{
		"webstat_visitor_id": "v-1", "webstat_fingerprint_id": "f-1", "webstat_session_id": "s-1",
		"webstat_api_handler": "https://ws.example.com/h", "wifi_mac": "00-1A-2B-3C-4D-5E", "bluetooth_mac": "00:1a:2b:3c:4d:5f",
		"location": []float64{55.75, 37.62, 150}, "screen": []int{1170, 2532}, "device_id": "dev-1",
		"gaid": "38400000-8cf0-11bd-b23e-10b96e40000d", "idfa": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
		"push_device_id": "fcm:token-1", "web_uri": []string{"https://example.com/a"}, "web_event": []string{"view"},
		"app_uri": []string{"myapp://home"}, "app_event": []string{"open"}, "battery_charge": 80,
		"provider_name": "Operator", "provider_quality": 0.7,
	}
	var ok bool
	if err := c.Call(ctx, "user.tracking.set", full, &ok); err != nil || !ok {
		t.Fatalf("full set: %v %v", ok, err)
	}
	if err := c.Call(ctx, "user.tracking.set", map[string]any{"push_device_id": "fcm:token-2", "unset_push_device_id": "fcm:token-1"}, &ok); err != nil {
		t.Fatal(err)
	}
	invalid := []struct {
		name   string
		params map[string]any
		field  string
	}{
		{"mac", map[string]any{"wifi_mac": "00:1a:2b"}, "wifi_mac"},
		{"eui-64 mac", map[string]any{"bluetooth_mac": "00:1a:2b:3c:4d:5e:6f:70"}, "bluetooth_mac"},
		{"latitude", map[string]any{"location": []float64{91, 0, 0}}, "location"},
		{"longitude", map[string]any{"location": []float64{0, 181}}, "location"},
		{"altitude", map[string]any{"location": []float64{0, 0, 100001}}, "location"},
		{"screen", map[string]any{"screen": []int{0, 10}}, "screen"},
		{"screen arity", map[string]any{"screen": []int{10, 10, 10}}, "screen"},
		{"battery", map[string]any{"battery_charge": 101}, "battery_charge"},
		{"quality", map[string]any{"provider_quality": 1.5}, "provider_quality"},
		{"gaid", map[string]any{"gaid": "nope"}, "gaid"},
		{"web uri", map[string]any{"web_uri": []string{"not a uri"}}, "web_uri[0]"},
		{"too many events", map[string]any{"app_event": make([]string, 101)}, "app_event"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			wantFault(t, c.Call(ctx, "user.tracking.set", tc.params, nil), fault.Invalid, tc.field)
		})
	}
	e := wantFault(t, c.Call(ctx, "user.tracking.set", map[string]any{}, nil), fault.Invalid, "params")
	if e.Message != "No one attributes is set." {
		t.Errorf("empty set: message %q", e.Message)
	}
	var pe *client.ProtocolError
	if err := c.Call(ctx, "user.tracking.set", map[string]any{"screen": []float64{1.5, 2}}, nil); !errors.As(err, &pe) || pe.Code != -32602 {
		t.Errorf("non-integer screen: %v", err)
	}
	if err := c.Call(ctx, "user.tracking.set", map[string]any{"web_event": []string{strings.Repeat("e", 257)}}, nil); !errors.As(err, &pe) || pe.Code != -32602 {
		t.Errorf("over-long event: %v", err)
	}

	evs, err := g.Store().TrackingEvents(ctx, uid, 0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events, %v; want 2 (refused calls store nothing)", len(evs), err)
	}
	if !strings.Contains(evs[1].Data, `"wifi_mac":"00:1a:2b:3c:4d:5e"`) || evs[1].IP != "127.0.0.1" {
		t.Errorf("first event %+v", evs[1])
	}
	ds, err := g.Store().PushDevices(ctx, uid)
	if err != nil || len(ds) != 1 || ds[0].DeviceID != "fcm:token-2" {
		t.Errorf("push devices %+v, %v", ds, err)
	}
}

func testWebsocketE2E(t *testing.T, g *testkit.Gateway, c *client.Client, uid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var tk struct {
		Ticket    string    `json:"ticket"`
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	if err := c.Call(ctx, "user.auth.websocket", nil, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.URL != "/ws?ticket="+tk.Ticket || time.Until(tk.ExpiresAt) > 61*time.Second || time.Until(tk.ExpiresAt) < 30*time.Second {
		t.Fatalf("ticket %+v", tk)
	}
	wsURL := "ws://" + strings.TrimPrefix(g.URL, "http://") + tk.URL
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()

	// Another process's bus on the same Redis, as the account core's.
	pub := events.New(g.Redis(), events.WithPrefix(g.Config.RedisPrefix))
	defer pub.Close()
	for _, typ := range []string{events.Verified, events.SettingsChanged} {
		if err := pub.Publish(ctx, uid, events.Event{Type: typ}); err != nil {
			t.Fatal(err)
		}
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n struct {
			JSONRPC string       `json:"jsonrpc"`
			Method  string       `json:"method"`
			Params  events.Event `json:"params"`
			ID      *int         `json:"id"`
		}
		if err := json.Unmarshal(msg, &n); err != nil || n.JSONRPC != "2.0" || n.Method != "account.event" || n.Params.Type != typ || n.ID != nil {
			t.Errorf("notification %s: %v", msg, err)
		}
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","method":"ping","id":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.Read(ctx); err != nil || string(msg) != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("ping → %s, %v", msg, err)
	}

	_, resp, err := websocket.Dial(ctx, wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reused ticket: %v, %v", resp, err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}
