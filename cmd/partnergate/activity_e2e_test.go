package main

import (
	"path/filepath"
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/core/geo/geotest"
	"partnergate/internal/testkit"
	"partnergate/methods/account/accountwire"
	"partnergate/store"
)

// TestActivityTrail: logins in two dialects, a wrong password and a
// reused refresh token land in the one trail with the caller's IP, its
// country from the configured database, and no secret.
func TestActivityTrail(t *testing.T) {
	mmdb := filepath.Join(t.TempDir(), "world.mmdb")
	if err := geotest.Write(mmdb, geotest.Default); err != nil {
		t.Fatal(err)
	}
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_GEOIP_DB": mmdb}
			for k, v := range b.Env {
				env[k] = v
			}
			g := testkit.MustRunMain(t, testkit.Env(env))
			const email, pw = "trail@example.com", "correct horse battery staple"
			id, _ := g.RegisterUser(t, email, pw)
			tk := accountLogin(t, g, email, pw)
			if e := g.Call(t, "identity.sessions.create", map[string]string{"email": email, "password": "wrong password here"}); !e.Error.Status {
				t.Fatal("wrong password accepted")
			}
			if e := g.Call(t, "identity.sessions.create", map[string]string{"email": email, "password": pw}); e.Error.Status {
				t.Fatalf("identity login: %+v", e.Error)
			}
			if e := g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT}); e.Error.Status {
				t.Fatalf("refresh: %+v", e.Error)
			}
			wantEnvCode(t, "reuse", g.Call(t, "account.refresh", accountwire.RefreshParams{RT: tk.RT}), fault.RefreshTokenReused)

			got, err := g.Activity().List(t.Context(), store.ActivityFilter{UserID: id, Topic: "session"})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, a := range got {
				count[a.Action+"/"+a.Result]++
				if a.IP != "127.0.0.1" || a.Country != "CH" || a.Category != store.CategoryUser {
					t.Errorf("entry %+v", a)
				}
				if strings.Contains(a.Data, pw) || strings.Contains(a.Data, tk.RT) {
					t.Errorf("secret in the trail: %s", a.Data)
				}
			}
			if count["login/succeed"] != 2 || count["login/failed"] != 1 || count["refresh_reused/denied"] != 1 {
				t.Errorf("trail %v", count)
			}
		})
	}
}
