// Package geotest writes small MaxMind-format databases for tests, so that
// no test needs MaxMind's own files (which may not be redistributed).
package geotest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"partnergate/core/geo"
)

// Write writes a GeoIP2-City-shaped database mapping each CIDR of places to
// its place, to path.
func Write(path string, places map[string]geo.Place) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		return fmt.Errorf("geotest: new tree: %w", err)
	}
	for cidr, p := range places {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("geotest: %q: %w", cidr, err)
		}
		rec := mmdbtype.Map{
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(p.Country)},
			"continent": mmdbtype.Map{"code": mmdbtype.String(p.Continent)},
		}
		if p.CountryName != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(p.Country), "names": mmdbtype.Map{"en": mmdbtype.String(p.CountryName)}}
		}
		if p.Lat != 0 || p.Lon != 0 {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon)}
		}
		if p.City != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}}
		}
		if err := tree.Insert(network, rec); err != nil {
			return fmt.Errorf("geotest: insert %s: %w", cidr, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("geotest: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("geotest: %w", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("geotest: write %s: %w", path, err)
	}
	return f.Close()
}

// Default is a small world for tests: documentation and private ranges
// placed on three continents.
var Default = map[string]geo.Place{
	"192.0.2.0/24":    {Country: "CH", Continent: "EU", City: "Zurich"},
	"198.51.100.0/24": {Country: "US", Continent: "NA", City: "Boston"},
	"203.0.113.0/24":  {Country: "JP", Continent: "AS", City: "Tokyo"},
	"2001:db8::/32":   {Country: "DE", Continent: "EU", City: "Berlin"},
	"127.0.0.0/8":     {Country: "CH", Continent: "EU"},
	"::1/128":         {Country: "CH", Continent: "EU"},
}
