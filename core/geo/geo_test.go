package geo_test

import (
	"path/filepath"
	"testing"

	"partnergate/core/geo"
	"partnergate/core/geo/geotest"
)

func TestLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.mmdb")
	if err := geotest.Write(path, geotest.Default); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct {
		ip   string
		want geo.Place
		ok   bool
	}{
		{"192.0.2.77", geo.Place{Country: "CH", Continent: "EU", City: "Zurich"}, true},
		{"::ffff:198.51.100.1", geo.Place{Country: "US", Continent: "NA", City: "Boston"}, true},
		{"2001:db8:1::5", geo.Place{Country: "DE", Continent: "EU", City: "Berlin"}, true},
		{"127.0.0.1", geo.Place{Country: "CH", Continent: "EU"}, true},
		{"8.8.8.8", geo.Place{}, false},
		{"not an ip", geo.Place{}, false},
		{"", geo.Place{}, false},
	} {
		got, ok := db.LookupString(tc.ip)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: %+v %v, want %+v %v", tc.ip, got, ok, tc.want, tc.ok)
		}
	}
	var none *geo.DB
	if _, ok := none.LookupString("192.0.2.1"); ok {
		t.Error("a nil DB placed an address")
	}
	if err := none.Close(); err != nil {
		t.Error(err)
	}
	if _, err := geo.Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("a missing file opened")
	}
}
