package access_test

import (
	"net/netip"
	"strings"
	"testing"

	"partnergate/core/access"
	"partnergate/store"
)

// FuzzCheckPermission: any input is refused or normalised to a row whose
// path is "*" or slash-separated segments of [A-Za-z0-9_], and normalising
// again changes nothing.
func FuzzCheckPermission(f *testing.F) {
	for _, s := range []string{"/admin/users", "api/v2/barong/admin", "*", "/a//b", "/admin/{uid}", "", "api/v2/"} {
		f.Add("GET", s, "ACCEPT")
	}
	f.Fuzz(func(t *testing.T, verb, path, action string) {
		p, err := access.CheckPermission(store.Permission{Role: "member", Verb: verb, Path: path, Action: action})
		if err != nil {
			return
		}
		if p.Path != "*" && (!strings.HasPrefix(p.Path, "/") || strings.Contains(p.Path, "//") || strings.HasSuffix(p.Path, "/")) {
			t.Fatalf("path %q from %q", p.Path, path)
		}
		again, err := access.CheckPermission(p)
		if err != nil || again != p {
			t.Fatalf("not stable: %+v then %+v, %v", p, again, err)
		}
	})
}

// FuzzCheckRestriction: an accepted ip or ip_subnet value parses, and
// normalising again changes nothing.
func FuzzCheckRestriction(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:10.0.0.1", "2001:db8::/32", "10.0.0.1/8", "fe80::1%eth0", "all", "CH"} {
		f.Add("ip", s)
		f.Add("ip_subnet", s)
	}
	f.Fuzz(func(t *testing.T, scope, value string) {
		r, err := access.CheckRestriction(store.Restriction{Category: "blacklist", Scope: scope, Value: value}, true)
		if err != nil {
			return
		}
		switch r.Scope {
		case store.ScopeIP:
			if _, err := netip.ParseAddr(r.Value); err != nil {
				t.Fatalf("stored ip %q", r.Value)
			}
		case store.ScopeIPSubnet:
			if _, err := netip.ParsePrefix(r.Value); err != nil {
				t.Fatalf("stored subnet %q", r.Value)
			}
		}
		again, err := access.CheckRestriction(r, true)
		if err != nil || again != r {
			t.Fatalf("not stable: %+v then %+v, %v", r, again, err)
		}
	})
}
