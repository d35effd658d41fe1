package main

// Seed 002's admin side end to end: roles and permission rows enforced for
// every namespace, restrictions before every call, 2FA for admins, the
// admin methods over real JSON, single and batched, on the embedded store
// and on PostgreSQL + Redis.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/admin/adminwire"
	"partnergate/store"
)

// adminEnv is what every admin test gateway runs with: X-Forwarded-For
// believed from loopback (so a test can call from chosen addresses) and
// rates out of the way.
func adminEnv(b testkit.Backend) map[string]string {
	return mergeEnv(b.Env, looseRates, trustLoopback)
}

func wantCode(t *testing.T, what string, r gwReply, code int) json.RawMessage {
	t.Helper()
	if r.code() != code {
		t.Fatalf("%s: want code %d, got %v", what, code, r)
	}
	return r.Env.Data
}

func decodeInto[T any](t *testing.T, what string, r gwReply) T {
	t.Helper()
	var v T
	data := wantCode(t, what, r, 0)
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, data)
	}
	return v
}

func uidOf(t *testing.T, g *testkit.Gateway, id string) string {
	t.Helper()
	u, err := g.Store().UserByID(context.Background(), id)
	if err != nil || u.UID == "" {
		t.Fatalf("uid of %s: %+v %v", id, u, err)
	}
	return u.UID
}

// newAdmin registers a user, gives it role (as `partnergate users grant`
// does) and turns its 2FA on; it returns the id and a session token.
func newAdmin(t *testing.T, g *testkit.Gateway, clk *otpClock, email, role string) (string, string) {
	t.Helper()
	id, _ := newVerifiedUser(t, g, email, strongPassword)
	if err := g.Store().SetUserRole(context.Background(), id, role); err != nil {
		t.Fatal(err)
	}
	// A role change ends sessions: log in again under the new role.
	tok := g.Login(t, email, strongPassword)
	enrolOTP(t, g, clk, tok)
	return id, tok
}

func TestAdminSide(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { testAdminSide(t, b) })
	}
}

func testAdminSide(t *testing.T, b testkit.Backend) {
	ctx := context.Background()
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, adminEnv(b))
	anon := apiCaller{base: g.URL}

	memberID, memberTok := newVerifiedUser(t, g, "adm-member@example.com", strongPassword)
	member := anon.withToken(memberTok)
	rootID, rootTok := newAdmin(t, g, clk, "adm-root@example.com", "superadmin")
	root := anon.withToken(rootTok)
	memberUID, rootUID := uidOf(t, g, memberID), uidOf(t, g, rootID)

	t.Run("members keep their methods and are refused admin.*", func(t *testing.T) {
		wantCode(t, "member user.settings.get", member.call(ctx, "user.settings.get", nil), 0)
		wantCode(t, "member identity.sessions.delete probe", member.call(ctx, "account.whoAmI", nil), 0)
		for _, m := range []string{"admin.users.list", "admin.permissions.list", "admin.levels.list", "admin.metrics"} {
			wantCode(t, "member "+m, member.call(ctx, m, nil), int(fault.Forbidden))
		}
		wantCode(t, "anonymous admin.users.list", anon.call(ctx, "admin.users.list", nil), int(fault.Unauthenticated))
	})

	t.Run("admins need 2FA", func(t *testing.T) {
		id, _ := newVerifiedUser(t, g, "adm-no2fa@example.com", strongPassword)
		if err := g.Store().SetUserRole(ctx, id, "superadmin"); err != nil {
			t.Fatal(err)
		}
		tok := g.Login(t, "adm-no2fa@example.com", strongPassword)
		wantCode(t, "superadmin without 2FA", anon.withToken(tok).call(ctx, "admin.levels.list", nil), int(fault.TwoFactorRequired))
		// Still a user: its own methods work.
		wantCode(t, "its own settings", anon.withToken(tok).call(ctx, "user.settings.get", nil), 0)
	})

	t.Run("levels", func(t *testing.T) {
		lv := decodeInto[[]adminwire.Level](t, "levels", root.call(ctx, "admin.levels.list", nil))
		if len(lv) != 3 || lv[0].Key != "email" {
			t.Fatalf("levels: %+v", lv)
		}
	})

	t.Run("permissions: DROP beats ACCEPT, in force at once, bad input refused", func(t *testing.T) {
		wantCode(t, "metrics before", root.call(ctx, "admin.metrics", nil), 0)
		p := decodeInto[adminwire.Permission](t, "create DROP", root.call(ctx, "admin.permissions.create",
			map[string]string{"role": "superadmin", "verb": "get", "path": "api/v2/barong/admin/metrics", "action": "drop"}))
		if p.Path != "/admin/metrics" || p.Verb != "GET" || p.Action != "DROP" {
			t.Fatalf("normalised row: %+v", p)
		}
		wantCode(t, "metrics under DROP", root.call(ctx, "admin.metrics", nil), int(fault.Forbidden))
		wantCode(t, "levels untouched", root.call(ctx, "admin.levels.list", nil), 0)
		up := decodeInto[adminwire.Permission](t, "update to POST", root.call(ctx, "admin.permissions.update",
			map[string]any{"id": p.ID, "verb": "POST"}))
		if up.Verb != "POST" || up.Path != "/admin/metrics" {
			t.Fatalf("updated: %+v", up)
		}
		wantCode(t, "metrics after update", root.call(ctx, "admin.metrics", nil), 0)
		wantCode(t, "delete", root.call(ctx, "admin.permissions.delete", map[string]any{"id": p.ID}), 0)
		wantCode(t, "delete twice", root.call(ctx, "admin.permissions.delete", map[string]any{"id": p.ID}), int(fault.NotFound))

		before := decodeInto[adminwire.PermissionList](t, "list", root.call(ctx, "admin.permissions.list", map[string]int{"limit": 5}))
		if before.Total < 40 || len(before.Permissions) != 5 {
			t.Fatalf("list: total %d, %d rows", before.Total, len(before.Permissions))
		}
		bad := []struct {
			params map[string]string
			code   fault.Code
		}{
			{map[string]string{"role": "member", "verb": "FOO", "path": "/admin", "action": "ACCEPT"}, fault.Invalid},
			{map[string]string{"role": "wizard", "verb": "GET", "path": "/admin", "action": "ACCEPT"}, fault.RoleUnknown},
			{map[string]string{"role": "member", "verb": "GET", "path": "/admin/{uid}", "action": "ACCEPT"}, fault.Invalid},
			{map[string]string{"role": "member", "verb": "GET", "path": "/admin", "action": "MAYBE"}, fault.Invalid},
			{map[string]string{"role": "member", "verb": "ALL", "path": "/user", "action": "ACCEPT"}, fault.AlreadyExists},
		}
		for _, tt := range bad {
			wantCode(t, fmt.Sprint("create ", tt.params), root.call(ctx, "admin.permissions.create", tt.params), int(tt.code))
		}
		after := decodeInto[adminwire.PermissionList](t, "list", root.call(ctx, "admin.permissions.list", nil))
		if after.Total != before.Total {
			t.Fatalf("bad input changed the rows: %d then %d", before.Total, after.Total)
		}
		// A member's own namespace dropped for members: refused at once.
		drop := decodeInto[adminwire.Permission](t, "drop user.settings", root.call(ctx, "admin.permissions.create",
			map[string]string{"role": "member", "verb": "ALL", "path": "/user/settings", "action": "DROP"}))
		wantCode(t, "member settings dropped", member.call(ctx, "user.settings.get", nil), int(fault.Forbidden))
		wantCode(t, "member check still fine", member.call(ctx, "user.auth.check", nil), 0)
		wantCode(t, "undrop", root.call(ctx, "admin.permissions.delete", map[string]any{"id": drop.ID}), 0)
		wantCode(t, "member settings back", member.call(ctx, "user.settings.get", nil), 0)
	})

	t.Run("restrictions", func(t *testing.T) {
		bad, good := testIP(), testIP()
		from := func(ip string) apiCaller { return anon.withXFF(ip) }
		r := decodeInto[adminwire.Restriction](t, "blacklist ip", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "blacklist", "scope": "ip", "value": bad}))
		wantCode(t, "blacklisted ping", from(bad).call(ctx, "system.ping", nil), int(fault.Restricted))
		wantCode(t, "blacklisted user call", member.withXFF(bad).call(ctx, "user.settings.get", nil), int(fault.Restricted))
		wantCode(t, "other ping", from(good).call(ctx, "system.ping", nil), 0)
		// Whitelist beats blacklist.
		w := decodeInto[adminwire.Restriction](t, "whitelist subnet", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "whitelist", "scope": "ip_subnet", "value": bad + "/32"}))
		wantCode(t, "whitelisted ping", from(bad).call(ctx, "system.ping", nil), 0)
		wantCode(t, "drop whitelist", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": w.ID}), 0)
		wantCode(t, "disable blacklist", root.call(ctx, "admin.restrictions.update", map[string]any{"id": r.ID, "state": "disabled"}), 0)
		wantCode(t, "disabled blacklist", from(bad).call(ctx, "system.ping", nil), 0)
		wantCode(t, "delete blacklist", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": r.ID}), 0)

		// blocklogin refuses only the methods that open a session.
		bl := decodeInto[adminwire.Restriction](t, "blocklogin v6", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "blocklogin", "scope": "ip_subnet", "value": "2001:db8:77::/48"}))
		v6 := "2001:db8:77::5"
		wantCode(t, "login from blocked", from(v6).call(ctx, "user.auth.login", map[string]string{"login": "adm-member@example.com", "password": strongPassword}), int(fault.LoginRestricted))
		wantCode(t, "identity login from blocked", from(v6).call(ctx, "identity.sessions.create", map[string]string{"email": "adm-member@example.com", "password": strongPassword}), int(fault.LoginRestricted))
		wantCode(t, "ping from blocked", from(v6).call(ctx, "system.ping", nil), 0)
		wantCode(t, "session call from blocked", member.withXFF(v6).call(ctx, "user.settings.get", nil), 0)
		wantCode(t, "login elsewhere", from("2001:db8:78::5").call(ctx, "user.auth.login", map[string]string{"login": "adm-member@example.com", "password": strongPassword}), 0)
		wantCode(t, "drop blocklogin", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": bl.ID}), 0)

		// Maintenance: refused unless the admin is whitelisted first.
		wantCode(t, "maintenance locking the admin out", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "maintenance", "scope": "all", "value": "all"}), int(fault.RestrictionLocksOut))
		self := decodeInto[adminwire.Restriction](t, "whitelist loopback", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "whitelist", "scope": "ip", "value": "127.0.0.1"}))
		mt := decodeInto[adminwire.Restriction](t, "maintenance", root.call(ctx, "admin.restrictions.create",
			map[string]string{"category": "maintenance", "scope": "all", "value": "all"}))
		wantCode(t, "others under maintenance", from(good).call(ctx, "system.ping", nil), int(fault.Maintenance))
		wantCode(t, "admin under maintenance", root.call(ctx, "admin.levels.list", nil), 0)
		wantCode(t, "dropping own whitelist", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": self.ID}), int(fault.RestrictionLocksOut))
		list := decodeInto[adminwire.RestrictionList](t, "list", root.call(ctx, "admin.restrictions.list", map[string]string{"category": "maintenance"}))
		if list.Total != 1 || list.Restrictions[0].ID != mt.ID {
			t.Fatalf("maintenance list: %+v", list)
		}
		wantCode(t, "end maintenance", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": mt.ID}), 0)
		wantCode(t, "drop own whitelist", root.call(ctx, "admin.restrictions.delete", map[string]any{"id": self.ID}), 0)
		wantCode(t, "after maintenance", from(good).call(ctx, "system.ping", nil), 0)

		for _, tt := range []struct {
			p    map[string]string
			code fault.Code
		}{
			{map[string]string{"category": "blacklist", "scope": "ip_subnet", "value": "10.0.0.0/33"}, fault.RestrictionInvalid},
			{map[string]string{"category": "blacklist", "scope": "ip", "value": "10.0.0.256"}, fault.RestrictionInvalid},
			{map[string]string{"category": "blacklist", "scope": "country", "value": "CH"}, fault.GeoUnavailable},
			{map[string]string{"category": "greylist", "scope": "ip", "value": "10.0.0.1"}, fault.Invalid},
		} {
			wantCode(t, fmt.Sprint("create ", tt.p), root.call(ctx, "admin.restrictions.create", tt.p), int(tt.code))
		}
		if l := decodeInto[adminwire.RestrictionList](t, "list", root.call(ctx, "admin.restrictions.list", nil)); l.Total != 0 {
			t.Fatalf("left over: %+v", l)
		}
	})

	t.Run("users list, get, update, role", func(t *testing.T) {
		l := decodeInto[adminwire.UserList](t, "by email", root.call(ctx, "admin.users.list", map[string]string{"email": "ADM-member@example.com"}))
		if len(l.Users) != 1 || l.Users[0].UID != memberUID || l.Users[0].Role != "member" {
			t.Fatalf("by email: %+v", l)
		}
		l = decodeInto[adminwire.UserList](t, "by role", root.call(ctx, "admin.users.list", map[string]string{"role": "superadmin"}))
		if len(l.Users) != 2 {
			t.Fatalf("superadmins: %+v", l)
		}
		p1 := decodeInto[adminwire.UserList](t, "page 1", root.call(ctx, "admin.users.list", map[string]int{"limit": 1}))
		if len(p1.Users) != 1 || p1.NextCursor == "" {
			t.Fatalf("page 1: %+v", p1)
		}
		p2 := decodeInto[adminwire.UserList](t, "cursor", root.call(ctx, "admin.users.list", map[string]any{"limit": 1, "cursor": p1.NextCursor}))
		if len(p2.Users) != 1 || p2.Users[0].UID == p1.Users[0].UID {
			t.Fatalf("cursor page: %+v after %+v", p2, p1)
		}
		wantCode(t, "limit 101", root.call(ctx, "admin.users.list", map[string]int{"limit": 101}), int(fault.Invalid))
		got := decodeInto[adminwire.UserWithKYC](t, "get", root.call(ctx, "admin.users.get", map[string]string{"uid": rootUID}))
		if got.UID != rootUID || !got.OTP || got.Role != "superadmin" || got.Labels == nil {
			t.Fatalf("get: %+v", got)
		}
		wantCode(t, "get unknown", root.call(ctx, "admin.users.get", map[string]string{"uid": "ID0000000000"}), int(fault.NotFound))

		// A ban ends the user's sessions at once; unban lets it log in.
		u := decodeInto[adminwire.User](t, "ban", root.call(ctx, "admin.users.update", map[string]string{"uid": memberUID, "state": "banned"}))
		if u.State != "banned" {
			t.Fatalf("banned: %+v", u)
		}
		wantCode(t, "banned session", member.call(ctx, "user.settings.get", nil), int(fault.SessionInvalid))
		wantCode(t, "banned login", anon.call(ctx, "user.auth.login", map[string]string{"login": "adm-member@example.com", "password": strongPassword}), int(fault.UserDisabled))
		wantCode(t, "unban", root.call(ctx, "admin.users.update", map[string]string{"uid": memberUID, "state": "active"}), 0)
		memberTok = g.Login(t, "adm-member@example.com", strongPassword)
		member = anon.withToken(memberTok)
		wantCode(t, "bad state", root.call(ctx, "admin.users.update", map[string]string{"uid": memberUID, "state": "frozen"}), int(fault.Invalid))

		// Roles: never above the caller's own.
		wantCode(t, "unknown role", root.call(ctx, "admin.users.role", map[string]string{"uid": memberUID, "role": "wizard"}), int(fault.RoleUnknown))
		adminID, adminTok := newAdmin(t, g, clk, "adm-admin@example.com", "admin")
		adm := anon.withToken(adminTok)
		wantCode(t, "admin may not set roles (DROP)", adm.call(ctx, "admin.users.role", map[string]string{"uid": memberUID, "role": "support"}), int(fault.Forbidden))
		// Lift the DROP: rank is what refuses then.
		perms := decodeInto[adminwire.PermissionList](t, "list", root.call(ctx, "admin.permissions.list", nil))
		for _, p := range perms.Permissions {
			if p.Role == "admin" && p.Path == "/admin/users/role" && p.Action == "DROP" {
				wantCode(t, "lift DROP", root.call(ctx, "admin.permissions.delete", map[string]any{"id": p.ID}), 0)
			}
		}
		wantCode(t, "admin raises to superadmin", adm.call(ctx, "admin.users.role", map[string]string{"uid": memberUID, "role": "superadmin"}), int(fault.RoleAboveOwn))
		wantCode(t, "admin demotes superadmin", adm.call(ctx, "admin.users.role", map[string]string{"uid": rootUID, "role": "member"}), int(fault.RoleAboveOwn))
		wantCode(t, "admin bans superadmin", adm.call(ctx, "admin.users.update", map[string]string{"uid": rootUID, "state": "banned"}), int(fault.RoleAboveOwn))
		r := decodeInto[adminwire.User](t, "admin makes support", adm.call(ctx, "admin.users.role", map[string]string{"uid": memberUID, "role": "support"}))
		if r.Role != "support" {
			t.Fatalf("role: %+v", r)
		}
		// The role change ended the member's sessions.
		wantCode(t, "old session after role change", member.call(ctx, "user.settings.get", nil), int(fault.SessionInvalid))
		wantCode(t, "back to member", root.call(ctx, "admin.users.role", map[string]string{"uid": memberUID, "role": "member"}), 0)

		// otp false turns an admin's 2FA off, and with it its admin access.
		wantCode(t, "otp true refused", root.call(ctx, "admin.users.update", map[string]any{"uid": uidOf(t, g, adminID), "otp": true}), int(fault.Invalid))
		off := decodeInto[adminwire.User](t, "otp off", root.call(ctx, "admin.users.update", map[string]any{"uid": uidOf(t, g, adminID), "otp": false}))
		if off.OTP {
			t.Fatalf("otp still on: %+v", off)
		}
		wantCode(t, "admin without 2FA now", adm.call(ctx, "admin.levels.list", nil), int(fault.TwoFactorRequired))
	})

	t.Run("user labels", func(t *testing.T) {
		l := decodeInto[adminwire.Label](t, "create", root.call(ctx, "admin.users.labels.create",
			map[string]string{"uid": memberUID, "key": "tier", "value": "gold", "description": "vip"}))
		if l.Scope != "public" || l.Value != "gold" {
			t.Fatalf("created: %+v", l)
		}
		wantCode(t, "create twice", root.call(ctx, "admin.users.labels.create", map[string]string{"uid": memberUID, "key": "tier", "value": "gold"}), int(fault.AlreadyExists))
		wantCode(t, "bad key", root.call(ctx, "admin.users.labels.create", map[string]string{"uid": memberUID, "key": "Tier!", "value": "gold"}), int(fault.Invalid))
		wantCode(t, "unknown user", root.call(ctx, "admin.users.labels.create", map[string]string{"uid": "ID0000000000", "key": "tier", "value": "gold"}), int(fault.NotFound))
		up := decodeInto[adminwire.Label](t, "update", root.call(ctx, "admin.users.labels.update",
			map[string]string{"uid": memberUID, "key": "tier", "scope": "public", "value": "silver"}))
		if up.Value != "silver" {
			t.Fatalf("updated: %+v", up)
		}
		wantCode(t, "update missing", root.call(ctx, "admin.users.labels.update", map[string]string{"uid": memberUID, "key": "kyc", "scope": "private", "value": "ok1"}), int(fault.NotFound))
		wantCode(t, "update_value with replace", root.call(ctx, "admin.users.labels.update_value",
			map[string]any{"uid": memberUID, "key": "kyc", "scope": "private", "value": "ok1", "replace": true}), 0)
		users := decodeInto[adminwire.UserList](t, "by label", root.call(ctx, "admin.users.labels.list", map[string]string{"key": "tier", "value": "silver"}))
		if len(users.Users) != 1 || users.Users[0].UID != memberUID {
			t.Fatalf("users by label: %+v", users)
		}
		keys := decodeInto[map[string][]string](t, "keys", root.call(ctx, "admin.users.labels.keys", nil))
		if fmt.Sprint(keys["tier"]) != "[silver]" || fmt.Sprint(keys["kyc"]) != "[ok1]" {
			t.Fatalf("keys: %v", keys)
		}
		got := decodeInto[adminwire.UserWithKYC](t, "get", root.call(ctx, "admin.users.get", map[string]string{"uid": memberUID}))
		if len(got.Labels) != 2 {
			t.Fatalf("labels in get: %+v", got.Labels)
		}
		wantCode(t, "delete", root.call(ctx, "admin.users.labels.delete", map[string]string{"uid": memberUID, "key": "kyc", "scope": "private"}), 0)
		wantCode(t, "delete twice", root.call(ctx, "admin.users.labels.delete", map[string]string{"uid": memberUID, "key": "kyc", "scope": "private"}), int(fault.NotFound))
		fresh := anon.withToken(g.Login(t, "adm-member@example.com", strongPassword))
		wantCode(t, "member may not", fresh.call(ctx, "admin.users.labels.keys", nil), int(fault.Forbidden))
	})

	t.Run("profiles", func(t *testing.T) {
		wantCode(t, "no profile yet", root.call(ctx, "admin.profiles.update", map[string]string{"uid": memberUID, "city": "Bern"}), int(fault.NotFound))
		// The user's own resource.profiles.create (issue 11) writes this row.
		if _, _, err := g.Store().PutKYCProfile(ctx, memberID, true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
			p.FirstName, k.State, k.Country = "Eve", "submitted", "CH"
			return p, k, nil
		}); err != nil {
			t.Fatal(err)
		}
		l := decodeInto[adminwire.ProfileList](t, "list", root.call(ctx, "admin.profiles.list", nil))
		if len(l.Profiles) != 1 || l.Profiles[0].UID != memberUID || l.Profiles[0].FirstName != "Eve" || l.Profiles[0].State != "submitted" {
			t.Fatalf("profiles: %+v", l)
		}
		up := decodeInto[adminwire.UserProfile](t, "verify", root.call(ctx, "admin.profiles.update", map[string]string{"uid": memberUID, "state": "verified", "city": "Bern"}))
		if up.State != "verified" || up.City != "Bern" || up.FirstName != "Eve" {
			t.Fatalf("updated: %+v", up)
		}
		got := decodeInto[adminwire.UserWithKYC](t, "get", root.call(ctx, "admin.users.get", map[string]string{"uid": memberUID}))
		found := false
		for _, lb := range got.Labels {
			found = found || (lb.Key == "profile" && lb.Value == "verified" && lb.Scope == "private")
		}
		if !found || len(got.Profiles) != 1 {
			t.Fatalf("label or profile missing: %+v", got)
		}
		wantCode(t, "bad state", root.call(ctx, "admin.profiles.update", map[string]string{"uid": memberUID, "state": "approved"}), int(fault.Invalid))
	})

	t.Run("partner keys with scope admin, audited", func(t *testing.T) {
		p := anon.withPartner(g.Partner(t, "admin"))
		wantCode(t, "partner admin.users.list", p.call(ctx, "admin.users.list", map[string]int{"limit": 1}), 0)
		wantCode(t, "partner * refused admin.*", anon.withPartner(g.Partner(t, "*")).call(ctx, "admin.users.list", nil), int(fault.Forbidden))
		wantCode(t, "partner auth scope refused admin.*", anon.withPartner(g.Partner(t, "auth")).call(ctx, "admin.levels.list", nil), int(fault.Forbidden))
		acts := decodeInto[adminwire.ActivityList](t, "admin trail", root.call(ctx, "admin.activities.admin.list", map[string]string{"action": "admin.users.list"}))
		found := false
		for _, a := range acts.Activities {
			if a.UID == "" && strings.Contains(a.Data, `"method":"admin.users.list"`) && a.Result == "succeed" {
				found = true
			}
		}
		if !found {
			t.Fatalf("partner call not audited: %+v", acts)
		}
	})

	t.Run("AUDIT rows record the calls, denials too", func(t *testing.T) {
		acts := decodeInto[adminwire.ActivityList](t, "admin trail", root.call(ctx, "admin.activities.admin.list",
			map[string]string{"uid": rootUID, "action": "admin.restrictions.create"}))
		if len(acts.Activities) < 3 {
			t.Fatalf("audited creations: %+v", acts)
		}
		var sawFailed bool
		for _, a := range acts.Activities {
			if a.Topic != "admin" || !strings.Contains(a.Data, `"params":{`) {
				t.Fatalf("entry: %+v", a)
			}
			sawFailed = sawFailed || a.Result == "failed"
		}
		if !sawFailed {
			t.Fatal("refused creations not recorded as failed")
		}
		denied := decodeInto[adminwire.ActivityList](t, "denials", root.call(ctx, "admin.activities.admin.list",
			map[string]string{"uid": memberUID}))
		if len(denied.Activities) == 0 || denied.Activities[0].Result != "denied" {
			t.Fatalf("member's refused admin calls: %+v", denied)
		}
		users := decodeInto[adminwire.ActivityList](t, "user trail", root.call(ctx, "admin.activities.list",
			map[string]string{"uid": memberUID, "topic": "session"}))
		if len(users.Activities) == 0 {
			t.Fatalf("member's logins: %+v", users)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		wantCode(t, "wrong password", anon.call(ctx, "user.auth.login", map[string]string{"login": "adm-member@example.com", "password": "not the password at all"}), int(fault.WrongCredentials))
		m := decodeInto[adminwire.Metrics](t, "metrics", root.call(ctx, "admin.metrics", map[string]string{
			"created_from": fmt.Sprint(time.Now().Add(-time.Hour).Unix())}))
		if m.Signups < 4 || m.SuccessfulLogins < 4 || m.FailedLogins < 1 || len(m.Buckets) < 1 {
			t.Fatalf("metrics: %+v", m)
		}
		wantCode(t, "period too long", root.call(ctx, "admin.metrics", map[string]string{"created_from": "1", "created_to": fmt.Sprint(time.Now().Unix())}), int(fault.Invalid))
	})

	t.Run("batch", func(t *testing.T) {
		bodies := [][]byte{
			rpcBody("admin.levels.list", 1, nil),
			rpcBody("admin.permissions.list", 2, map[string]int{"limit": 1}),
			rpcBody("admin.users.list", 3, map[string]string{"role": "superadmin"}),
			rpcBody("admin.restrictions.list", 4, nil),
		}
		rs, err := root.batch(ctx, bodies...)
		if err != nil || len(rs) != 4 {
			t.Fatalf("batch: %v %v", rs, err)
		}
		for i, r := range rs {
			wantCode(t, fmt.Sprint("batch call ", i), r, 0)
		}
		rs, err = member.withToken(g.Login(t, "adm-member@example.com", strongPassword)).batch(ctx, append(bodies, rpcBody("user.settings.get", 5, nil))...)
		if err != nil || len(rs) != 5 {
			t.Fatalf("member batch: %v %v", rs, err)
		}
		for i, r := range rs[:4] {
			wantCode(t, fmt.Sprint("member batch call ", i), r, int(fault.Forbidden))
		}
		wantCode(t, "member batch own call", rs[4], 0)
	})
}

// TestAdminTwoGateways: a permission row or a restriction made on one
// gateway is in force on a second, separate gateway process (the real
// binary) on the same PostgreSQL and Redis within 5 s, with no database
// read per call on the second.
func TestAdminTwoGateways(t *testing.T) {
	env := mergeEnv(looseRates, trustLoopback, map[string]string{"PARTNERGATE_ADMIN_REQUIRE_2FA": "false"})
	g := testkit.MustRunMain(t, testkit.Postgres(), testkit.Env(env))
	env = mergeEnv(env, map[string]string{
		"DATABASE_URL": g.Config.DatabaseURL, "REDIS_URL": g.Config.RedisURL,
		"PARTNERGATE_SECRET_KEY": g.Config.SecretKey, "PARTNERGATE_REDIS_PREFIX": g.Config.RedisPrefix,
		"PARTNERGATE_ADDR": "127.0.0.1:0", "PARTNERGATE_DEV": "true", "PARTNERGATE_DATA_DIR": t.TempDir(),
		"PARTNERGATE_ARGON2_MEMORY": "256", "PARTNERGATE_ARGON2_ITERATIONS": "1",
	})
	var kvs []string
	for k, v := range env {
		kvs = append(kvs, k+"="+v)
	}
	second := startBinary(t, kvs)
	ctx := context.Background()
	a, b := apiCaller{base: g.URL}, apiCaller{base: second.url}

	rootID, _ := newVerifiedUser(t, g, "two-root@example.com", strongPassword)
	if err := g.Store().SetUserRole(ctx, rootID, "superadmin"); err != nil {
		t.Fatal(err)
	}
	root := a.withToken(g.Login(t, "two-root@example.com", strongPassword))
	_, memberTok := newVerifiedUser(t, g, "two-member@example.com", strongPassword)
	memberOnB := b.withToken(memberTok)
	wantCode(t, "member on the second gateway", memberOnB.call(ctx, "user.settings.get", nil), 0)

	within := func(what string, fn func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 5*time.Second {
			if fn() {
				d := time.Since(start)
				t.Logf("%s: in force on the second gateway after %v", what, d.Round(time.Millisecond))
				return d
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: not in force on the second gateway within 5 s", what)
		return 0
	}
	drop := decodeInto[adminwire.Permission](t, "drop", root.call(ctx, "admin.permissions.create",
		map[string]string{"role": "member", "verb": "ALL", "path": "/user/settings", "action": "DROP"}))
	within("DROP row", func() bool { return memberOnB.call(ctx, "user.settings.get", nil).code() == int(fault.Forbidden) })
	wantCode(t, "undrop", root.call(ctx, "admin.permissions.delete", map[string]any{"id": drop.ID}), 0)
	within("row deleted", func() bool { return memberOnB.call(ctx, "user.settings.get", nil).code() == 0 })

	ip := testIP()
	decodeInto[adminwire.Restriction](t, "blacklist", root.call(ctx, "admin.restrictions.create",
		map[string]string{"category": "blacklist", "scope": "ip", "value": ip}))
	within("blacklist", func() bool { return b.withXFF(ip).call(ctx, "system.ping", nil).code() == int(fault.Restricted) })
}
