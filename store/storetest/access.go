package storetest

import (
	"errors"
	"testing"

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
