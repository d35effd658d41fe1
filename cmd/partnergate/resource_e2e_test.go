package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/identity/identitywire"
	"partnergate/methods/resource/resourcewire"
	"partnergate/store"
)

func decodeData[T any](t *testing.T, what string, e testkit.Envelope) T {
	t.Helper()
	var v T
	if e.Error.Status {
		t.Fatalf("%s: %+v", what, e.Error)
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, e.Data)
	}
	return v
}

func TestSeed002ResourceUsers(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			_, tok := g.RegisterUser(t, "me@example.com", strongPassword)
			me := g.Client().WithToken(tok)

			u := decodeData[resourcewire.User](t, "me", g.CallAs(t, me, "resource.users.me", nil))
			if u.Email != "me@example.com" || u.Level != 1 || u.State != "active" || !regexp.MustCompile(`^ID[0-9A-F]{10}$`).MatchString(u.UID) {
				t.Fatalf("me %+v", u)
			}
			if e := g.Call(t, "resource.users.me", nil); e.Error.Code != int(fault.Unauthenticated) {
				t.Fatalf("anonymous me: %+v", e.Error)
			}

			t.Run("password.update", func(t *testing.T) {
				other := g.Login(t, "me@example.com", strongPassword)
				const next = "another fine passphrase here"
				for _, c := range []struct {
					p    map[string]string
					code fault.Code
					msg  string
				}{
					{map[string]string{"old_password": strongPassword, "new_password": next, "confirm_password": next + "x"}, fault.Invalid, "resource.password.doesnt_match"},
					{map[string]string{"old_password": strongPassword, "new_password": strongPassword, "confirm_password": strongPassword}, fault.Invalid, "resource.password.no_change_provided"},
					{map[string]string{"old_password": "not the password", "new_password": next, "confirm_password": next}, fault.WrongCredentials, "resource.password.prev_pass_not_correct"},
					{map[string]string{"old_password": strongPassword, "new_password": "password1", "confirm_password": "password1"}, fault.PasswordWeak, "password.weak"},
				} {
					wantBarong(t, c.msg, g.CallAs(t, me, "resource.users.password.update", c.p), c.code, c.msg)
				}
				g.Login(t, "me@example.com", strongPassword) // nothing changed
				rs := g.Batch(t, tok,
					testkit.Req("resource.users.password.update", 1, map[string]string{"old_password": strongPassword, "new_password": next, "confirm_password": next}),
					testkit.Req("resource.users.me", 2, nil))
				if rs[0].Error.Status || rs[1].Error.Status {
					t.Fatalf("batch: %+v / %+v", rs[0].Error, rs[1].Error)
				}
				// This session stays; the other one ended.
				if e := g.CallAs(t, g.Client().WithToken(other), "resource.users.me", nil); e.Error.Code != int(fault.SessionInvalid) {
					t.Fatalf("other session: %+v", e.Error)
				}
				g.Login(t, "me@example.com", next)
			})

			t.Run("me.delete", func(t *testing.T) {
				_, tok2 := g.RegisterUser(t, "gone@example.com", strongPassword)
				c := g.Client().WithToken(tok2)
				wantBarong(t, "wrong password", g.CallAs(t, c, "resource.users.me.delete", map[string]string{"password": "wrong password here"}),
					fault.WrongCredentials, "resource.user.invalid_password")
				if e := g.CallAs(t, c, "resource.users.me.delete", map[string]string{"password": strongPassword}); e.Error.Status {
					t.Fatalf("delete: %+v", e.Error)
				}
				if e := g.CallAs(t, c, "resource.users.me", nil); e.Error.Code != int(fault.SessionInvalid) {
					t.Fatalf("session after delete: %+v", e.Error)
				}
				// The account is gone in every dialect, and its address free again.
				wantBarong(t, "login after delete", g.Call(t, "identity.sessions.create", map[string]string{"email": "gone@example.com", "password": strongPassword}),
					fault.WrongCredentials, "identity.session.invalid_params")
				if e := g.Call(t, "identity.users.create", map[string]string{"email": "gone@example.com", "password": strongPassword}); e.Error.Status {
					t.Fatalf("address not freed: %+v", e.Error)
				}
			})
		})
	}
}

func TestSeed002ResourceProfiles(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			uid, tok := g.RegisterUser(t, "pro@example.com", strongPassword)
			c := g.Client().WithToken(tok)
			wantBarong(t, "no profile", g.CallAs(t, c, "resource.profiles.me", nil), fault.NotFound, "resource.profile.not_exist")
			wantBarong(t, "update none", g.CallAs(t, c, "resource.profiles.update", map[string]any{"city": "Utrecht"}), fault.NotFound, "resource.profile.doesnt_exist_or_not_editable")
			for _, bad := range []map[string]any{
				{"dob": "1990-13-01"}, {"dob": "2999-01-01"}, {"country": "N1"}, {"postcode": "12<3"},
				{"metadata": `{"a":{"b":1}}`}, {"first_name": "Ann\u0007"},
			} {
				wantBarong(t, fmt.Sprint(bad), g.CallAs(t, c, "resource.profiles.create", bad), fault.Invalid, "")
			}
			if e := g.CallAs(t, c, "resource.profiles.me", nil); e.Error.Code != int(fault.NotFound) {
				t.Fatalf("a refused create made a profile: %+v", e.Error)
			}
			p := decodeData[resourcewire.Profile](t, "create", g.CallAs(t, c, "resource.profiles.create", map[string]any{
				"first_name": "Ann", "last_name": "Lee", "dob": "1990-02-28", "address": "Main st 1", "postcode": "1011 AB",
				"city": "Amsterdam", "country": "nl", "metadata": `{"tier":"gold"}`}))
			if p.State != "drafted" || p.Country != "NL" || p.Address != "Main st 1" || string(p.Metadata) != `{"tier":"gold"}` {
				t.Fatalf("created %+v", p)
			}
			wantBarong(t, "create twice", g.CallAs(t, c, "resource.profiles.create", map[string]any{}), fault.ProfileExists, "resource.profile.exist")
			// One profile: seed 001's names and seed 000's settings see the same first name and birthday.
			set := g.CallAs(t, c, "user.settings.get", nil)
			if set.Error.Status || !strings.Contains(string(set.Data), `"Ann"`) {
				t.Fatalf("seed 000 view: %+v %s", set.Error, set.Data)
			}
			// PII at rest is sealed.
			if k, err := g.Store().KYCProfile(t.Context(), uid); err != nil || strings.Contains(k.Address, "Main") || k.Address == "" || strings.Contains(k.Metadata, "gold") {
				t.Fatalf("at rest %+v %v", k, err)
			}
			rs := g.Batch(t, tok,
				testkit.Req("resource.profiles.update", 1, map[string]any{"city": "Utrecht", "confirm": true}),
				testkit.Req("resource.profiles.update", 2, map[string]any{"city": "Delft"}),
				testkit.Req("resource.profiles.me", 3, nil))
			if rs[0].Error.Status || rs[1].Error.Code != int(fault.ProfileLocked) {
				t.Fatalf("batch %+v / %+v", rs[0].Error, rs[1].Error)
			}
			got := decodeData[resourcewire.Profile](t, "me", rs[2])
			if got.City != "Utrecht" || got.State != "submitted" || got.FirstName != "Ann" {
				t.Fatalf("me %+v", got)
			}
		})
	}
}

func TestSeed002ResourcePhones(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env), testkit.Env(map[string]string{"PARTNERGATE_MAX_PHONES": "2"}))
			_, tok := g.RegisterUser(t, "ph@example.com", strongPassword)
			c := g.Client().WithToken(tok)
			const num = "+31612345678"
			wantBarong(t, "invalid", g.CallAs(t, c, "resource.phones.create", map[string]string{"phone_number": "12345"}), fault.PhoneInvalid, "resource.phone.invalid_num")
			wantBarong(t, "call", g.CallAs(t, c, "resource.phones.create", map[string]string{"phone_number": num, "channel": "call"}), fault.Invalid, "")
			if e := g.CallAs(t, c, "resource.phones.create", map[string]string{"phone_number": "+31 6 1234 5678"}); e.Error.Status {
				t.Fatalf("create: %+v", e.Error)
			}
			code := g.Code(t, num)
			wantBarong(t, "twice", g.CallAs(t, c, "resource.phones.create", map[string]string{"phone_number": num}), fault.AlreadyExists, "resource.phone.exists")
			e := g.CallAs(t, c, "resource.phones.send_code", map[string]string{"phone_number": num})
			if e.Error.Code != int(fault.Throttled) || e.Error.RetryAfter <= 0 {
				t.Fatalf("resend within 90 s: %+v", e.Error)
			}
			wantBarong(t, "not mine", g.CallAs(t, c, "resource.phones.send_code", map[string]string{"phone_number": "+31612345670"}), fault.NotFound, "resource.phone.doesnt_exist")
			wantBarong(t, "wrong code", g.CallAs(t, c, "resource.phones.verify", map[string]string{"phone_number": num, "verification_code": "12345"}), fault.CodeInvalid, "resource.phone.verification_invalid")

			// Verified twice in parallel: one success.
			var wg sync.WaitGroup
			results := make([]testkit.Envelope, 8)
			for i := range results {
				wg.Go(func() {
					results[i] = g.CallAs(t, c, "resource.phones.verify", map[string]string{"phone_number": num, "verification_code": code})
				})
			}
			wg.Wait()
			ok := 0
			for _, r := range results {
				switch {
				case !r.Error.Status:
					ok++
				case r.Error.Code != int(fault.CodeInvalid):
					t.Fatalf("parallel verify: %+v", r.Error)
				}
			}
			if ok != 1 {
				t.Fatalf("%d parallel verifies succeeded", ok)
			}
			ps := decodeData[[]resourcewire.Phone](t, "list", g.CallAs(t, c, "resource.phones.list", nil))
			if len(ps) != 1 || ps[0].Number != num || ps[0].Country != "NL" || ps[0].ValidatedAt == nil {
				t.Fatalf("phones %+v", ps)
			}
			if u := decodeData[resourcewire.User](t, "me", g.CallAs(t, c, "resource.users.me", nil)); u.Level != 2 {
				t.Fatalf("level after phone %d", u.Level)
			}
			// The same level wherever Barong's user object is shown.
			if s := decodeData[identitywire.Session](t, "login", g.Call(t, "identity.sessions.create", map[string]string{"email": "ph@example.com", "password": strongPassword})); s.Level != 2 {
				t.Fatalf("identity.sessions.create level %d", s.Level)
			}
			wantBarong(t, "resend verified", g.CallAs(t, c, "resource.phones.send_code", map[string]string{"phone_number": num}), fault.PhoneVerified, "")
			rs := g.Batch(t, tok,
				testkit.Req("resource.phones.create", 1, map[string]string{"phone_number": "+31612345679"}),
				testkit.Req("resource.phones.create", 2, map[string]string{"phone_number": "+31612345670"}))
			if rs[0].Error.Status || rs[1].Error.Code != int(fault.LimitReached) {
				t.Fatalf("cap: %+v / %+v", rs[0].Error, rs[1].Error)
			}
			// Another account may add the number, but proving it is refused:
			// one owner per verified number.
			_, tok2 := g.RegisterUser(t, "ph2@example.com", strongPassword)
			c2 := g.Client().WithToken(tok2)
			// The first account's code to this number is under 90 s old: held.
			if e := g.CallAs(t, c2, "resource.phones.create", map[string]string{"phone_number": num}); e.Error.Code != int(fault.Throttled) {
				t.Fatalf("second owner create: %+v", e.Error)
			}
			if err := g.Accounts().KV.Release(t.Context(), "phone:phone:"+num); err != nil {
				t.Fatal(err)
			}
			if e := g.CallAs(t, c2, "resource.phones.send_code", map[string]string{"phone_number": num}); e.Error.Status {
				t.Fatalf("second owner send_code: %+v", e.Error)
			}
			wantBarong(t, "second owner verify", g.CallAs(t, c2, "resource.phones.verify", map[string]string{"phone_number": num, "verification_code": g.Code(t, num)}),
				fault.AlreadyExists, "resource.phone.number_exist")
		})
	}
}

func TestSeed002ResourceLabels(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env), testkit.Env(map[string]string{"PARTNERGATE_MAX_LABELS": "2"}))
			uid, tok := g.RegisterUser(t, "lb@example.com", strongPassword)
			c := g.Client().WithToken(tok)
			for _, bad := range []struct {
				p   map[string]string
				msg string
			}{
				{map[string]string{"key": "has space", "value": "v"}, "key.invalid"},
				{map[string]string{"key": "ab", "value": "v"}, "key.invalid"},
				{map[string]string{"key": "UPPER", "value": "v"}, "key.invalid"},
				{map[string]string{"key": "color", "value": "not ok!"}, "value.invalid"},
			} {
				wantBarong(t, bad.p["key"], g.CallAs(t, c, "resource.labels.create", bad.p), fault.Invalid, bad.msg)
			}
			wantBarong(t, "reserved", g.CallAs(t, c, "resource.labels.create", map[string]string{"key": "email", "value": "verified"}), fault.LabelPrivate, "resource.labels.private")
			l := decodeData[resourcewire.Label](t, "create", g.CallAs(t, c, "resource.labels.create", map[string]string{"key": "color", "value": "red"}))
			if l.Scope != "public" || l.Key != "color" {
				t.Fatalf("%+v", l)
			}
			wantBarong(t, "twice", g.CallAs(t, c, "resource.labels.create", map[string]string{"key": "color", "value": "blue"}), fault.AlreadyExists, "key.taken")
			// A private label the system set: readable, not changeable.
			if _, err := g.Store().PutLabel(t.Context(), storeLabel(uid, "document", "verified")); err != nil {
				t.Fatal(err)
			}
			if got := decodeData[resourcewire.Label](t, "get private", g.CallAs(t, c, "resource.labels.get", map[string]string{"key": "document"})); got.Scope != "private" {
				t.Fatalf("%+v", got)
			}
			wantBarong(t, "update private", g.CallAs(t, c, "resource.labels.update", map[string]string{"key": "document", "value": "rejected"}), fault.LabelPrivate, "resource.labels.private")
			wantBarong(t, "delete private", g.CallAs(t, c, "resource.labels.delete", map[string]string{"key": "document"}), fault.LabelPrivate, "resource.labels.private")
			wantBarong(t, "get missing", g.CallAs(t, c, "resource.labels.get", map[string]string{"key": "nothere"}), fault.NotFound, "resource.label.doesnt_exist")
			rs := g.Batch(t, tok,
				testkit.Req("resource.labels.update", 1, map[string]string{"key": "color", "value": "blue"}),
				testkit.Req("resource.labels.create", 2, map[string]string{"key": "size", "value": "xl"}),
				testkit.Req("resource.labels.create", 3, map[string]string{"key": "third", "value": "x"}),
				testkit.Req("resource.labels.list", 4, nil))
			if rs[0].Error.Status || rs[1].Error.Status || rs[2].Error.Code != int(fault.LimitReached) {
				t.Fatalf("batch %+v / %+v / %+v", rs[0].Error, rs[1].Error, rs[2].Error)
			}
			if ls := decodeData[[]resourcewire.Label](t, "list", rs[3]); len(ls) != 3 {
				t.Fatalf("labels %+v", ls)
			}
			if e := g.CallAs(t, c, "resource.labels.delete", map[string]string{"key": "color"}); e.Error.Status {
				t.Fatalf("delete: %+v", e.Error)
			}
			wantBarong(t, "delete again", g.CallAs(t, c, "resource.labels.delete", map[string]string{"key": "color"}), fault.NotFound, "resource.label.doesnt_exist")
			// Another user's label answers as not found.
			_, tokB := g.RegisterUser(t, "lb2@example.com", strongPassword)
			wantBarong(t, "other user", g.CallAs(t, g.Client().WithToken(tokB), "resource.labels.get", map[string]string{"key": "size"}), fault.NotFound, "")
		})
	}
}

func storeLabel(userID, key, value string) store.Label {
	return store.Label{UserID: userID, Key: key, Value: value, Scope: store.ScopePrivate}
}
