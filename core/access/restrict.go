package access

import (
	"net/netip"
	"slices"
	"strings"

	"partnergate/core/fault"
	"partnergate/core/geo"
	"partnergate/store"
)

// continents are the codes MaxMind databases use.
var continents = map[string]bool{"AF": true, "AN": true, "AS": true, "EU": true, "NA": true, "OC": true, "SA": true}

// CheckRestriction validates and normalises a restriction: category, scope
// and state from their sets, value of the scope's form (an IP, a CIDR in
// its canonical masked form, an upper-case country or continent code,
// "all"). hasGeo says whether the gateway can place addresses: without it
// country and continent restrictions are refused (fault.GeoUnavailable).
func CheckRestriction(r store.Restriction, hasGeo bool) (store.Restriction, error) {
	r.Category = strings.ToLower(strings.TrimSpace(r.Category))
	switch r.Category {
	case store.RestrictWhitelist, store.RestrictBlacklist, store.RestrictMaintenance, store.RestrictBlockLogin:
	default:
		return r, fault.Field(fault.Invalid, "category", "one of whitelist, blacklist, maintenance, blocklogin")
	}
	r.Scope = strings.ToLower(strings.TrimSpace(r.Scope))
	r.Value = strings.TrimSpace(r.Value)
	switch r.State = strings.ToLower(strings.TrimSpace(r.State)); r.State {
	case "":
		r.State = store.RestrictionEnabled
	case store.RestrictionEnabled, store.RestrictionDisabled:
	default:
		return r, fault.Field(fault.Invalid, "state", "enabled or disabled")
	}
	if len(r.Value) > 64 {
		return r, fault.Field(fault.RestrictionInvalid, "value", "at most 64 characters")
	}
	switch r.Scope {
	case store.ScopeIP:
		a, err := netip.ParseAddr(r.Value)
		if err != nil || a.Zone() != "" {
			return r, fault.Field(fault.RestrictionInvalid, "value", "an IPv4 or IPv6 address")
		}
		r.Value = a.Unmap().String()
	case store.ScopeIPSubnet:
		p, err := netip.ParsePrefix(r.Value)
		if err != nil {
			return r, fault.Field(fault.RestrictionInvalid, "value", "a CIDR such as 192.0.2.0/24 or 2001:db8::/32")
		}
		r.Value = p.Masked().String()
	case store.ScopeCountry, store.ScopeContinent:
		v := strings.ToUpper(r.Value)
		if r.Scope == store.ScopeCountry && (len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z') {
			return r, fault.Field(fault.RestrictionInvalid, "value", "an ISO 3166-1 alpha-2 country code")
		}
		if r.Scope == store.ScopeContinent && !continents[v] {
			return r, fault.Field(fault.RestrictionInvalid, "value", "one of AF, AN, AS, EU, NA, OC, SA")
		}
		if !hasGeo {
			return r, fault.New(fault.GeoUnavailable)
		}
		r.Value = v
	case store.ScopeAll:
		if r.Value == "" {
			r.Value = "all"
		}
		if !strings.EqualFold(r.Value, "all") {
			return r, fault.Field(fault.RestrictionInvalid, "value", `"all"`)
		}
		r.Value = "all"
	default:
		return r, fault.Field(fault.Invalid, "scope", "one of ip, ip_subnet, country, continent, all")
	}
	return r, nil
}

// ruleSet is the enabled restrictions of one category, indexed so that a
// check costs a few map lookups whatever their number.
type ruleSet struct {
	n          int
	all        bool
	ips        map[netip.Addr]struct{}
	nets       map[int]map[netip.Prefix]struct{} // by prefix length, masked
	bits       []int                             // the lengths nets holds, longest first
	countries  map[string]struct{}
	continents map[string]struct{}
}

func (s *ruleSet) add(r store.Restriction) {
	switch r.Scope {
	case store.ScopeAll:
		s.all = true
	case store.ScopeIP:
		a, err := netip.ParseAddr(r.Value)
		if err != nil {
			return
		}
		if s.ips == nil {
			s.ips = map[netip.Addr]struct{}{}
		}
		s.ips[a.Unmap()] = struct{}{}
	case store.ScopeIPSubnet:
		p, err := netip.ParsePrefix(r.Value)
		if err != nil {
			return
		}
		p = p.Masked()
		if s.nets == nil {
			s.nets = map[int]map[netip.Prefix]struct{}{}
		}
		// An IPv4 prefix is keyed by its own length; IPv6 by 128+length,
		// so the two families never share a bucket.
		key := p.Bits()
		if p.Addr().Is6() {
			key += 200
		}
		if s.nets[key] == nil {
			s.nets[key] = map[netip.Prefix]struct{}{}
			s.bits = append(s.bits, key)
			slices.Sort(s.bits)
			slices.Reverse(s.bits)
		}
		s.nets[key][p] = struct{}{}
	case store.ScopeCountry:
		if s.countries == nil {
			s.countries = map[string]struct{}{}
		}
		s.countries[r.Value] = struct{}{}
	case store.ScopeContinent:
		if s.continents == nil {
			s.continents = map[string]struct{}{}
		}
		s.continents[r.Value] = struct{}{}
	default:
		return
	}
	s.n++
}

// where is what a restriction check knows of the caller: its address and,
// looked up at most once and only when a rule needs it, its place.
type where struct {
	addr   netip.Addr
	geo    *geo.DB
	placed bool
	place  geo.Place
}

func (w *where) where() geo.Place {
	if !w.placed {
		w.placed = true
		w.place, _ = w.geo.Lookup(w.addr)
	}
	return w.place
}

func (s *ruleSet) match(w *where) bool {
	if s.n == 0 {
		return false
	}
	if s.all {
		return true
	}
	if w.addr.IsValid() {
		if _, ok := s.ips[w.addr]; ok {
			return true
		}
		v6 := w.addr.Is6()
		for _, key := range s.bits {
			bits := key
			if key >= 200 {
				if !v6 {
					continue
				}
				bits -= 200
			} else if v6 {
				continue
			}
			p, err := w.addr.Prefix(bits)
			if err != nil {
				continue
			}
			if _, ok := s.nets[key][p]; ok {
				return true
			}
		}
	}
	if len(s.countries) > 0 || len(s.continents) > 0 {
		pl := w.where()
		if _, ok := s.countries[pl.Country]; ok && pl.Country != "" {
			return true
		}
		if _, ok := s.continents[pl.Continent]; ok && pl.Continent != "" {
			return true
		}
	}
	return false
}

// restrictions are the enabled restrictions by category.
type restrictions struct {
	white, black, maintenance, blocklogin ruleSet
}

func compileRestrictions(rows []store.Restriction) restrictions {
	var out restrictions
	for _, r := range rows {
		if r.State != store.RestrictionEnabled {
			continue
		}
		switch r.Category {
		case store.RestrictWhitelist:
			out.white.add(r)
		case store.RestrictBlacklist:
			out.black.add(r)
		case store.RestrictMaintenance:
			out.maintenance.add(r)
		case store.RestrictBlockLogin:
			out.blocklogin.add(r)
		}
	}
	return out
}

func (rs *restrictions) empty() bool {
	return rs.black.n == 0 && rs.maintenance.n == 0 && rs.blocklogin.n == 0
}

// check refuses a call from w: a whitelist match lets it through whatever
// else matches; then maintenance, blacklist, and for methods that open a
// session, blocklogin.
func (rs *restrictions) check(w *where, opensSession bool) error {
	if rs.empty() {
		return nil
	}
	if rs.white.match(w) {
		return nil
	}
	if rs.maintenance.match(w) {
		return fault.New(fault.Maintenance)
	}
	if rs.black.match(w) {
		return fault.New(fault.Restricted)
	}
	if opensSession && rs.blocklogin.match(w) {
		return fault.New(fault.LoginRestricted)
	}
	return nil
}
