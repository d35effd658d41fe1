package main

import (
	"context"
	"encoding/json"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/store"
)

// TestWritesReachTheSessionCheck: the user copy that session checks read
// (store/usercache, TTL 5 s) is cleared by every write path, not only the
// account core's. Each case first fills the copy with a session check, then
// writes the way one writer does (any service built on Main's store, the
// CLI) and requires the very next check to see the write: no waiting out the
// TTL.
func TestWritesReachTheSessionCheck(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, b.Env, looseRates)
			ctx := context.Background()
			fill := func(t *testing.T, tok string) {
				t.Helper()
				mustCode(t, apiCaller{base: g.URL}.withToken(tok).call(ctx, "user.auth.check", nil), 0, "check that fills the copy")
			}

			t.Run("role through the wired store", func(t *testing.T) {
				id, tok := newVerifiedUser(t, g, "copy-role-"+uniq()+"@example.com", strongPassword)
				fill(t, tok)
				if err := g.Store().SetUserRole(ctx, id, "admin"); err != nil {
					t.Fatal(err)
				}
				if u, _, err := g.Accounts().SessionUser(ctx, id); err != nil || u.Role != "admin" {
					t.Fatalf("session user after SetUserRole: role %q, %v; want admin", u.Role, err)
				}
			})

			t.Run("state through the wired store", func(t *testing.T) {
				id, tok := newVerifiedUser(t, g, "copy-state-"+uniq()+"@example.com", strongPassword)
				fill(t, tok)
				if _, err := g.Store().UpdateUser(ctx, id, func(u store.User) (store.User, error) {
					u.State = store.StateDisabled
					return u, nil
				}); err != nil {
					t.Fatal(err)
				}
				mustCode(t, apiCaller{base: g.URL}.withToken(tok).call(ctx, "user.auth.check", nil),
					int(fault.UserDisabled), "check after disabling")
			})

			t.Run("profile through the wired store", func(t *testing.T) {
				id, tok := newVerifiedUser(t, g, "copy-profile-"+uniq()+"@example.com", strongPassword)
				fill(t, tok)
				if _, err := g.Store().UpdateProfile(ctx, id, func(p store.Profile) (store.Profile, error) {
					p.FirstName = "Renamed"
					return p, nil
				}); err != nil {
					t.Fatal(err)
				}
				r := apiCaller{base: g.URL}.withToken(tok).call(ctx, "user.auth.check", nil)
				var o struct{ Name string }
				if r.code() != 0 || json.Unmarshal(r.Env.Data, &o) != nil || o.Name != "Renamed" {
					t.Fatalf("check after UpdateProfile: %v", r)
				}
			})

			t.Run("verification through the wired store", func(t *testing.T) {
				id, tok := newVerifiedUser(t, g, "copy-ident-"+uniq()+"@example.com", strongPassword)
				fill(t, tok)
				email := "copy-moved-" + uniq() + "@example.com"
				if err := g.Store().SetIdentifier(ctx, store.Identifier{UserID: id, Kind: store.KindEmail, Value: email, Norm: email}); err != nil {
					t.Fatal(err)
				}
				mustCode(t, apiCaller{base: g.URL}.withToken(tok).call(ctx, "user.auth.check", nil),
					int(fault.EmailNotVerified), "check after an unverified email")
			})

			t.Run("deletion through the wired store", func(t *testing.T) {
				id, tok := newVerifiedUser(t, g, "copy-gone-"+uniq()+"@example.com", strongPassword)
				fill(t, tok)
				if err := g.Store().DeleteUser(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, _, err := g.Accounts().SessionUser(ctx, id); fault.CodeOf(err) != fault.NotFound {
					t.Fatalf("session user after DeleteUser: %v, want not found", err)
				}
			})

			t.Run("role through the CLI", func(t *testing.T) {
				if b.Name == "embedded" {
					t.Skip("the CLI cannot reach an in-process Redis; there the copy lives out its TTL")
				}
				email := "copy-cli-" + uniq() + "@example.com"
				id, tok := newVerifiedUser(t, g, email, strongPassword)
				fill(t, tok)
				// Each SessionUser below refills the copy the next grant must clear.
				env := mergeEnv(b.Env, map[string]string{"PARTNERGATE_DATA_DIR": g.Config.DataDir})
				if code, out, errOut := runCLI(env, "users", "grant", "--email", email, "--role", "admin"); code != 0 {
					t.Fatalf("users grant: %d %s %s", code, out, errOut)
				}
				if u, _, err := g.Accounts().SessionUser(ctx, id); err != nil || u.Role != "admin" {
					t.Fatalf("session user after users grant: role %q, %v; want admin", u.Role, err)
				}
				if code, out, errOut := runCLI(env, "users", "grant", "--email", email, "--role", ""); code != 0 {
					t.Fatalf("users grant --role '': %d %s %s", code, out, errOut)
				}
				if u, _, err := g.Accounts().SessionUser(ctx, id); err != nil || u.Role != "" {
					t.Fatalf("session user after the role is removed: role %q, %v; want none", u.Role, err)
				}
			})
		})
	}
}
