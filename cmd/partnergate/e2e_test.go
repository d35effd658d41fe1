package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/client"
	"partnergate/cmd/partnergate/gateway"
	"partnergate/core/fault"
	"partnergate/core/partners"
	"partnergate/internal/testkit"
	"partnergate/methods/auth/authwire"
	"partnergate/methods/system/systemwire"
)

const strongPassword = "correct horse battery staple"

// seed001UserMembers are the members of seed 001's user object, in order.
var seed001UserMembers = []string{
	"id", "created", "updated", "companyName", "companyTitle", "firstName", "lastName", "birthday",
	"hometown", "education", "zipCode", "description", "linkUrl", "privacyMode", "avatar", "avatar3D",
	"params", "identityType", "identityName", "zAddress", "publicRoomCount", "contactCount",
	"pendingContactCount", "newInvitationsCount", "pendingRequestCount", "newNotificationsCount",
	"idealMatchCount", "isDisabled", "isNew", "email", "emailVerified", "phoneNumber",
}

func TestSeed001(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			c := g.Partner(t, "auth")
			ctx := context.Background()

			reg, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: "Ann.Lee@Example.COM", Password: strongPassword, FirstName: "Ann", LastName: "Lee"})
			if err != nil {
				t.Fatal(err)
			}
			if len(reg.UserID) != 36 {
				t.Fatalf("userId %q", reg.UserID)
			}

			t.Run("user object has exactly the seed's members", func(t *testing.T) {
				resp, err := c.CallRaw(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": "ann.lee@example.com", "password": strongPassword})
				if err != nil {
					t.Fatal(err)
				}
				var env struct {
					Data  map[string]map[string]json.RawMessage `json:"data"`
					Error struct {
						Status bool
						Code   int
					} `json:"error"`
				}
				if err := json.Unmarshal(resp.Result, &env); err != nil || env.Error.Status {
					t.Fatalf("%s %v", resp.Result, err)
				}
				if len(env.Data) != 1 || env.Data["user"] == nil {
					t.Fatalf("data members: %s", resp.Result)
				}
				u := env.Data["user"]
				var got []string
				for k := range u {
					got = append(got, k)
				}
				want := append([]string(nil), seed001UserMembers...)
				sort.Strings(got)
				sort.Strings(want)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("members\n got %v\nwant %v", got, want)
				}
				types := map[string]byte{"id": '"', "created": '"', "privacyMode": '0', "avatar3D": '{', "params": '{', "isNew": 't', "isDisabled": 'f', "emailVerified": 'f', "contactCount": '0', "phoneNumber": '"'}
				for k, first := range types {
					if u[k][0] != first {
						t.Errorf("%s = %s, want JSON starting %q", k, u[k], first)
					}
				}
				var email, first string
				_ = json.Unmarshal(u["email"], &email)
				_ = json.Unmarshal(u["firstName"], &first)
				if email != "Ann.Lee@example.com" || first != "Ann" {
					t.Errorf("email %q firstName %q", email, first)
				}
				var created time.Time
				if err := json.Unmarshal(u["created"], &created); err != nil || time.Since(created) > time.Minute {
					t.Errorf("created %s: %v", u["created"], err)
				}
				var a3d map[string]any
				_ = json.Unmarshal(u["avatar3D"], &a3d)
				for _, k := range []string{"assetId", "assetSkins", "avatarUrl", "avatarUserId"} {
					if _, ok := a3d[k]; !ok {
						t.Errorf("avatar3D lacks %s", k)
					}
				}
			})

			cases := []struct {
				name   string
				method string
				params any
				code   fault.Code
			}{
				{"duplicate email in another case", "auth.registerUser", map[string]string{"email": "ANN.LEE@example.com", "password": strongPassword}, fault.AlreadyExists},
				{"malformed email", "auth.registerUser", map[string]string{"email": "ann@", "password": strongPassword}, fault.EmailInvalid},
				{"display-name email", "auth.registerUser", map[string]string{"email": "Ann <ann@example.com>", "password": strongPassword}, fault.EmailInvalid},
				{"short password", "auth.registerUser", map[string]string{"email": "b@example.com", "password": "Xy7!q"}, fault.PasswordTooShort},
				{"weak password", "auth.registerUser", map[string]string{"email": "b@example.com", "password": "password1"}, fault.PasswordWeak},
				{"long password", "auth.registerUser", map[string]string{"email": "b@example.com", "password": strings.Repeat("Zq9#", 33)}, fault.PasswordTooLong},
				{"wrong password", "auth.getUserByEmailAndPassword", map[string]string{"email": "ann.lee@example.com", "password": "not the password"}, fault.WrongCredentials},
				{"unknown user", "auth.getUserByEmailAndPassword", map[string]string{"email": "nobody@example.com", "password": "not the password"}, fault.WrongCredentials},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					err := c.Call(ctx, tc.method, tc.params, nil)
					if !client.IsCode(err, int(tc.code)) {
						t.Fatalf("got %v, want code %d", err, tc.code)
					}
				})
			}

			t.Run("unknown user and wrong password answer identically", func(t *testing.T) {
				a, _ := c.CallRaw(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": "ann.lee@example.com", "password": "wrong-password-1"})
				b, _ := c.CallRaw(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": "ghost@example.com", "password": "wrong-password-1"})
				if string(a.Result) != string(b.Result) {
					t.Fatalf("differ:\n%s\n%s", a.Result, b.Result)
				}
			})

			t.Run("nothing changes on refusal", func(t *testing.T) {
				n, err := g.Store().CountUsers(ctx)
				if err != nil || n != 1 {
					t.Fatalf("users %d %v", n, err)
				}
			})

			t.Run("path style", func(t *testing.T) {
				body := []byte(`{"email":"path@example.com","password":"` + strongPassword + `","firstName":"P","lastName":"S"}`)
				status, reply, err := c.Post(ctx, "/api/v0/partnerRpc/auth.registerUser", body)
				if err != nil || status != 200 {
					t.Fatalf("%d %v %s", status, err, reply)
				}
				var env struct {
					Data struct {
						UserID string `json:"userId"`
					}
					Error struct{ Status bool }
				}
				if err := json.Unmarshal(reply, &env); err != nil || env.Data.UserID == "" || env.Error.Status {
					t.Fatalf("%s", reply)
				}
				status, reply, _ = c.Post(ctx, "/api/v0/partnerRpc/auth.getUserByEmailAndPassword", []byte(`{"email":"path@example.com","password":"`+strongPassword+`"}`))
				if status != 200 || !strings.Contains(string(reply), env.Data.UserID) {
					t.Fatalf("%d %s", status, reply)
				}
			})

			t.Run("batch and positional params", func(t *testing.T) {
				rs, err := c.Batch(ctx, []client.BatchCall{
					{Method: "auth.registerUser", Params: []string{"batch@example.com", strongPassword, "B", "C"}},
					{Method: "auth.getUserByEmailAndPassword", Params: []string{"batch@example.com", strongPassword}},
					{Method: "system.ping", Notify: true},
					{Method: "auth.getUserByEmailAndPassword", Params: []string{"batch@example.com", "wrong-password-2"}},
				})
				if err != nil || len(rs) != 3 {
					t.Fatalf("%v %d", err, len(rs))
				}
				var r authwire.RegisterUserResult
				var u authwire.GetUserResult
				if err := rs[0].Decode(&r); err != nil {
					t.Fatal(err)
				}
				if err := rs[1].Decode(&u); err != nil || u.User.ID != r.UserID || u.User.FirstName != "B" {
					t.Fatalf("%v %+v", err, u)
				}
				if err := rs[2].Decode(nil); !client.IsCode(err, int(fault.WrongCredentials)) {
					t.Fatal(err)
				}
			})

			t.Run("strict params", func(t *testing.T) {
				for _, p := range []string{
					`{"email":"x@example.com","password":"` + strongPassword + `","role":"admin"}`,
					`{"email":"x@example.com","Email":"y@example.com","password":"` + strongPassword + `"}`,
					`{"EMAIL":"x@example.com","password":"` + strongPassword + `"}`,
					`{"email":1,"password":"` + strongPassword + `"}`,
					`{"email":"` + strings.Repeat("a", 250) + `@example.com","password":"` + strongPassword + `"}`,
				} {
					resp, err := c.CallRaw(ctx, "auth.registerUser", json.RawMessage(p))
					if err != nil || resp.Error == nil || resp.Error.Code != -32602 || len(resp.Error.Data) == 0 {
						t.Errorf("%s: %+v %v", p, resp, err)
					}
				}
			})
		})
	}
}

func TestPartnerSignatures(t *testing.T) {
	g := testkit.MustRunMain(t)
	ctx := context.Background()
	good := g.Partner(t, "auth")
	body := []byte(`{"jsonrpc":"2.0","method":"auth.getUserByEmailAndPassword","params":{"email":"a@example.com","password":"whatever-pass"},"id":1}`)

	post := func(h map[string]string) fault.Code {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/rpc", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Result struct {
				Error struct{ Code int }
			}
		}
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s", b)
		}
		return fault.Code(r.Result.Error.Code)
	}
	signed := func(kid, secret string, at time.Time, nonce string) map[string]string {
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		return map[string]string{"X-Api-Key": kid, "X-Api-Timestamp": ts, "X-Api-Nonce": nonce,
			"X-Api-Signature": partners.Sign(secret, ts, nonce, kid, "/rpc", body)}
	}
	now := time.Now()
	replay := signed(good.KID, good.Secret, now, "replay-nonce-0001")
	noScope := g.Partner(t, "user")
	revoked := g.Partner(t, "auth")
	if err := partners.New(g.Store(), nil, g.Ring(), nil).Revoke(ctx, revoked.KID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		h    map[string]string
		want fault.Code
	}{
		{"unsigned", nil, fault.Unauthenticated},
		{"incomplete", map[string]string{"X-Api-Key": good.KID}, fault.SignatureMissing},
		{"malformed nonce", signed(good.KID, good.Secret, now, "short"), fault.SignatureMalformed},
		{"wrong secret", signed(good.KID, "pks_wrong", now, "nonce-wrong-secret-1"), fault.SignatureInvalid},
		{"stale", signed(good.KID, good.Secret, now.Add(-31*time.Second), "nonce-stale-000001"), fault.TimestampStale},
		{"future", signed(good.KID, good.Secret, now.Add(31*time.Second), "nonce-future-00001"), fault.TimestampStale},
		{"unknown key", signed("pk_nope", good.Secret, now, "nonce-unknown-0001"), fault.KeyUnknown},
		{"revoked key", signed(revoked.KID, revoked.Secret, now, "nonce-revoked-0001"), fault.KeyUnknown},
		{"scope missing", signed(noScope.KID, noScope.Secret, now, "nonce-noscope-0001"), fault.Forbidden},
		{"first use", replay, fault.WrongCredentials},
		{"replayed", replay, fault.NonceReplayed},
		{"bearer and signature", func() map[string]string {
			h := signed(good.KID, good.Secret, now, "nonce-both-0000001")
			h["Authorization"] = "Bearer x"
			return h
		}(), fault.SignatureMalformed},
		{"bad bearer", map[string]string{"Authorization": "Bearer pgs_nope"}, fault.SessionInvalid},
	}
	for _, c := range cases {
		if got := post(c.h); got != c.want {
			t.Errorf("%s: code %d, want %d", c.name, got, c.want)
		}
	}

	t.Run("parallel identical signed requests: one passes", func(t *testing.T) {
		h := signed(good.KID, good.Secret, time.Now(), "nonce-parallel-0001")
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[fault.Code]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := post(h)
				mu.Lock()
				counts[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[fault.WrongCredentials] != 1 || counts[fault.NonceReplayed] != 19 {
			t.Fatalf("%v", counts)
		}
	})
}

func TestServiceEndpoints(t *testing.T) {
	g := testkit.MustRunMain(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(g.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") && path != "/metrics" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		return resp.StatusCode, string(b)
	}
	if s, b := get("/healthz"); s != 200 || !strings.Contains(b, "ok") {
		t.Errorf("healthz %d %s", s, b)
	}
	if s, b := get("/readyz"); s != 200 || !strings.Contains(b, "ready") {
		t.Errorf("readyz %d %s", s, b)
	}
	if p, err := client.Call[systemwire.PingResult](context.Background(), client.New(g.URL), "system.ping", nil); err != nil || !p.Pong {
		t.Fatal(p, err)
	}
	// system.time and system.version had no call of their own in any test.
	before := time.Now()
	if tm, err := client.Call[systemwire.TimeResult](context.Background(), client.New(g.URL), "system.time", nil); err != nil ||
		tm.Time.Before(before.Add(-time.Second)) || tm.Time.After(time.Now().Add(time.Second)) || tm.Unix != tm.Time.UnixMilli() {
		t.Errorf("system.time: %+v %v", tm, err)
	}
	if v, err := client.Call[systemwire.VersionResult](context.Background(), client.New(g.URL), "system.version", nil); err != nil || v.Go != runtime.Version() {
		t.Errorf("system.version: %+v %v", v, err)
	}
	if s, b := get("/metrics"); s != 200 || !strings.Contains(b, `partnergate_rpc_calls_total{method="system.ping"} 1`) ||
		!strings.Contains(b, "partnergate_rpc_duration_seconds_bucket") {
		t.Errorf("metrics %d", s)
	}
	if s, b := get("/nope"); s != 404 || !strings.Contains(b, "not found") {
		t.Errorf("404: %d %s", s, b)
	}
	if s, b := get("/rpc"); s != 405 || !strings.Contains(b, "-32600") {
		t.Errorf("GET /rpc: %d %s", s, b)
	}
	s, doc := get("/openrpc.json")
	if s != 200 {
		t.Fatal(s)
	}
	var d struct {
		Methods []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range d.Methods {
		names = append(names, m.Name)
	}
	var want []string
	for _, m := range g.Handler().Registry().Methods() {
		want = append(want, m.Name)
	}
	if !reflect.DeepEqual(names, want) || len(want) < 7 {
		t.Errorf("openrpc methods %v", names)
	}
	disc, err := client.Call[json.RawMessage](context.Background(), client.New(g.URL), "rpc.discover", nil)
	if err != nil || string(disc) != doc {
		t.Errorf("rpc.discover differs from /openrpc.json: %v", err)
	}
}

// TestWireTypesCoverRegistry fails when a method's params or result type is
// declared outside a wire package (partnergate/methods/<ns>/<ns>wire): an SDK
// calling it through client.Call[R] could then name the type only by linking
// the server. Empty params need no type on the client side.
func TestWireTypesCoverRegistry(t *testing.T) {
	g := testkit.MustRunMain(t)
	wire := regexp.MustCompile(`^partnergate/methods/[a-z0-9]+/[a-z0-9]+wire$`)
	for _, m := range g.Handler().Registry().Methods() {
		for role, typ := range map[string]reflect.Type{"params": m.Params(), "result": m.Result()} {
			for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
				typ = typ.Elem()
			}
			pkg := typ.PkgPath()
			switch {
			case pkg == "" || !strings.HasPrefix(pkg, "partnergate/") && !strings.Contains(strings.Split(pkg, "/")[0], "."):
				// predeclared or standard library
			case wire.MatchString(pkg):
			case role == "params" && typ.Kind() == reflect.Struct && typ.NumField() == 0:
			default:
				t.Errorf("%s: %s type %s is declared in %s, not in a wire package", m.Name, role, typ, pkg)
			}
		}
	}
}

func TestDevOutboxOnlyInDevMode(t *testing.T) {
	g := testkit.MustRunMain(t, testkit.Env(map[string]string{"PARTNERGATE_DEV": "false"}))
	resp, err := client.New(g.URL).CallRaw(context.Background(), "dev.outbox.list", map[string]string{"to": "a@example.com"})
	if err != nil || resp.Error == nil || resp.Error.Code != -32601 {
		t.Fatalf("%+v %v", resp, err)
	}
	if _, err := gateway.LoadConfig(flagSet(), nil, envOf(map[string]string{"PARTNERGATE_DEV": "1", "PARTNERGATE_ADDR": "0.0.0.0:8080"})); err == nil {
		t.Fatal("dev mode accepted on a non-loopback address")
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	g := testkit.MustRunMain(t)
	c := g.Partner(t, "auth")
	ctx := context.Background()
	secretPw := "Canary-Password-7f3a9"
	_, _ = client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: "canary@example.com", Password: secretPw})
	_, _ = client.Call[authwire.GetUserResult](ctx, c, "auth.getUserByEmailAndPassword", authwire.GetUserParams{Email: "canary@example.com", Password: secretPw})
	_, _ = client.Call[authwire.GetUserResult](ctx, c, "auth.getUserByEmailAndPassword", authwire.GetUserParams{Email: "canary@example.com", Password: secretPw + "x"})
	_, _ = client.Call[systemwire.PingResult](ctx, client.New(g.URL).WithToken("pgs_CanaryToken"), "system.ping", nil)
	logs := g.Logs.String()
	for _, s := range []string{secretPw, c.Secret, "CanaryToken", "canary@example.com"} {
		if strings.Contains(logs, s) {
			t.Errorf("log holds %q", s)
		}
	}
	if !strings.Contains(logs, `"method":"auth.registerUser"`) {
		t.Fatal("calls were not logged at all")
	}
}
