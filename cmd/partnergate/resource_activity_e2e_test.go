package main

import (
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/identity/identitywire"
	"partnergate/methods/resource/resourcewire"
)

func TestSeed002ResourceActivity(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			_, tok := g.RegisterUser(t, "act@example.com", strongPassword)
			c := g.Client().WithToken(tok)
			wantBarong(t, "wrong password", g.Call(t, "identity.sessions.create", map[string]string{"email": "act@example.com", "password": "not it at all"}), fault.WrongCredentials, "")
			s := decodeData[identitywire.Session](t, "login", g.Call(t, "identity.sessions.create", map[string]string{"email": "act@example.com", "password": strongPassword}))
			if e := g.CallAs(t, g.Client().WithToken(s.Token), "identity.sessions.delete", nil); e.Error.Status {
				t.Fatalf("logout: %+v", e.Error)
			}
			const next = "a second long passphrase"
			if e := g.CallAs(t, c, "resource.users.password.update", map[string]string{"old_password": strongPassword, "new_password": next, "confirm_password": next}); e.Error.Status {
				t.Fatalf("password: %+v", e.Error)
			}
			if e := g.CallAs(t, c, "resource.profiles.create", map[string]any{"city": "Bern"}); e.Error.Status {
				t.Fatalf("profile: %+v", e.Error)
			}
			if e := g.CallAs(t, c, "resource.labels.create", map[string]string{"key": "color", "value": "red"}); e.Error.Status {
				t.Fatalf("label: %+v", e.Error)
			}

			list := func(p map[string]any) []resourcewire.Activity {
				t.Helper()
				return decodeData[[]resourcewire.Activity](t, "activity", g.CallAs(t, c, "resource.users.activity.list", p))
			}
			count := map[string]int{}
			for _, a := range list(map[string]any{"topic": "session"}) {
				if a.Topic != "session" || a.UserIP != "127.0.0.1" {
					t.Errorf("entry %+v", a)
				}
				count[a.Action+"/"+a.Result]++
			}
			if count["login/succeed"] != 1 || count["login/failed"] != 1 || count["logout/succeed"] != 1 {
				t.Fatalf("session trail %v", count)
			}
			pw := list(map[string]any{"topic": "password"})
			if len(pw) != 1 || pw[0].Action != "change" || pw[0].Result != "succeed" {
				t.Fatalf("password trail %+v", pw)
			}
			all := list(map[string]any{"topic": "all"})
			topics := map[string]bool{}
			for _, a := range all {
				topics[a.Topic] = true
				if strings.Contains(a.Data, strongPassword) || strings.Contains(a.Data, next) {
					t.Fatalf("secret in the trail: %s", a.Data)
				}
			}
			for _, want := range []string{"session", "password", "profile", "label", "account"} {
				if !topics[want] {
					t.Errorf("no %s entry in %v", want, topics)
				}
			}
			// Pages: newest first, page 2 of limit 1 is the second newest.
			p1 := list(map[string]any{"topic": "all", "limit": 1})
			p2 := list(map[string]any{"topic": "all", "limit": 1, "page": 2})
			if len(p1) != 1 || len(p2) != 1 || p1[0] != all[0] || p2[0] != all[1] {
				t.Fatalf("pages %+v %+v, all %+v", p1, p2, all[:2])
			}
			if far := list(map[string]any{"topic": "all", "limit": 100, "page": 5}); len(far) != 0 {
				t.Fatalf("page past the end %+v", far)
			}
			rs := g.Batch(t, tok,
				testkit.Req("resource.users.activity.list", 1, map[string]any{"topic": "everything"}),
				testkit.Req("resource.users.activity.list", 2, map[string]any{"topic": "all", "limit": 101}),
				testkit.Req("resource.users.activity.list", 3, map[string]any{"topic": "all", "page": -1}),
				testkit.Req("resource.users.activity.list", 4, map[string]any{"topic": "label"}))
			wantBarong(t, "wrong topic", rs[0], fault.Invalid, "resource.user.wrong_topic")
			wantBarong(t, "limit", rs[1], fault.Invalid, "")
			wantBarong(t, "page", rs[2], fault.Invalid, "")
			if ls := decodeData[[]resourcewire.Activity](t, "labels", rs[3]); len(ls) != 1 || ls[0].Action != "create" {
				t.Fatalf("label trail %+v", ls)
			}
			// Another user sees only its own trail.
			_, tokB := g.RegisterUser(t, "act2@example.com", strongPassword)
			other := decodeData[[]resourcewire.Activity](t, "other", g.CallAs(t, g.Client().WithToken(tokB), "resource.users.activity.list", map[string]any{"topic": "password"}))
			if len(other) != 0 {
				t.Fatalf("another user's trail: %+v", other)
			}
		})
	}
}
