package access_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"partnergate/core"
	"partnergate/core/access"
	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/core/geo/geotest"
	"partnergate/rpc"
	"partnergate/store"
)

func m(name string, a rpc.Access, routes ...string) *rpc.Method {
	return &rpc.Method{Name: name, Access: a, Routes: routes}
}

func TestRoutesOf(t *testing.T) {
	tests := []struct {
		m    *rpc.Method
		want []access.Route
	}{
		{m("admin.users.list", rpc.AdminPermission), []access.Route{{Verb: "GET", Path: "admin.users"}}},
		{m("admin.users.get", rpc.AdminPermission), []access.Route{{Verb: "GET", Path: "admin.users"}}},
		{m("admin.permissions.create", rpc.AdminPermission), []access.Route{{Verb: "POST", Path: "admin.permissions"}}},
		{m("resource.api_keys.update", rpc.SessionUser), []access.Route{{Verb: "PUT", Path: "resource.api_keys"}, {Verb: "PATCH", Path: "resource.api_keys"}}},
		{m("admin.restrictions.delete", rpc.AdminPermission), []access.Route{{Verb: "DELETE", Path: "admin.restrictions"}}},
		{m("user.auth.login", rpc.Public), []access.Route{{Verb: "POST", Path: "user.auth.login"}}},
		{m("admin.metrics", rpc.AdminPermission, "GET /admin/metrics"), []access.Route{{Verb: "GET", Path: "admin.metrics"}}},
		{m("admin.users.update", rpc.AdminPermission, "PUT /admin/users", "post /admin/users/update"),
			[]access.Route{{Verb: "PUT", Path: "admin.users"}, {Verb: "POST", Path: "admin.users.update"}}},
	}
	for _, tt := range tests {
		got := access.RoutesOf(tt.m)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("RoutesOf(%s) = %v, want %v", tt.m.Name, got, tt.want)
		}
	}
}

func TestCheckPermission(t *testing.T) {
	ok := []struct{ in, path, verb string }{
		{"/admin/users", "/admin/users", "GET"},
		{"admin/users/", "/admin/users", "get"},
		{"api/v2/barong/admin/permissions", "/admin/permissions", "all"},
		{"api/v2", "*", "*"},
		{"*", "*", "ALL"},
		{"/admin/*", "/admin", "delete"},
	}
	for _, tt := range ok {
		p, err := access.CheckPermission(store.Permission{Role: "admin", Verb: tt.verb, Path: tt.in, Action: "accept"})
		if err != nil || p.Path != tt.path || p.Action != store.ActionAccept {
			t.Errorf("CheckPermission(%q, %q) = %+v, %v", tt.verb, tt.in, p, err)
		}
	}
	bad := []store.Permission{
		{Role: "admin", Verb: "FOO", Path: "/admin", Action: "ACCEPT"},
		{Role: "admin", Verb: "GET", Path: "/admin/{uid}", Action: "ACCEPT"},
		{Role: "admin", Verb: "GET", Path: "/admin//users", Action: "ACCEPT"},
		{Role: "admin", Verb: "GET", Path: "/admin", Action: "ALLOW"},
		{Role: "", Verb: "GET", Path: "/admin", Action: "ACCEPT"},
	}
	for _, p := range bad {
		if _, err := access.CheckPermission(p); fault.CodeOf(err) != fault.Invalid {
			t.Errorf("CheckPermission(%+v) = %v, want Invalid", p, err)
		}
	}
}

func TestCheckRestriction(t *testing.T) {
	tests := []struct {
		r      store.Restriction
		geo    bool
		want   fault.Code
		value  string
		status string
	}{
		{store.Restriction{Category: "blacklist", Scope: "ip", Value: "192.0.2.7"}, false, 0, "192.0.2.7", "enabled"},
		{store.Restriction{Category: "blacklist", Scope: "ip", Value: "::ffff:192.0.2.7"}, false, 0, "192.0.2.7", "enabled"},
		{store.Restriction{Category: "Whitelist", Scope: "ip_subnet", Value: "192.0.2.77/24", State: "disabled"}, false, 0, "192.0.2.0/24", "disabled"},
		{store.Restriction{Category: "blacklist", Scope: "ip_subnet", Value: "2001:db8:1::/48"}, false, 0, "2001:db8:1::/48", "enabled"},
		{store.Restriction{Category: "maintenance", Scope: "all", Value: "all"}, false, 0, "all", "enabled"},
		{store.Restriction{Category: "blacklist", Scope: "country", Value: "ch"}, true, 0, "CH", "enabled"},
		{store.Restriction{Category: "blacklist", Scope: "continent", Value: "eu"}, true, 0, "EU", "enabled"},
		{store.Restriction{Category: "blacklist", Scope: "country", Value: "CH"}, false, fault.GeoUnavailable, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "country", Value: "USA"}, true, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "continent", Value: "XX"}, true, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "ip", Value: "300.1.1.1"}, false, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "ip_subnet", Value: "10.0.0.0/33"}, false, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "ip_subnet", Value: "10.0.0.1"}, false, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "all", Value: "some"}, false, fault.RestrictionInvalid, "", ""},
		{store.Restriction{Category: "greylist", Scope: "all", Value: "all"}, false, fault.Invalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "planet", Value: "all"}, false, fault.Invalid, "", ""},
		{store.Restriction{Category: "blacklist", Scope: "all", Value: "all", State: "on"}, false, fault.Invalid, "", ""},
	}
	for _, tt := range tests {
		got, err := access.CheckRestriction(tt.r, tt.geo)
		if fault.CodeOf(err) != tt.want {
			t.Errorf("CheckRestriction(%+v) = %v, want code %d", tt.r, err, tt.want)
			continue
		}
		if tt.want == 0 && (got.Value != tt.value || got.State != tt.status) {
			t.Errorf("CheckRestriction(%+v) = %+v", tt.r, got)
		}
	}
}

// policyEnv is a Policy over a migrated SQLite store and miniredis.
func newPolicy(t testing.TB, g *geo.DB, methods ...*rpc.Method) (*access.Policy, *env) {
	t.Helper()
	e := newEnv(t)
	p := &access.Policy{Store: e.st, KV: e.kv, Geo: g, Methods: func() []*rpc.Method { return methods }}
	if err := p.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return p, e
}

func TestPolicyDefaults(t *testing.T) {
	ms := []*rpc.Method{
		m("user.settings.get", rpc.SessionUser),
		m("resource.otp.enable", rpc.SessionUser),
		m("admin.users.list", rpc.AdminPermission),
		m("admin.users.role", rpc.AdminPermission),
		m("admin.permissions.list", rpc.AdminPermission),
		m("admin.restrictions.create", rpc.AdminPermission),
		m("admin.users.update", rpc.AdminPermission, "PUT /admin/users", "POST /admin/users/update"),
		m("admin.users.documents.pending", rpc.AdminPermission, "GET /admin/users/documents/pending"),
	}
	p, _ := newPolicy(t, nil, ms...)
	want := map[string]map[string]bool{
		"member":     {"user.settings.get": true, "resource.otp.enable": true},
		"":           {"user.settings.get": true, "resource.otp.enable": true},
		"superadmin": {"user.settings.get": true, "resource.otp.enable": true, "admin.users.list": true, "admin.users.role": true, "admin.permissions.list": true, "admin.restrictions.create": true, "admin.users.update": true, "admin.users.documents.pending": true},
		"admin":      {"user.settings.get": true, "resource.otp.enable": true, "admin.users.list": true, "admin.restrictions.create": true, "admin.users.update": true, "admin.users.documents.pending": true},
		"support":    {"user.settings.get": true, "resource.otp.enable": true, "admin.users.list": true, "admin.users.update": true, "admin.users.documents.pending": true},
		"technical":  {"user.settings.get": true, "resource.otp.enable": true, "admin.users.list": true, "admin.restrictions.create": true},
		"nobody":     {},
	}
	for role, allowed := range want {
		for _, mm := range ms {
			if got := p.Allows(role, mm); got != allowed[mm.Name] {
				t.Errorf("role %q, %s: allowed %v, want %v", role, mm.Name, got, allowed[mm.Name])
			}
		}
	}
	// A method registered after the load is decided row by row.
	late := m("admin.levels.list", rpc.AdminPermission)
	if !p.Allows("accountant", late) || p.Allows("member", late) {
		t.Error("late method decided wrongly")
	}
}

func TestPolicyRowsDecide(t *testing.T) {
	ms := []*rpc.Method{m("admin.levels.list", rpc.AdminPermission), m("admin.metrics", rpc.AdminPermission, "GET /admin/metrics")}
	p, e := newPolicy(t, nil, ms...)
	ctx := t.Context()
	if p.Allows("member", ms[0]) {
		t.Fatal("member admitted with no row")
	}
	acc, err := p.CreatePermission(ctx, store.Permission{Role: "member", Verb: "GET", Path: "/admin/levels", Action: "ACCEPT"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allows("member", ms[0]) || p.Allows("member", ms[1]) {
		t.Fatal("ACCEPT row not in force at once, or too wide")
	}
	// DROP beats ACCEPT, whatever the order.
	drop, err := p.CreatePermission(ctx, store.Permission{Role: "member", Verb: "all", Path: "/admin", Action: "drop"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Allows("member", ms[0]) {
		t.Fatal("DROP did not beat ACCEPT")
	}
	if _, err := p.UpdatePermission(ctx, drop.ID, func(x store.Permission) store.Permission { x.Verb = "POST"; return x }); err != nil {
		t.Fatal(err)
	}
	if !p.Allows("member", ms[0]) {
		t.Fatal("DROP of another verb still refuses")
	}
	// Bad input changes nothing.
	for _, bad := range []store.Permission{
		{Role: "wizard", Verb: "GET", Path: "/admin", Action: "ACCEPT"},
		{Role: "member", Verb: "FOO", Path: "/admin", Action: "ACCEPT"},
	} {
		if _, err := p.CreatePermission(ctx, bad); err == nil {
			t.Fatalf("%+v stored", bad)
		}
	}
	if _, err := p.UpdatePermission(ctx, acc.ID, func(x store.Permission) store.Permission { x.Role = "wizard"; return x }); fault.CodeOf(err) != fault.RoleUnknown {
		t.Fatalf("update to unknown role: %v", err)
	}
	if _, err := p.CreatePermission(ctx, store.Permission{Role: "member", Verb: "GET", Path: "/admin/levels", Action: "ACCEPT"}); fault.CodeOf(err) != fault.AlreadyExists {
		t.Fatalf("duplicate: %v", err)
	}
	if err := p.DeletePermission(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	if p.Allows("member", ms[0]) {
		t.Fatal("deleted ACCEPT still admits")
	}
	if err := p.DeletePermission(ctx, acc.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("delete twice: %v", err)
	}

	// Another gateway's copy follows the version in Redis.
	other := &access.Policy{Store: e.st, KV: e.kv}
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreatePermission(ctx, store.Permission{Role: "member", Verb: "GET", Path: "/admin/metrics", Action: "ACCEPT"}); err != nil {
		t.Fatal(err)
	}
	if other.Allows("member", ms[1]) {
		t.Fatal("other gateway changed before syncing")
	}
	if err := other.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !other.Allows("member", ms[1]) {
		t.Fatal("other gateway did not reload on the new version")
	}
}

func TestPolicyRestrictions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geotest.Write(db, geotest.Default); err != nil {
		t.Fatal(err)
	}
	g, err := geo.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	p, _ := newPolicy(t, g)
	admin := core.WithCall(t.Context(), core.Call{ActorKind: "user", IP: "10.9.9.9"})
	ping := m("system.ping", rpc.Public)
	login := &rpc.Method{Name: "user.auth.login", Access: rpc.Public, OpensSession: true}
	add := func(cat, scope, value string) store.Restriction {
		t.Helper()
		r, err := p.CreateRestriction(admin, store.Restriction{Category: cat, Scope: scope, Value: value})
		if err != nil {
			t.Fatalf("%s %s %s: %v", cat, scope, value, err)
		}
		return r
	}
	check := func(ip string, mm *rpc.Method, want fault.Code) {
		t.Helper()
		if got := fault.CodeOf(p.Restricted(mm, ip)); got != want {
			t.Errorf("%s from %s: %d, want %d", mm.Name, ip, got, want)
		}
	}
	check("192.0.2.1", ping, 0)
	add("blacklist", "ip", "198.51.100.7")
	add("blacklist", "ip_subnet", "2001:db8:5::/48")
	add("blacklist", "country", "JP")
	add("blocklogin", "continent", "EU")
	check("198.51.100.7", ping, fault.Restricted)
	check("::ffff:198.51.100.7", ping, fault.Restricted)
	check("198.51.100.8", ping, 0)
	check("2001:db8:5:1::9", ping, fault.Restricted)
	check("2001:db8:6::9", ping, 0) // DE: EU, but ping opens no session
	check("2001:db8:6::9", login, fault.LoginRestricted)
	check("192.0.2.1", login, fault.LoginRestricted) // CH
	check("203.0.113.5", ping, fault.Restricted)     // JP
	check("not-an-ip", ping, 0)

	// Whitelist beats blacklist.
	w := add("whitelist", "ip_subnet", "203.0.113.0/28")
	check("203.0.113.5", ping, 0)
	check("203.0.113.20", ping, fault.Restricted)

	// Maintenance refuses all but the whitelisted; an admin outside the
	// whitelist may not turn it on, nor drop the whitelist that lets it in.
	if _, err := p.CreateRestriction(admin, store.Restriction{Category: "maintenance", Scope: "all", Value: "all"}); fault.CodeOf(err) != fault.RestrictionLocksOut {
		t.Fatalf("maintenance locking the admin out: %v", err)
	}
	add("whitelist", "ip", "10.9.9.9")
	add("maintenance", "all", "all")
	check("198.51.100.8", ping, fault.Maintenance)
	check("203.0.113.5", ping, 0)
	check("10.9.9.9", ping, 0)
	rows, _ := p.Restrictions(t.Context())
	var self store.Restriction
	for _, r := range rows {
		if r.Value == "10.9.9.9" {
			self = r
		}
	}
	if err := p.DeleteRestriction(admin, self.ID); fault.CodeOf(err) != fault.RestrictionLocksOut {
		t.Fatalf("dropping own whitelist under maintenance: %v", err)
	}
	if _, err := p.UpdateRestriction(admin, self.ID, func(r store.Restriction) store.Restriction { r.State = "disabled"; return r }); fault.CodeOf(err) != fault.RestrictionLocksOut {
		t.Fatalf("disabling own whitelist under maintenance: %v", err)
	}
	if _, err := p.UpdateRestriction(admin, w.ID, func(r store.Restriction) store.Restriction { r.State = "disabled"; return r }); err != nil {
		t.Fatal(err)
	}
	check("203.0.113.5", ping, fault.Maintenance)
	if _, err := p.CreateRestriction(admin, store.Restriction{Category: "blacklist", Scope: "ip_subnet", Value: "10.0.0.0/300"}); fault.CodeOf(err) != fault.RestrictionInvalid {
		t.Fatalf("bad CIDR: %v", err)
	}
}

func TestPolicyRestrictionsWithoutGeo(t *testing.T) {
	p, _ := newPolicy(t, nil)
	_, err := p.CreateRestriction(context.Background(), store.Restriction{Category: "blacklist", Scope: "country", Value: "CH"})
	if fault.CodeOf(err) != fault.GeoUnavailable {
		t.Fatalf("country restriction without a database: %v", err)
	}
	rows, _ := p.Restrictions(context.Background())
	if len(rows) != 0 {
		t.Fatalf("stored anyway: %+v", rows)
	}
}

// BenchmarkRestricted is the restriction check's per-call cost with none
// loaded and with 1,000 (IPs, v4 and v6 subnets, none matching).
func BenchmarkRestricted(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("restrictions=%d", n), func(b *testing.B) {
			p, _ := newPolicy(b, nil)
			for i := 0; i < n; i++ {
				r := store.Restriction{Category: store.RestrictBlacklist}
				switch i % 3 {
				case 0:
					r.Scope, r.Value = store.ScopeIP, fmt.Sprintf("203.0.%d.%d", i/250, i%250+1)
				case 1:
					r.Scope, r.Value = store.ScopeIPSubnet, fmt.Sprintf("10.%d.%d.0/24", i/250, i%250)
				default:
					r.Scope, r.Value = store.ScopeIPSubnet, fmt.Sprintf("2001:db8:%x::/48", i)
				}
				if _, err := p.CreateRestriction(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
			m := &rpc.Method{Name: "user.auth.check", Access: rpc.SessionUser}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Restricted(m, "192.0.2.55"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
