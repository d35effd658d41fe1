package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"partnergate/client"
	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/user/userwire"
	"partnergate/store"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// TestSeed000Registration is the seed's "complete procedure for registering
// a new user" posted as JSON batches (steps 2 to 7; the steps that need
// products, tracking and the socket are covered where those are served).
func TestSeed000Registration(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const phone = "+442071838750"

			// Steps 2-3: the phone is entered and the user registered; a code goes to the phone.
			r := g.Batch(t, "", testkit.Req("user.auth.registration", 1, map[string]string{"phone": phone, "name": "Ann", "lang": "ru"}))
			var userID string
			if err := json.Unmarshal(r[0].Data, &userID); err != nil || r[0].Error.Status {
				t.Fatalf("registration: %s %+v", r[0].Data, r[0].Error)
			}
			// Not verified yet: a login is refused with the phone state (no password, so wrong credentials).
			code := g.Code(t, phone)

			// Steps 4-5: the code is entered; verify returns the user and a session.
			r = g.Batch(t, "",
				testkit.Req("user.auth.verify", 1, map[string]string{"user_id": userID, "phone_code": "000000"}),
				testkit.Req("user.auth.verify", 2, map[string]string{"user_id": userID, "phone_code": code}),
				testkit.Req("user.auth.verify", 3, map[string]string{"user_id": userID, "phone_code": code}))
			if r[0].Error.Code != int(fault.CodeInvalid) || r[2].Error.Code != int(fault.CodeInvalid) {
				t.Fatalf("wrong and reused codes: %+v %+v", r[0].Error, r[2].Error)
			}
			var u userwire.Object
			if err := json.Unmarshal(r[1].Data, &u); err != nil || r[1].Error.Status || u.Session == nil || !u.PhoneVerified || u.Phone != phone || u.Lang != "ru" {
				t.Fatalf("verify: %s %+v", r[1].Data, r[1].Error)
			}
			token := u.Session.Token

			// Step 6: an email is added through settings and confirmed with its code and the session.
			r = g.Batch(t, token, testkit.Req("user.settings.set", 1, map[string]string{"email": "Ann@Example.com"}))
			var st userwire.SettingsObject
			if err := json.Unmarshal(r[0].Data, &st); err != nil || r[0].Error.Status || st.EmailPending != "Ann@example.com" || st.Email != "" {
				t.Fatalf("settings.set email: %s %+v", r[0].Data, r[0].Error)
			}
			ecode := g.Code(t, "ann@example.com")
			r = g.Batch(t, token,
				testkit.Req("user.auth.verify", 1, map[string]string{"code": ecode}),
				testkit.Req("user.settings.get", 2, map[string]string{}))
			st = userwire.SettingsObject{}
			if err := json.Unmarshal(r[1].Data, &st); err != nil || st.Email != "Ann@example.com" || !st.EmailVerified || st.EmailPending != "" {
				t.Fatalf("after email verify: %s %+v / %s", r[1].Data, r[1].Error, r[0].Data)
			}

			// Step 7: the birthday is set at the end of registration.
			bday := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC).Unix()
			r = g.Batch(t, token,
				testkit.Req("user.settings.set", 1, map[string]any{"birthday": bday, "sex": 1, "news": true, "restriction_2": true, "dating.model": "serious"}),
				testkit.Req("user.auth.check", 2, map[string]string{}))
			if err := json.Unmarshal(r[0].Data, &st); err != nil || st.Birthday == nil || *st.Birthday != bday || st.Sex != 1 || !st.News || !st.Restriction2 || st.DatingModel != "serious" {
				t.Fatalf("settings.set: %s %+v", r[0].Data, r[0].Error)
			}
			if err := json.Unmarshal(r[1].Data, &u); err != nil || r[1].Error.Status || u.ID != userID {
				t.Fatalf("check: %s %+v", r[1].Data, r[1].Error)
			}

			// Step 8: the analytics ids from step 1 and the environment data.
			// Step 9: the dating product is activated.
			r = g.Batch(t, token,
				testkit.Req("user.tracking.set", 1, map[string]any{
					"webstat_visitor_id": "v-1", "webstat_fingerprint_id": "f-1", "webstat_session_id": "s-1",
					"webstat_api_handler": "https://webstat.example.com/h", "screen": []int{1080, 2400},
					"location": []float64{51.5, -0.12, 20}, "wifi_mac": "00:1a:2b:3c:4d:5e", "push_device_id": "push-1"}),
				testkit.Req("user.products.activate", 2, map[string]string{"product_id": "dating"}))
			var ok bool
			if err := json.Unmarshal(r[0].Data, &ok); err != nil || !ok {
				t.Fatalf("tracking.set: %s %+v", r[0].Data, r[0].Error)
			}
			var act struct{ Modules []string }
			if err := json.Unmarshal(r[1].Data, &act); err != nil || len(act.Modules) != 1 || act.Modules[0] != "dating" {
				t.Fatalf("products.activate: %s %+v", r[1].Data, r[1].Error)
			}

			// Step 10: the client connects to the socket and hears its events.
			var tk userwire.SocketTicket
			r = g.Batch(t, token, testkit.Req("user.auth.websocket", 1, map[string]string{}))
			if err := json.Unmarshal(r[0].Data, &tk); err != nil || tk.Ticket == "" {
				t.Fatalf("websocket ticket: %s %+v", r[0].Data, r[0].Error)
			}
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(g.URL, "http")+tk.URL, nil)
			if err != nil {
				t.Fatalf("socket: %v", err)
			}
			defer conn.Close(websocket.StatusNormalClosure, "")
			// Subscribing is asynchronous; change settings until the event
			// arrives, a bounded number of times.
			got := make(chan string, 1)
			go func() {
				for {
					_, msg, err := conn.Read(wctx)
					if err != nil {
						return
					}
					if strings.Contains(string(msg), `"settings.changed"`) {
						got <- string(msg)
						return
					}
				}
			}()
			var event string
			for i := 0; i < 50 && event == ""; i++ {
				g.Batch(t, token, testkit.Req("user.settings.set", 1, map[string]bool{"news": i%2 == 0}))
				select {
				case event = <-got:
				case <-time.After(100 * time.Millisecond):
				}
			}
			var note struct {
				JSONRPC, Method string
				ID              *json.RawMessage
			}
			if err := json.Unmarshal([]byte(event), &note); err != nil || note.JSONRPC != "2.0" || note.ID != nil {
				t.Fatalf("no JSON-RPC notification of the settings change: %q", event)
			}

			// The same user through seed 001's partner API: one user base.
			p := g.Partner(t, "auth")
			if err := p.Call(context.Background(), "auth.getUserByEmailAndPassword", map[string]string{"email": "ann@example.com", "password": "no password set"}, nil); !client.IsCode(err, int(fault.WrongCredentials)) {
				t.Fatalf("a user without a password must not log in: %v", err)
			}
		})
	}
}

// TestSeed000States reaches each error state the seed lists.
func TestSeed000States(t *testing.T) {
	g := testkit.MustRunMain(t)
	anon := g.Client()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	id, err := client.Call[string](ctx, anon, "user.auth.registration", userwire.RegistrationParams{Email: "st@example.com", Phone: "+442071838751", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	_ = id
	cases := []struct {
		name   string
		method string
		params any
		want   fault.Code
	}{
		{"registration: no email or phone", "user.auth.registration", map[string]string{"name": "x"}, fault.Invalid},
		{"registration: email format", "user.auth.registration", map[string]string{"email": "x@"}, fault.EmailInvalid},
		{"registration: phone format", "user.auth.registration", map[string]string{"phone": "12345"}, fault.PhoneInvalid},
		{"registration: exists", "user.auth.registration", map[string]string{"email": "ST@example.com"}, fault.AlreadyExists},
		{"registration: bad lang", "user.auth.registration", map[string]string{"email": "l@example.com", "lang": "xx"}, fault.Invalid},
		{"login: both unverified", "user.auth.login", map[string]string{"login": "st@example.com", "password": pw}, fault.NotVerified},
		{"login: by phone, both unverified", "user.auth.login", map[string]string{"login": "+442071838751", "password": pw}, fault.NotVerified},
		{"login: wrong password", "user.auth.login", map[string]string{"login": "st@example.com", "password": "wrong one here"}, fault.WrongCredentials},
		{"login: unknown", "user.auth.login", map[string]string{"login": "nobody@example.com", "password": "wrong one here"}, fault.WrongCredentials},
		{"verify: missing", "user.auth.verify", map[string]string{"user_id": id}, fault.Invalid},
		{"verify: unknown user", "user.auth.verify", map[string]string{"user_id": "00000000-0000-0000-0000-000000000000", "email_code": "123456"}, fault.NotFound},
		{"resend: within 90 s", "user.auth.resend", map[string]string{"user_id": id, "type": "email"}, fault.Throttled},
		{"resend: bad type", "user.auth.resend", map[string]string{"user_id": id, "type": "fax"}, fault.Invalid},
		{"resend: nothing", "user.auth.resend", map[string]string{}, fault.Invalid},
		{"check: no session", "user.auth.check", nil, fault.Unauthenticated},
		{"settings: no session", "user.settings.get", nil, fault.Unauthenticated},
		{"recovery_done: unknown token", "user.auth.recovery_done", map[string]string{"token": "nope", "code": "123456"}, fault.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := anon.Call(ctx, c.method, c.params, nil)
			if !client.IsCode(err, int(c.want)) {
				t.Fatalf("got %v, want %d", err, c.want)
			}
			if c.want == fault.Throttled {
				var e *client.Error
				if !asError(err, &e) || e.RetryAfter < 80 || e.RetryAfter > 90 {
					t.Fatalf("retryAfter %+v", e)
				}
			}
		})
	}

	// Verify the email only: login then reports the phone still missing.
	if _, err := client.Call[userwire.Object](ctx, anon, "user.auth.verify", userwire.VerifyParams{UserID: id, EmailCode: g.Code(t, "st@example.com")}); !client.IsCode(err, int(fault.PhoneNotVerified)) {
		t.Fatalf("verify email only: %v", err)
	}
	if err := anon.Call(ctx, "user.auth.login", map[string]string{"login": "st@example.com", "password": pw}, nil); !client.IsCode(err, int(fault.PhoneNotVerified)) {
		t.Fatalf("login: %v", err)
	}

	// Recovery by the phone sends its code to the phone, proving it.
	rec, err := client.Call[userwire.RecoveryResult](ctx, anon, "user.auth.recovery", userwire.RecoveryParams{Login: "+442071838751"})
	if err != nil || rec.Type != "phone" || rec.Token == "" {
		t.Fatalf("recovery: %+v %v", rec, err)
	}
	// Unknown logins answer the same shape on the channel they name.
	for login, ch := range map[string]string{"ghost@example.com": "email", "+442071838759": "phone"} {
		decoy, err := client.Call[userwire.RecoveryResult](ctx, anon, "user.auth.recovery", userwire.RecoveryParams{Login: login})
		if err != nil || decoy.Type != ch || len(decoy.Token) != len(rec.Token) {
			t.Fatalf("decoy for %s: %+v %v", login, decoy, err)
		}
		if _, err := client.Call[userwire.Object](ctx, anon, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: decoy.Token, Code: "123456"}); !client.IsCode(err, int(fault.CodeInvalid)) {
			t.Fatalf("decoy must never verify: %v", err)
		}
	}
	// The phone was not yet proven: its owner's proof takes the account
	// back clean (SECURITY.md 10), the email and password attached before
	// it included.
	u, err := client.Call[userwire.Object](ctx, anon, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: g.Code(t, "+442071838751")})
	if err != nil || u.Session == nil || !u.PhoneVerified || u.Email != "" {
		t.Fatalf("recovery_done: %+v %v", u, err)
	}
	if _, err := client.Call[userwire.Object](ctx, anon, "user.auth.recovery_done", userwire.RecoveryDoneParams{Token: rec.Token, Code: "123456"}); !client.IsCode(err, int(fault.NotFound)) {
		t.Fatalf("a used recovery token: %v", err)
	}

	// Email and phone changes waiting together: each code confirms its own.
	me := anon.WithToken(u.Session.Token)
	if _, err := client.Call[userwire.SettingsObject](ctx, me, "user.settings.set", userwire.SetParams{Email: ptr("st2@example.com"), Phone: ptr("+442071838758")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Call[userwire.Object](ctx, me, "user.auth.verify", userwire.VerifyParams{Code: g.Code(t, "+442071838758")}); err != nil {
		t.Fatalf("phone code with an email change also waiting: %v", err)
	}
	if _, err := client.Call[userwire.Object](ctx, me, "user.auth.verify", userwire.VerifyParams{Code: g.Code(t, "st2@example.com")}); err != nil {
		t.Fatalf("email code after the phone: %v", err)
	}
	st, err := client.Call[userwire.SettingsObject](ctx, me, "user.settings.get", nil)
	if err != nil || st.Email != "st2@example.com" || st.Phone != "+442071838758" || st.EmailPending != "" || st.PhonePending != "" {
		t.Fatalf("after both changes: %+v %v", st, err)
	}
	// [] means no params, for every method.
	if resp, err := me.CallRaw(ctx, "user.auth.check", []any{}); err != nil || resp.Error != nil {
		t.Fatalf("check with []: %+v %v", resp, err)
	}
}

func asError(err error, target **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*target = e
	}
	return ok
}

// TestSeed000Lifecycle reaches the states that need a verified user: already
// verified resends, settings format errors, deactivation, and deletion.
func TestSeed000Lifecycle(t *testing.T) {
	g := testkit.MustRunMain(t)
	anon := g.Client()
	ctx := context.Background()
	const pw, email = "correct horse battery staple", "life@example.com"
	id, token := g.RegisterUser(t, email, pw)
	me := anon.WithToken(token)

	expect := func(name string, err error, want fault.Code) {
		t.Helper()
		if !client.IsCode(err, int(want)) {
			t.Fatalf("%s: got %v, want %d", name, err, want)
		}
	}
	_, err := client.Call[bool](ctx, anon, "user.auth.resend", userwire.ResendParams{UserID: id, Type: "email"})
	expect("resend to a verified email", err, fault.EmailVerified)
	_, err = client.Call[userwire.SettingsObject](ctx, me, "user.settings.set", userwire.SetParams{Email: ptr("bad@")})
	expect("settings: email format", err, fault.EmailInvalid)
	_, err = client.Call[userwire.SettingsObject](ctx, me, "user.settings.set", userwire.SetParams{Phone: ptr("+1")})
	expect("settings: phone format", err, fault.PhoneInvalid)
	_, err = client.Call[userwire.SettingsObject](ctx, me, "user.settings.set", userwire.SetParams{Sex: ptr(9), FirstName: ptr("Changed")})
	expect("settings: sex out of range", err, fault.Invalid)
	if st, err := client.Call[userwire.SettingsObject](ctx, me, "user.settings.get", nil); err != nil || st.FirstName == "Changed" {
		t.Fatalf("a refused set changed the profile: %+v %v", st, err)
	}
	// Mass assignment in any spelling is refused before anything is read.
	for _, p := range []string{`{"role":"admin"}`, `{"Role":"admin"}`, `{"state":"active"}`, `{"email_verified":true}`, `{"first_name":"a","FIRST_NAME":"b"}`} {
		resp, err := me.CallRaw(ctx, "user.settings.set", json.RawMessage(p))
		if err != nil || resp.Error == nil || resp.Error.Code != -32602 {
			t.Fatalf("%s accepted: %+v %v", p, resp, err)
		}
	}

	// A session check reads a cached copy of the user; a change is seen by
	// the very next check.
	if o, err := client.Call[userwire.Object](ctx, me, "user.auth.check", nil); err != nil || o.Name == "Renamed" {
		t.Fatalf("check before rename: %+v %v", o, err)
	}
	if _, err := client.Call[userwire.SettingsObject](ctx, me, "user.settings.set", userwire.SetParams{FirstName: ptr("Renamed")}); err != nil {
		t.Fatal(err)
	}
	if o, err := client.Call[userwire.Object](ctx, me, "user.auth.check", nil); err != nil || o.Name != "Renamed" {
		t.Fatalf("check right after rename: %+v %v", o, err)
	}

	// Deactivated: revealed only with the right password, and to the session.
	// Written through the account core's store, as every method does, so
	// the copy the checks above cached is cleared.
	if _, err := g.Accounts().Store.UpdateUser(ctx, id, func(u store.User) (store.User, error) { u.State = store.StateDisabled; return u, nil }); err != nil {
		t.Fatal(err)
	}
	_, err = client.Call[userwire.Object](ctx, anon, "user.auth.login", userwire.LoginParams{Login: email, Password: "not the password"})
	expect("login, deactivated, wrong password", err, fault.WrongCredentials)
	_, err = client.Call[userwire.Object](ctx, anon, "user.auth.login", userwire.LoginParams{Login: email, Password: pw})
	expect("login, deactivated", err, fault.UserDisabled)
	_, err = client.Call[userwire.Object](ctx, me, "user.auth.check", nil)
	expect("check, deactivated", err, fault.UserDisabled)
	if _, err := g.Accounts().Store.UpdateUser(ctx, id, func(u store.User) (store.User, error) { u.State = store.StateActive; return u, nil }); err != nil {
		t.Fatal(err)
	}

	// Deletion: a code to the email, then everything goes with the sessions.
	del, err := client.Call[userwire.DeleteResult](ctx, me, "user.auth.delete", nil)
	if err != nil || del.Type != "email" || del.Token == "" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = client.Call[bool](ctx, me, "user.auth.delete_done", userwire.DeleteDoneParams{Code: "000000"})
	expect("delete_done, wrong code", err, fault.CodeInvalid)
	if ok, err := client.Call[bool](ctx, me, "user.auth.delete_done", userwire.DeleteDoneParams{Code: g.Code(t, email)}); err != nil || !ok {
		t.Fatalf("delete_done: %v", err)
	}
	_, err = client.Call[userwire.Object](ctx, me, "user.auth.check", nil)
	expect("check after deletion", err, fault.SessionInvalid)
	if _, err := g.Store().UserByID(ctx, id); err == nil {
		t.Fatal("the user is still stored")
	}
	_, err = client.Call[userwire.Object](ctx, anon, "user.auth.login", userwire.LoginParams{Login: email, Password: pw})
	expect("login after deletion", err, fault.WrongCredentials)
	// The email is free again.
	if _, err := client.Call[string](ctx, anon, "user.auth.registration", userwire.RegistrationParams{Email: email}); err != nil {
		t.Fatalf("register the freed email: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
