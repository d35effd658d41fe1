package sqlstore

import (
	"path/filepath"
	"regexp"
	"testing"

	"partnergate/schema"
)

// testUIDBackfill applies the migrations before 0008, stores users the way
// earlier builds did (no uid), then applies the rest: every row gets a
// unique uid, the one seed 002 showed before where its id yields one.
func testUIDBackfill(t *testing.T, s *Store) {
	ctx := t.Context()
	ms, err := schema.Migrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= "0008" {
			break
		}
		if err := s.applyMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{
		"01a23c8c-65b4-73d0-ae3c-f15a51ebbf69",
		"01a23c8c-65b4-73d0-ae3c-ffff51ebbf69", // same last ten digits as the first
		"01a23c8c-65b4-73d0-ae3c-000000000001",
		"short",
		"not-hex-zzzzzzzzzzzzzz",
	}
	for _, id := range ids {
		if _, err := s.rw.ExecContext(ctx, s.rw.Rebind(`INSERT INTO users (id, created_at, updated_at, state) VALUES (?, 1, 1, 'active')`), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^ID[0-9A-F]{10}$`)
	seen := map[string]bool{}
	for _, id := range ids {
		u, err := s.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(u.UID) || seen[u.UID] {
			t.Errorf("%s: uid %q (seen before: %v)", id, u.UID, seen[u.UID])
		}
		seen[u.UID] = true
	}
	if u, _ := s.UserByID(ctx, ids[2]); u.UID != "ID0000000001" {
		t.Errorf("uid %q, want the one derived from the id", u.UID)
	}
}

func TestSQLiteUIDBackfill(t *testing.T) {
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "pg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testUIDBackfill(t, s)
}

func TestPostgresUIDBackfill(t *testing.T) {
	testUIDBackfill(t, openPostgresTest(t, freshPostgresDB(t), false))
}
