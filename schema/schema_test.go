package schema

import (
	"strings"
	"testing"
)

func TestMigrationsSortedAndNonEmpty(t *testing.T) {
	for _, d := range []string{Postgres, SQLite} {
		ms, err := Migrations(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: no migrations", d)
		}
		if ms[0].Version != "0001" || ms[0].Name != "0001_init" {
			t.Errorf("%s: first migration = %s/%s, want 0001/0001_init", d, ms[0].Version, ms[0].Name)
		}
		for i, m := range ms {
			if strings.TrimSpace(m.SQL) == "" {
				t.Errorf("%s: %s is empty", d, m.Name)
			}
			if i > 0 && ms[i-1].Version >= m.Version {
				t.Errorf("%s: %s not after %s", d, m.Version, ms[i-1].Version)
			}
		}
	}
}

// Both backends must reach the same schema version, or a database could not
// move between them.
func TestDialectsHaveSameVersions(t *testing.T) {
	pg, err := Migrations(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := Migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %s, sqlite %s", i, pg[i].Name, lite[i].Name)
		}
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := Migrations("mysql"); err == nil {
		t.Fatal("want error for unknown dialect")
	}
}

func TestInitCreatesEveryTable(t *testing.T) {
	tables := []string{"schema_migrations", "users", "identifiers", "credentials", "partners", "outbox"}
	for _, d := range []string{Postgres, SQLite} {
		ms, err := Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range tables {
			if !strings.Contains(ms[0].SQL, "CREATE TABLE "+tbl+" (") &&
				!strings.Contains(ms[0].SQL, "CREATE TABLE IF NOT EXISTS "+tbl+" (") {
				t.Errorf("%s: 0001 does not create %s", d, tbl)
			}
		}
	}
}
