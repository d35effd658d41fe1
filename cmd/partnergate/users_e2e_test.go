package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/internal/testkit"
	"partnergate/methods/users/userswire"
	"partnergate/rpc"
	"partnergate/store"
)

const (
	chatPassword = "correct horse battery staple"
	apnsToken    = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
)

// fcmToken is a well-formed FCM registration token (instance id, colon,
// the token proper).
var fcmToken = "cXk3Ld9pQ0aB1cD2eF3gH4:APA91b" + strings.Repeat("Zx9_-Yw8", 18)

func basicOf(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func (c apiCaller) withBasic(user, pw string) apiCaller {
	c.token = ""
	c.header = map[string]string{"Authorization": basicOf(user, pw)}
	return c
}

func device(id string) userswire.DeviceInfo {
	return userswire.DeviceInfo{DeviceID: id, DeviceName: "phone " + id, DeviceModel: "Pixel 9"}
}

// userInfo decodes a UserInfo answer, failing unless the call succeeded.
func userInfo(t *testing.T, r gwReply, what string) userswire.UserInfo {
	t.Helper()
	var u userswire.UserInfo
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
		t.Fatalf("%s: %v", what, r)
	}
	return u
}

func chatRegister(t *testing.T, anon apiCaller, name, username, dev string) userswire.UserInfo {
	t.Helper()
	u := userInfo(t, anon.call(context.Background(), "users.register",
		userswire.RegisterParams{Name: name, Username: username, Password: chatPassword, DeviceInfo: device(dev)}), "register "+username)
	if u.DeviceSession == nil || u.DeviceSession.AccessToken == "" {
		t.Fatalf("register %s: no deviceSession.accessToken: %+v", username, u)
	}
	return u
}

func chatLogin(t *testing.T, anon apiCaller, login, dev string) string {
	t.Helper()
	u := userInfo(t, anon.withBasic(login, chatPassword).call(context.Background(), "users.login",
		userswire.LoginParams{DeviceInfo: device(dev)}), "login "+login+" on "+dev)
	if u.DeviceSession == nil || u.DeviceSession.AccessToken == "" || u.DeviceSession.DeviceID != dev || !u.DeviceSession.Current {
		t.Fatalf("login %s: %+v", login, u.DeviceSession)
	}
	return u.DeviceSession.AccessToken
}

// TestSeed003Users walks seed 003's users.* on each backend: registration
// with a device session, Basic login replacing a device's session, the
// current user, devices, profile and device updates, public info and
// search, password change, account key reset, deletion; batches and the
// path style; refusals change nothing.
func TestSeed003Users(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			ctx := context.Background()
			anon := apiCaller{base: g.URL}

			// users.register: UserInfo with the device's session.
			reg := userswire.RegisterParams{Name: "Alice Smith", Username: "Alice.Smith", Password: chatPassword,
				DeviceInfo: userswire.DeviceInfo{DeviceID: "phone-1", DeviceName: "Alice's phone", DeviceModel: "iPhone 16", DeviceToken: apnsToken}}
			alice := userInfo(t, anon.call(ctx, "users.register", reg), "register")
			ds := alice.DeviceSession
			if alice.ID == "" || alice.Username != "Alice.Smith" || alice.Name != "Alice Smith" || ds == nil ||
				!strings.HasPrefix(ds.AccessToken, "pgs_") || ds.DeviceID != "phone-1" || ds.DeviceTokenType != "apns" || !ds.Current {
				t.Fatalf("register = %+v %+v", alice, ds)
			}
			phone1 := ds.AccessToken

			// Refusals: taken in another case, reserved, too short, bad device.
			for _, tc := range []struct {
				what  string
				p     userswire.RegisterParams
				code  fault.Code
				field string
			}{
				{"taken in another case", userswire.RegisterParams{Name: "A", Username: "alice.SMITH", Password: chatPassword, DeviceInfo: device("x")}, fault.AlreadyExists, ""},
				{"reserved", userswire.RegisterParams{Name: "A", Username: "Sup-port", Password: chatPassword, DeviceInfo: device("x")}, fault.Invalid, "username"},
				{"too short", userswire.RegisterParams{Name: "A", Username: "ab", Password: chatPassword, DeviceInfo: device("x")}, fault.Invalid, "username"},
				{"no name", userswire.RegisterParams{Name: " ", Username: "carol", Password: chatPassword, DeviceInfo: device("x")}, fault.Invalid, "name"},
				{"weak password", userswire.RegisterParams{Name: "Carol", Username: "carol", Password: "password", DeviceInfo: device("x")}, fault.PasswordWeak, ""},
				{"bad device id", userswire.RegisterParams{Name: "Carol", Username: "carol", Password: chatPassword, DeviceInfo: device("a b")}, fault.Invalid, "deviceId"},
				{"bad push token", userswire.RegisterParams{Name: "Carol", Username: "carol", Password: chatPassword,
					DeviceInfo: userswire.DeviceInfo{DeviceID: "x", DeviceToken: "not-a-token"}}, fault.Invalid, "deviceToken"},
			} {
				r := anon.call(ctx, "users.register", tc.p)
				if r.code() != int(tc.code) || (tc.field != "" && r.Env.Error.Fields[tc.field] == "") {
					t.Errorf("register %s: %v, want %d on %q", tc.what, r, tc.code, tc.field)
				}
			}
			if n, err := g.Store().CountUsers(ctx); err != nil || n != 1 {
				t.Fatalf("users after refusals = %d, %v, want 1", n, err)
			}

			// users.me: the user and the current device session, no token.
			me := userInfo(t, anon.withToken(phone1).call(ctx, "users.me", nil), "me")
			if me.ID != alice.ID || me.DeviceSession == nil || me.DeviceSession.AccessToken != "" || !me.DeviceSession.Current ||
				me.DeviceSession.DeviceName != "Alice's phone" || me.CreatedAt == nil {
				t.Fatalf("me = %+v %+v", me, me.DeviceSession)
			}
			// The path style serves it too.
			if r := anon.withToken(phone1).callPath(ctx, "users.me", nil); r.code() != 0 || !strings.Contains(string(r.Env.Data), alice.ID) {
				t.Fatalf("path-style users.me: %v", r)
			}

			// users.login: Basic, one session per device.
			laptop := chatLogin(t, anon, "alice.smith", "laptop")
			phone2 := chatLogin(t, anon, "ALICE.SMITH", "phone-1")
			mustCode(t, anon.withToken(phone1).call(ctx, "users.me", nil), int(fault.SessionInvalid), "the phone's replaced session")
			mustCode(t, anon.withToken(laptop).call(ctx, "users.me", nil), 0, "the laptop's session")
			// Basic refusals.
			noColon := anon
			noColon.header = map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice.smith"))}
			mustCode(t, noColon.call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("d")}), int(fault.BasicMalformed), "Basic without a colon")
			notUTF8 := anon
			notUTF8.header = map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("al\xffce:"+chatPassword))}
			mustCode(t, notUTF8.call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("d")}), int(fault.BasicMalformed), "Basic not UTF-8")
			wrong := anon.withBasic("alice.smith", chatPassword+"!").call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("d")})
			unknown := anon.withBasic("nobody.here", chatPassword).call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("d")})
			if wrong.code() != int(fault.WrongCredentials) || unknown.code() != int(fault.WrongCredentials) || wrong.Env.Error.Message != unknown.Env.Error.Message {
				t.Fatalf("wrong password %v, unknown user %v: want the same 2001", wrong, unknown)
			}
			mustCode(t, anon.call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("d")}), int(fault.Unauthenticated), "login without Basic")
			mustCode(t, anon.withBasic("alice.smith", chatPassword).call(ctx, "system.ping", nil), int(fault.SessionInvalid), "Basic on another method")
			mustCode(t, anon.withBasic("alice.smith", chatPassword).call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("")}), int(fault.Invalid), "login without a device id")

			// users.me.devices.list and users.me.device.update.
			var devs []userswire.DeviceSession
			r := anon.withToken(phone2).call(ctx, "users.me.devices.list", nil)
			if r.code() != 0 || json.Unmarshal(r.Env.Data, &devs) != nil || len(devs) != 2 {
				t.Fatalf("devices.list: %v", r)
			}
			for _, d := range devs {
				if d.AccessToken != "" || d.Current != (d.DeviceID == "phone-1") {
					t.Fatalf("devices.list entry %+v", d)
				}
			}
			mustCode(t, anon.withToken(laptop).call(ctx, "users.me.device.update", map[string]string{"deviceToken": "abc"}), int(fault.Invalid), "bad push token")
			mustCode(t, anon.withToken(laptop).call(ctx, "users.me.device.update", map[string]string{"deviceName": "My laptop", "deviceToken": fcmToken}), 0, "device.update")
			me = userInfo(t, anon.withToken(laptop).call(ctx, "users.me", nil), "me on the laptop")
			if me.DeviceSession.DeviceName != "My laptop" || me.DeviceSession.DeviceTokenType != "fcm" {
				t.Fatalf("after device.update: %+v", me.DeviceSession)
			}
			mustCode(t, anon.withToken(laptop).call(ctx, "users.me.device.update", map[string]any{}), int(fault.Invalid), "device.update with nothing")

			// users.me.update: caps refused, nothing changed.
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.update", map[string]string{"name": "Alice S.", "about": "Hi\nthere"}), 0, "update")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.update", map[string]string{"about": strings.Repeat("a", 10000)}), rpc.CodeInvalidParams, "10,000-character about")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.update", map[string]string{"about": strings.Repeat("a", 501)}), int(fault.Invalid), "501-character about")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.update", map[string]string{"name": ""}), int(fault.Invalid), "empty name")
			me = userInfo(t, anon.withToken(phone2).call(ctx, "users.me", nil), "me after update")
			if me.Name != "Alice S." || me.About != "Hi\nthere" {
				t.Fatalf("after update: %+v", me)
			}

			// Another user sees Alice's public info and finds her.
			bob := chatRegister(t, anon, "Bob", "bob_b", "bob-phone")
			bobTok := bob.DeviceSession.AccessToken
			pub := userInfo(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": alice.ID}), "get")
			if pub.ID != alice.ID || pub.Username != "Alice.Smith" || pub.Name != "Alice S." || pub.About != "Hi\nthere" || pub.DeviceSession != nil || pub.CreatedAt != nil {
				t.Fatalf("users.get = %+v", pub)
			}
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": "no-such-user"}), int(fault.NotFound), "get unknown")
			mustCode(t, anon.call(ctx, "users.get", map[string]string{"id": alice.ID}), int(fault.Unauthenticated), "get without a session")
			search := func(q string) []userswire.UserInfo {
				t.Helper()
				var out []userswire.UserInfo
				r := anon.withToken(bobTok).call(ctx, "users.search", map[string]any{"s": q})
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &out) != nil {
					t.Fatalf("search %q: %v", q, r)
				}
				return out
			}
			if got := search("ALI"); len(got) != 1 || got[0].ID != alice.ID || got[0].Name != "Alice S." {
				t.Fatalf("search ALI = %+v", got)
			}
			if got := search("b" + "o"); len(got) != 1 || got[0].ID != bob.ID {
				t.Fatalf("search bo = %+v", got)
			}
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.search", map[string]any{"s": "a"}), int(fault.Invalid), "one-character search")
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.search", map[string]any{"s": "al", "limit": 51}), int(fault.Invalid), "a page over 50")
			// Privacy mode shows the minimum; deactivated users are not shown.
			if _, err := g.Store().UpdateProfile(ctx, alice.ID, func(p store.Profile) (store.Profile, error) { p.PrivacyMode = 1; return p, nil }); err != nil {
				t.Fatal(err)
			}
			pub = userInfo(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": alice.ID}), "get private")
			if pub.ID != alice.ID || pub.Username != "Alice.Smith" || pub.Name != "" || pub.About != "" {
				t.Fatalf("private users.get = %+v", pub)
			}
			if got := search("alice s"); len(got) != 0 {
				t.Fatalf("a private user found by name: %+v", got)
			}
			if _, err := g.Store().UpdateUser(ctx, alice.ID, func(u store.User) (store.User, error) { u.State = store.StateDisabled; return u, nil }); err != nil {
				t.Fatal(err)
			}
			if got := search("alice"); len(got) != 0 {
				t.Fatalf("a deactivated user found: %+v", got)
			}
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": alice.ID}), int(fault.NotFound), "get deactivated")
			if _, err := g.Store().UpdateUser(ctx, alice.ID, func(u store.User) (store.User, error) { u.State = store.StateActive; return u, nil }); err != nil {
				t.Fatal(err)
			}

			// A lost laptop is cut off without a password change.
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.devices.delete", map[string]string{"deviceId": "laptop"}), 0, "devices.delete")
			mustCode(t, anon.withToken(laptop).call(ctx, "users.me", nil), int(fault.SessionInvalid), "the deleted device")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.devices.delete", map[string]string{"deviceId": "laptop"}), int(fault.NotFound), "devices.delete twice")
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.me.devices.delete", map[string]string{"deviceId": "phone-1"}), int(fault.NotFound), "another user's device")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me", nil), 0, "alice's phone after bob's try")

			// users.me.changePassword ends every other device's session.
			tablet := chatLogin(t, anon, "alice.smith", "tablet")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.changePassword", userswire.ChangePasswordParams{OldPassword: "wrong password!", NewPassword: "a brand new passphrase"}), int(fault.WrongCredentials), "wrong old password")
			mustCode(t, anon.withToken(tablet).call(ctx, "users.me", nil), 0, "tablet after a refused change")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.changePassword", userswire.ChangePasswordParams{OldPassword: chatPassword, NewPassword: "a brand new passphrase"}), 0, "changePassword")
			mustCode(t, anon.withToken(tablet).call(ctx, "users.me", nil), int(fault.SessionInvalid), "tablet after the change")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me", nil), 0, "the changing session")
			for _, want := range []struct{ action, result string }{{"change", store.ResultSucceed}, {"change", store.ResultFailed}} {
				acts, err := g.Store().Activities(ctx, store.ActivityFilter{UserID: alice.ID, Topic: "password", Action: want.action, Result: want.result, Limit: 5})
				if err != nil || len(acts) != 1 {
					t.Fatalf("activity password %s %s: %d, %v", want.action, want.result, len(acts), err)
				}
			}

			// Account key: set (password required), reset (all sessions end).
			const key = "river stone lantern quiet 42"
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.setAccountKey", userswire.SetAccountKeyParams{Password: chatPassword, AccountKey: key}), int(fault.WrongCredentials), "setAccountKey with the old password")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.setAccountKey", userswire.SetAccountKeyParams{Password: "a brand new passphrase", AccountKey: "short"}), int(fault.Invalid), "a short key")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me.setAccountKey", userswire.SetAccountKeyParams{Password: "a brand new passphrase", AccountKey: key}), 0, "setAccountKey")
			wrongKey := anon.call(ctx, "users.resetPassword", userswire.ResetPasswordParams{UserID: alice.ID, AccountKey: key + "x", NewPassword: chatPassword})
			noUser := anon.call(ctx, "users.resetPassword", userswire.ResetPasswordParams{UserID: "no-such-user", AccountKey: key, NewPassword: chatPassword})
			noKey := anon.call(ctx, "users.resetPassword", userswire.ResetPasswordParams{UserID: bob.ID, AccountKey: key, NewPassword: chatPassword})
			for _, r := range []gwReply{wrongKey, noUser, noKey} {
				if r.code() != int(fault.AccountKeyInvalid) || r.Env.Error.Message != wrongKey.Env.Error.Message {
					t.Fatalf("resetPassword refusals differ: %v / %v / %v", wrongKey, noUser, noKey)
				}
			}
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me", nil), 0, "phone after refused resets")
			mustCode(t, anon.call(ctx, "users.resetPassword", map[string]any{"userId": 7, "accountKey": key, "newPassword": chatPassword}), rpc.CodeInvalidParams, "an integer userId")
			mustCode(t, anon.call(ctx, "users.resetPassword", userswire.ResetPasswordParams{UserID: alice.ID, AccountKey: key, NewPassword: chatPassword}), 0, "resetPassword")
			mustCode(t, anon.withToken(phone2).call(ctx, "users.me", nil), int(fault.SessionInvalid), "phone after the reset")

			// Batch: two logins from one device under one Basic header leave
			// one session; a batch of session calls answers in order.
			rs, err := anon.withBasic("alice.smith", chatPassword).batch(ctx,
				rpcBody("users.login", 1, userswire.LoginParams{DeviceInfo: device("phone-1")}),
				rpcBody("users.login", 2, userswire.LoginParams{DeviceInfo: device("phone-1")}))
			if err != nil || len(rs) != 2 || rs[0].code() != 0 || rs[1].code() != 0 {
				t.Fatalf("login batch: %v %v", rs, err)
			}
			var first, second userswire.UserInfo
			_ = json.Unmarshal(rs[0].Env.Data, &first)
			_ = json.Unmarshal(rs[1].Env.Data, &second)
			mustCode(t, anon.withToken(first.DeviceSession.AccessToken).call(ctx, "users.me", nil), int(fault.SessionInvalid), "the batch's first login")
			tok := second.DeviceSession.AccessToken
			rs, err = anon.withToken(tok).batch(ctx,
				rpcBody("users.me", 1, nil),
				rpcBody("users.me.update", 2, map[string]string{"about": "batched"}),
				rpcBody("users.search", 3, map[string]any{"s": "bob"}),
				rpcBody("users.me.devices.list", 4, nil),
				rpcBody("users.me.logout", 5, nil),
				rpcBody("users.me", 6, nil))
			if err != nil || len(rs) != 6 {
				t.Fatalf("session batch: %v %v", rs, err)
			}
			// The credentials were read once for the batch, but the session
			// is checked again where a call reads it: after the logout, the
			// batch's own users.me finds it gone.
			for i, want := range []int{0, 0, 0, 0, 0, int(fault.SessionInvalid)} {
				if rs[i].code() != want {
					t.Fatalf("session batch call %d: %+v", i+1, rs[i])
				}
			}
			mustCode(t, anon.withToken(tok).call(ctx, "users.me", nil), int(fault.SessionInvalid), "after logout")
			rs, err = anon.batch(ctx,
				rpcBody("users.register", 1, userswire.RegisterParams{Name: "Dan", Username: "dan.d", Password: chatPassword, DeviceInfo: device("d1")}),
				rpcBody("users.register", 2, userswire.RegisterParams{Name: "Dan", Username: "DAN.D", Password: chatPassword, DeviceInfo: device("d1")}),
				rpcBody("users.resetPassword", 3, userswire.ResetPasswordParams{UserID: bob.ID, AccountKey: key, NewPassword: chatPassword}))
			if err != nil || len(rs) != 3 || rs[0].code() != 0 || rs[1].code() != int(fault.AlreadyExists) || rs[2].code() != int(fault.AccountKeyInvalid) {
				t.Fatalf("anonymous batch: %v %v", rs, err)
			}

			// One user base: a seed 000 user logs in here by email.
			g.RegisterUser(t, "erin@example.com", chatPassword)
			erin := chatLogin(t, anon, "erin@example.com", "erin-phone")
			mustCode(t, anon.withToken(erin).call(ctx, "users.me", nil), 0, "seed 000 user's users.me")

			// users.me.delete: Basic, the user and its rows gone.
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.me.delete", nil), int(fault.Forbidden), "delete with a bearer")
			mustCode(t, anon.withBasic("bob_b", "wrong password").call(ctx, "users.me.delete", nil), int(fault.WrongCredentials), "delete with a wrong password")
			mustCode(t, anon.withBasic("bob_b", chatPassword).call(ctx, "users.me.delete", nil), 0, "delete")
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.me", nil), int(fault.SessionInvalid), "bob's session after deletion")
			mustCode(t, anon.withBasic("bob_b", chatPassword).call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("x")}), int(fault.WrongCredentials), "login after deletion")
			if _, err := g.Store().ChatProfile(ctx, bob.ID); err == nil {
				t.Fatal("bob's chat profile outlived him")
			}
			// The username is free again.
			chatRegister(t, anon, "Bob II", "bob_b", "p")

			// Nothing secret reached the log.
			logs := g.Logs.String()
			for _, secret := range []string{chatPassword, "a brand new passphrase", key, apnsToken, strings.ToLower(apnsToken), fcmToken,
				strings.TrimPrefix(basicOf("alice.smith", chatPassword), "Basic "), phone1, phone2, laptop, tok} {
				if strings.Contains(logs, secret) {
					t.Fatalf("the log holds a secret: %.24s…", secret)
				}
			}
		})
	}
}

// TestSeed003Races: 50 parallel registrations of one username give one
// user and 49 clean 2006; 5 parallel logins from one device leave one
// live session.
func TestSeed003Races(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, looseRates, b.Env)
			ctx := context.Background()
			anon := apiCaller{base: g.URL}
			const n = 50
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = anon.call(ctx, "users.register", userswire.RegisterParams{Name: "Race", Username: []string{"racer", "RACER", "Racer"}[i%3],
						Password: chatPassword, DeviceInfo: device(fmt.Sprint("d", i))}).code()
				}()
			}
			wg.Wait()
			won := 0
			for i, c := range codes {
				switch c {
				case 0:
					won++
				case int(fault.AlreadyExists):
				default:
					t.Fatalf("registration %d: code %d", i, c)
				}
			}
			if won != 1 {
				t.Fatalf("%d registrations of one username won, want 1", won)
			}

			// Five: more concurrent logins of one account than the free
			// failures are refused by the login throttle (each is counted
			// before its password is checked), by design.
			const m = 5
			tokens := make([]string, m)
			for i := range m {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := anon.withBasic("racer", chatPassword).call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("shared")})
					var u userswire.UserInfo
					if r.code() == 0 && json.Unmarshal(r.Env.Data, &u) == nil && u.DeviceSession != nil {
						tokens[i] = u.DeviceSession.AccessToken
					}
				}()
			}
			wg.Wait()
			live := 0
			for i, tok := range tokens {
				if tok == "" {
					t.Fatalf("login %d failed", i)
				}
				if anon.withToken(tok).call(ctx, "users.me", nil).code() == 0 {
					live++
				}
			}
			if live != 1 {
				t.Fatalf("%d live sessions on one device after %d parallel logins, want 1", live, m)
			}
		})
	}
}

// TestSeed003Photos: an upload becomes a photo (listed in UserInfo with its
// URL, served to signed-in users, not to anonymous callers or while its
// owner is private); another user's upload, a mismatched fileType or a
// second add are refused; deleting a photo deletes its file and blob;
// deleting the account deletes every blob.
func TestSeed003Photos(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, looseRates, b.Env)
			ctx := context.Background()
			anon := apiCaller{base: g.URL}
			ann := chatRegister(t, anon, "Ann", "ann.photos", "a1")
			annTok := ann.DeviceSession.AccessToken
			bob := chatRegister(t, anon, "Bob", "bob.photos", "b1")
			bobTok := bob.DeviceSession.AccessToken

			f1 := createFile(t, g, annTok, pngFile)
			f2 := createFile(t, g, annTok, jpegFile)
			fb := createFile(t, g, bobTok, pngFile)
			add := func(tok, id, typ string, size int64) gwReply {
				return anon.withToken(tok).call(ctx, "users.me.photos.add", userswire.PhotosAddParams{Photo: userswire.PhotoRef{ID: id, FileType: typ, FileSize: size}})
			}
			// Before it is a photo, only the owner reads the file.
			if resp, _ := getFile(t, g, "/files/"+f1.ID, bobTok); resp.StatusCode != 404 {
				t.Fatalf("bob reads ann's upload: %d", resp.StatusCode)
			}
			mustCode(t, add(annTok, f1.ID, "png", f1.FileSize), 0, "add f1")
			mustCode(t, add(annTok, f2.ID, "", 0), 0, "add f2 without type and size")
			mustCode(t, add(annTok, f1.ID, "", 0), int(fault.AlreadyExists), "add f1 twice")
			mustCode(t, add(annTok, fb.ID, "", 0), int(fault.NotFound), "another user's upload")
			mustCode(t, add(bobTok, fb.ID, "jpeg", 0), int(fault.Invalid), "a fileType that does not match")
			mustCode(t, add(bobTok, fb.ID, "", fb.FileSize+1), int(fault.Invalid), "a fileSize that does not match")
			mustCode(t, add(annTok, "not-a-file", "", 0), int(fault.NotFound), "no such file")

			me := userInfo(t, anon.withToken(annTok).call(ctx, "users.me", nil), "me")
			if len(me.Photos) != 2 || me.Photos[0].ID != f1.ID || me.Photos[0].FileType != "png" || me.Photos[0].URL != "/files/"+f1.ID ||
				me.Photos[1].FileType != "jpeg" || me.Photos[0].FileSize != f1.FileSize {
				t.Fatalf("photos = %+v", me.Photos)
			}
			pub := userInfo(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": ann.ID}), "get")
			if len(pub.Photos) != 2 {
				t.Fatalf("public photos = %+v", pub.Photos)
			}
			var found []userswire.UserInfo
			if r := anon.withToken(bobTok).call(ctx, "users.search", map[string]any{"s": "ann.ph"}); r.code() != 0 || json.Unmarshal(r.Env.Data, &found) != nil || len(found) != 1 || len(found[0].Photos) != 2 {
				t.Fatalf("search: %v", r)
			}
			// A photo is served to signed-in users, not to anonymous ones.
			if resp, body := getFile(t, g, me.Photos[0].URL, bobTok); resp.StatusCode != 200 || !bytes.Equal(body, pngFile) {
				t.Fatalf("bob reads ann's photo: %d", resp.StatusCode)
			}
			if resp, _ := getFile(t, g, me.Photos[0].URL, ""); resp.StatusCode != 404 {
				t.Fatalf("anonymous read of a photo: %d", resp.StatusCode)
			}
			// Privacy mode hides the photos.
			if _, err := g.Store().UpdateProfile(ctx, ann.ID, func(p store.Profile) (store.Profile, error) { p.PrivacyMode = 1; return p, nil }); err != nil {
				t.Fatal(err)
			}
			if resp, _ := getFile(t, g, me.Photos[0].URL, bobTok); resp.StatusCode != 404 {
				t.Fatalf("a private user's photo served: %d", resp.StatusCode)
			}
			if pub := userInfo(t, anon.withToken(bobTok).call(ctx, "users.get", map[string]string{"id": ann.ID}), "get private"); len(pub.Photos) != 0 {
				t.Fatalf("a private user's photos listed: %+v", pub.Photos)
			}
			if _, err := g.Store().UpdateProfile(ctx, ann.ID, func(p store.Profile) (store.Profile, error) { p.PrivacyMode = 0; return p, nil }); err != nil {
				t.Fatal(err)
			}

			// Delete: another user's photo is not found; the owner's goes with its file.
			mustCode(t, anon.withToken(bobTok).call(ctx, "users.me.photos.delete", map[string]string{"id": f1.ID}), int(fault.NotFound), "bob deletes ann's photo")
			rs, err := anon.withToken(annTok).batch(ctx,
				rpcBody("users.me.photos.delete", 1, map[string]string{"id": f1.ID}),
				rpcBody("users.me.photos.delete", 2, map[string]string{"id": f1.ID}),
				rpcBody("users.me", 3, nil))
			if err != nil || rs[0].code() != 0 || rs[1].code() != int(fault.NotFound) || rs[2].code() != 0 {
				t.Fatalf("delete batch: %v %v", rs, err)
			}
			if resp, _ := getFile(t, g, "/files/"+f1.ID, annTok); resp.StatusCode != 404 {
				t.Fatalf("the deleted photo's file is still served to its owner: %d", resp.StatusCode)
			}
			if _, err := g.Store().File(ctx, f1.ID); err == nil {
				t.Fatal("the deleted photo's file record remains")
			}
			// Path style.
			if r := anon.withToken(annTok).callPath(ctx, "users.me.photos.add", userswire.PhotosAddParams{Photo: userswire.PhotoRef{ID: createFile(t, g, annTok, webpFile).ID}}); r.code() != 0 {
				t.Fatalf("path-style photos.add: %v", r)
			}

			// users.me.delete removes the records and the blobs.
			mustCode(t, anon.withBasic("ann.photos", chatPassword).call(ctx, "users.me.delete", nil), 0, "delete ann")
			if resp, _ := getFile(t, g, "/files/"+f2.ID, bobTok); resp.StatusCode != 404 {
				t.Fatalf("a deleted user's photo is served: %d", resp.StatusCode)
			}
			if _, err := g.Store().File(ctx, f2.ID); err == nil {
				t.Fatal("a deleted user's file record remains")
			}
			for _, id := range []string{f1.ID, f2.ID} {
				if _, err := g.Files().Blobs.Get(ctx, files.BlobName(id), 1<<20); !errors.Is(err, files.ErrNoBlob) {
					t.Fatalf("blob %s after deletion: %v", id, err)
				}
			}
			if _, err := g.Files().Blobs.Get(ctx, files.BlobName(fb.ID), 1<<20); err != nil {
				t.Fatalf("bob's blob went with ann: %v", err)
			}
		})
	}
}

// TestSeed003SecondFactor: users.login and users.me.delete go through
// accounts.LogIn, so a user with 2FA on needs its code there too.
func TestSeed003SecondFactor(t *testing.T) {
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, looseRates)
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	u := chatRegister(t, anon, "Otto", "otto.two", "o1")
	app, _, _ := enrolOTP(t, g, clk, u.DeviceSession.AccessToken)
	login := func(code string) gwReply {
		return anon.withBasic("otto.two", chatPassword).call(ctx, "users.login", userswire.LoginParams{DeviceInfo: device("o2"), OTPCode: code})
	}
	mustCode(t, login(""), int(fault.OTPRequired), "login without a code")
	mustCode(t, login(app.wrong()), int(fault.OTPInvalid), "login with a wrong code")
	mustCode(t, login(app.fresh()), 0, "login with a fresh code")
	mustCode(t, anon.withBasic("otto.two", chatPassword).call(ctx, "users.me.delete", nil), int(fault.OTPRequired), "delete without a code")
	mustCode(t, anon.withBasic("otto.two", chatPassword).call(ctx, "users.me.delete", userswire.DeleteParams{OTPCode: app.fresh()}), 0, "delete with a fresh code")
}

// TestAccountDeletionRemovesBlobs: seed 000's deletion (code confirmed)
// removes the user's uploads, rows and blobs, like users.me.delete.
func TestAccountDeletionRemovesBlobs(t *testing.T) {
	g := mustRunMain(t, looseRates)
	ctx := context.Background()
	const email = "blobs-owner@example.com"
	_, tok := newVerifiedUser(t, g, email, strongPassword)
	f := createFile(t, g, tok, pngFile)
	user := apiCaller{base: g.URL}.withToken(tok)
	mustCode(t, user.call(ctx, "user.auth.delete", nil), 0, "delete")
	mustCode(t, user.call(ctx, "user.auth.delete_done", map[string]string{"code": outboxCode(t, g, email)}), 0, "delete_done")
	if _, err := g.Store().File(ctx, f.ID); err == nil {
		t.Fatal("the file record outlived its user")
	}
	if _, err := g.Files().Blobs.Get(ctx, files.BlobName(f.ID), 1<<20); !errors.Is(err, files.ErrNoBlob) {
		t.Fatalf("the blob outlived its user: %v", err)
	}
}
