// Package geo places an IP address: country, continent and city, read from
// a MaxMind-format database (GeoLite2/GeoIP2 City or Country, or any .mmdb
// with the same layout) named by PARTNERGATE_GEOIP_DB. The activity trail
// records the country, restrictions match on country and continent, and
// seed 004's authorisation history shows the place.
//
// A nil *DB is valid and places nothing, so that a gateway without a
// database needs no special case at each caller.
package geo

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Place is where an address is. Country is ISO 3166-1 alpha-2 (upper case),
// Continent the two-letter code MaxMind uses (AF, AN, AS, EU, NA, OC, SA),
// City the English name; any may be empty.
type Place struct {
	Country   string
	Continent string
	City      string
	// CountryName is the country's English name; Lat and Lon the
	// location the database gives the address (zero when it gives none).
	CountryName string
	Lat, Lon    float64
}

// DB is an opened database. It is safe for concurrent use.
type DB struct {
	r *maxminddb.Reader
}

// Open reads the database at path (memory-mapped by the reader).
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geo: open %s: %w", path, err)
	}
	return &DB{r: r}, nil
}

// Close releases the database.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	return d.r.Close()
}

// record is the part of the GeoIP2 City/Country layout that Place needs.
type record struct {
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
}

// Lookup places addr. ok is false when the database has no entry for it,
// cannot decode the entry, or d is nil.
func (d *DB) Lookup(addr netip.Addr) (p Place, ok bool) {
	if d == nil || !addr.IsValid() {
		return Place{}, false
	}
	res := d.r.Lookup(addr.Unmap())
	if res.Err() != nil || !res.Found() {
		return Place{}, false
	}
	var rec record
	if err := res.Decode(&rec); err != nil {
		return Place{}, false
	}
	p = Place{Country: rec.Country.ISOCode, Continent: rec.Continent.Code, City: rec.City.Names["en"],
		CountryName: rec.Country.Names["en"], Lat: rec.Location.Latitude, Lon: rec.Location.Longitude}
	return p, p != Place{}
}

// LookupString is Lookup for an address in text form (as core.Call carries
// it); an unparsable one places nothing.
func (d *DB) LookupString(ip string) (Place, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return Place{}, false
	}
	return d.Lookup(addr)
}
