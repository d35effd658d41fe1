package testkit_test

import (
	"testing"

	"partnergate/internal/testkit"
)

// TestKit runs each helper once on every backend, so a broken fixture
// shows here rather than as a puzzling failure in a namespace's test.
func TestKit(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := testkit.MustRunMain(t, testkit.Env(b.Env))
			const email, pw = "Kit@Example.com", "correct horse battery staple"
			id, token := g.RegisterUser(t, email, pw)
			if r := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil); r.Error.Status {
				t.Fatalf("check: %+v", r.Error)
			}
			if tok := g.Login(t, email, pw); tok == "" || tok == token {
				t.Fatalf("login token %q", tok)
			}
			if r := g.Call(t, "user.auth.login", map[string]string{"login": email, "password": "not the password"}); !r.Error.Status || r.Error.Code == 0 {
				t.Fatalf("wrong password: %+v", r.Error)
			}
			p := g.Partner(t, "auth")
			if r := g.CallAs(t, p, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": pw}); r.Error.Status {
				t.Fatalf("signed call: %+v", r.Error)
			}
			rs := g.Batch(t, token, testkit.Req("system.ping", 1, nil), testkit.Req("user.auth.check", 2, nil))
			if len(rs) != 2 || rs[0].Error.Status || rs[1].Error.Status {
				t.Fatalf("batch: %+v", rs)
			}
			if ms := g.Outbox(t, "kit@example.com"); len(ms) != 1 {
				t.Fatalf("outbox: %d messages", len(ms))
			}
			if n, err := g.Store().CountUsers(t.Context()); err != nil || n != 1 || id == "" {
				t.Fatalf("users %d %v", n, err)
			}
		})
	}
}

func TestPostgresOption(t *testing.T) {
	g := testkit.MustRunMain(t, testkit.Postgres())
	if g.Config.DatabaseURL == "" || g.Config.RedisURL == "" {
		t.Fatalf("not on real services: %q %q", g.Config.DatabaseURL, g.Config.RedisURL)
	}
	if r := g.Call(t, "system.ping", nil); r.Error.Status {
		t.Fatalf("ping: %+v", r.Error)
	}
}
