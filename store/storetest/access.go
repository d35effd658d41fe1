package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"partnergate/store"
)

// testAccess checks roles, permissions and restrictions: the shipped
// defaults, CRUD, the uniqueness and role rules, and that a failing update
// function changes nothing.
func testAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	roles, err := s.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) < 7 || roles[0].Name != "superadmin" || roles[len(roles)-1].Name != "member" {
		t.Fatalf("default roles: %+v", roles)
	}
	perms, err := s.Permissions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) < 40 {
		t.Fatalf("only %d default permissions", len(perms))
	}
	p, err := s.CreatePermission(ctx, store.Permission{Role: "member", Verb: "GET", Path: "/admin/levels", Action: store.ActionAccept})
	if err != nil || p.ID == 0 || p.Created.IsZero() {
		t.Fatalf("create: %+v %v", p, err)
	}
	if _, err := s.CreatePermission(ctx, store.Permission{Role: "member", Verb: "GET", Path: "/admin/levels", Action: store.ActionAccept}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := s.CreatePermission(ctx, store.Permission{Role: "nobody", Verb: "GET", Path: "/x", Action: store.ActionAccept}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := s.CreatePermission(ctx, store.Permission{Role: "member", Verb: "FOO", Path: "/x", Action: store.ActionAccept}); err == nil {
		t.Fatal("verb FOO stored")
	}
	boom := errors.New("boom")
	if _, err := s.UpdatePermission(ctx, p.ID, func(q store.Permission) (store.Permission, error) { return q, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	up, err := s.UpdatePermission(ctx, p.ID, func(q store.Permission) (store.Permission, error) {
		q.Action, q.Topic = store.ActionDrop, "levels"
		return q, nil
	})
	if err != nil || up.Action != store.ActionDrop || up.Topic != "levels" || up.Role != "member" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := s.UpdatePermission(ctx, p.ID, func(q store.Permission) (store.Permission, error) { q.Role = "nobody"; return q, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update to unknown role: %v", err)
	}
	if _, err := s.UpdatePermission(ctx, 1<<40, func(q store.Permission) (store.Permission, error) { return q, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if err := s.DeletePermission(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePermission(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}

	r, err := s.CreateRestriction(ctx, store.Restriction{Category: store.RestrictBlacklist, Scope: store.ScopeIPSubnet, Value: "2001:db8::/32", State: store.RestrictionEnabled})
	if err != nil || r.ID == 0 {
		t.Fatalf("create restriction: %+v %v", r, err)
	}
	if _, err := s.CreateRestriction(ctx, store.Restriction{Category: store.RestrictBlacklist, Scope: store.ScopeIPSubnet, Value: "2001:db8::/32", State: store.RestrictionDisabled}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate restriction: %v", err)
	}
	if _, err := s.CreateRestriction(ctx, store.Restriction{Category: "greylist", Scope: store.ScopeAll, Value: "all", State: store.RestrictionEnabled}); err == nil {
		t.Fatal("category greylist stored")
	}
	ur, err := s.UpdateRestriction(ctx, r.ID, func(x store.Restriction) (store.Restriction, error) {
		x.State = store.RestrictionDisabled
		return x, nil
	})
	if err != nil || ur.State != store.RestrictionDisabled || ur.Value != "2001:db8::/32" {
		t.Fatalf("update restriction: %+v %v", ur, err)
	}
	if _, err := s.UpdateRestriction(ctx, 1<<40, func(x store.Restriction) (store.Restriction, error) { return x, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing restriction: %v", err)
	}
	rs, err := s.Restrictions(ctx)
	if err != nil || len(rs) != 1 || rs[0].State != store.RestrictionDisabled {
		t.Fatalf("restrictions: %+v %v", rs, err)
	}
	if err := s.DeleteRestriction(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRestriction(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete restriction twice: %v", err)
	}
}

// testListUsers checks admin listing: filters, newest-first order and the
// keyset cursor.
func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := []string{"lu-01", "lu-02", "lu-03", "lu-04", "lu-05"}
	for i, id := range ids {
		u := fullUser(id)
		u.Role = []string{"", "admin", "", "support", ""}[i]
		u.Created = base.Add(time.Duration(i) * time.Hour)
		if i == 2 {
			u.State = store.StateDisabled
		}
		e := email(id)
		e.Verified = i%2 == 0
		if err := s.CreateUser(ctx, store.NewUser{User: u, Profile: store.Profile{FirstName: "F" + id, Sex: -1}, Identifiers: []store.Identifier{e}}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f store.UserFilter) []string {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		us, err := s.ListUsers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, u := range us {
			if len(u.Identifiers) != 1 {
				t.Fatalf("%s: identifiers %+v", u.ID, u.Identifiers)
			}
			out = append(out, u.ID)
		}
		return out
	}
	yes := true
	tests := []struct {
		f    store.UserFilter
		want string
	}{
		{store.UserFilter{}, "[lu-05 lu-04 lu-03 lu-02 lu-01]"},
		{store.UserFilter{Limit: 2}, "[lu-05 lu-04]"},
		{store.UserFilter{Limit: 2, Before: "lu-04"}, "[lu-03 lu-02]"},
		{store.UserFilter{Limit: 2, Offset: 4}, "[lu-01]"},
		{store.UserFilter{Role: "member"}, "[lu-05 lu-03 lu-01]"},
		{store.UserFilter{Role: "support"}, "[lu-04]"},
		{store.UserFilter{State: store.StateDisabled}, "[lu-03]"},
		{store.UserFilter{Email: "lu-02@example.com"}, "[lu-02]"},
		{store.UserFilter{EmailVerified: &yes}, "[lu-05 lu-03 lu-01]"},
		{store.UserFilter{FirstName: "Flu-04"}, "[lu-04]"},
		{store.UserFilter{CreatedFrom: base.Add(time.Hour), CreatedTo: base.Add(3 * time.Hour)}, "[lu-03 lu-02]"},
		{store.UserFilter{Role: "member", Before: "lu-03"}, "[lu-01]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(list(tt.f)); got != tt.want {
			t.Errorf("ListUsers(%+v) = %s, want %s", tt.f, got, tt.want)
		}
	}
	if _, err := s.ListUsers(ctx, store.UserFilter{Limit: 1001}); err == nil {
		t.Error("limit 1001 accepted")
	}
	n, err := s.CountUsersSince(ctx, base, base.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("CountUsersSince = %d, %v", n, err)
	}
}

func testCountActivities(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateUser(ctx, store.NewUser{User: fullUser("ca-u1"), Identifiers: []store.Identifier{email("ca-u1")}}); err != nil {
		t.Fatal(err)
	}
	for i, res := range []string{store.ResultSucceed, store.ResultFailed, store.ResultFailed} {
		if _, err := s.AddActivity(ctx, store.Activity{UserID: "ca-u1", Actor: "user:ca-u1", Category: store.CategoryUser,
			Topic: "session", Action: "login", Result: res, Created: base.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	f := store.ActivityFilter{Topic: "session", Action: "login", Result: store.ResultFailed}
	if n, err := s.CountActivities(ctx, f); err != nil || n != 2 {
		t.Fatalf("failed logins = %d, %v", n, err)
	}
	f.Since, f.Until = base.Add(time.Hour), base.Add(2*time.Hour)
	if n, err := s.CountActivities(ctx, f); err != nil || n != 1 {
		t.Fatalf("failed logins in the hour = %d, %v", n, err)
	}
}

func testUsersByLabel(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"ul-1", "ul-2", "ul-3"} {
		if err := s.CreateUser(ctx, store.NewUser{User: fullUser(id), Identifiers: []store.Identifier{email(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id, key, value, scope string) {
		t.Helper()
		if _, err := s.PutLabel(ctx, store.Label{UserID: id, Key: key, Value: value, Scope: scope}); err != nil {
			t.Fatal(err)
		}
	}
	put("ul-1", "tier", "gold", "private")
	put("ul-1", "tier", "gold", "public")
	put("ul-2", "tier", "gold", "public")
	put("ul-3", "tier", "silver", "public")
	us, err := s.UsersByLabel(ctx, "tier", "gold", 0, 10)
	if err != nil || len(us) != 2 || us[0].ID != "ul-2" || us[1].ID != "ul-1" {
		t.Fatalf("gold users: %+v %v", us, err)
	}
	if us, _ := s.UsersByLabel(ctx, "tier", "gold", 1, 10); len(us) != 1 || us[0].ID != "ul-1" {
		t.Fatalf("offset 1: %+v", us)
	}
	kvs, err := s.LabelValues(ctx, 100)
	if err != nil || fmt.Sprint(kvs) != "[{tier gold} {tier silver}]" {
		t.Fatalf("label values: %v %v", kvs, err)
	}
}

func testKYCProfiles(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"kp-1", "kp-2", "kp-3"} {
		if err := s.CreateUser(ctx, store.NewUser{User: fullUser(id), Identifiers: []store.Identifier{email(id)}}); err != nil {
			t.Fatal(err)
		}
		if id == "kp-2" {
			continue
		}
		if _, _, err := s.PutKYCProfile(ctx, id, true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
			k.State = "submitted"
			return p, k, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := s.KYCProfiles(ctx, 0, 10)
	if err != nil || len(ks) != 2 || ks[0].UserID != "kp-3" || ks[1].UserID != "kp-1" {
		t.Fatalf("profiles: %+v %v", ks, err)
	}
	if ks, _ := s.KYCProfiles(ctx, 1, 10); len(ks) != 1 {
		t.Fatalf("offset: %+v", ks)
	}
	if _, err := s.KYCProfiles(ctx, 0, 0); err == nil {
		t.Fatal("limit 0 accepted")
	}
}
