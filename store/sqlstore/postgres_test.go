package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"partnergate/schema"
	"partnergate/store"
	"partnergate/store/storetest"
)

const pgURLEnv = "PARTNERGATE_TEST_DATABASE_URL"

// pgAdminURL returns the URL of a server where the tests may CREATE
// DATABASE. In CI a missing URL is a failure, so the Postgres backend can
// never go untested there by accident.
func pgAdminURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(pgURLEnv)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(pgURLEnv + " must be set in CI")
		}
		t.Skip("Postgres tests skipped: " + pgURLEnv + " is not set. Set it to a postgres:// URL " +
			"of a server where the tests may CREATE DATABASE, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	return u
}

// freshPostgresDB creates an empty database named pgtest_<random> and
// returns its URL; t.Cleanup drops it. Cleanups run last-in first-out, so a
// store opened (and registered for closing) after this call is closed
// before the drop.
func freshPostgresDB(t *testing.T) string {
	t.Helper()
	adminURL := pgAdminURL(t)
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	name := "pgtest_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("DROP DATABASE %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", pgURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

func openPostgresTest(t *testing.T, dsn string, migrate bool) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Dialect() != DialectPostgres {
		t.Fatalf("Dialect = %q", s.Dialect())
	}
	if migrate {
		for range 2 { // twice: Migrate is idempotent
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
	}
	return s
}

func TestPostgresConformance(t *testing.T) {
	pgAdminURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPostgresTest(t, freshPostgresDB(t), true)
	})
}

func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := freshPostgresDB(t)
	ctx := t.Context()
	// Separate stores stand in for separate processes: each has its own
	// pool, so the advisory lock is what serialises them.
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openPostgresTest(t, dsn, false)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	ms, err := schema.Migrations(schema.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := stores[0].ro.GetContext(ctx, &n, `SELECT COUNT(*) FROM schema_migrations`); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, len(ms))
	}
}

func TestPostgresConcurrentLoad(t *testing.T) {
	s := openPostgresTest(t, freshPostgresDB(t), true)
	ctx := t.Context()
	const workers, ops = 32, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				norm := fmt.Sprintf("w%d-%d@example.com", w, i/2)
				var err error
				if i%2 == 0 {
					err = s.CreateUser(ctx, store.NewUser{
						User:        store.User{ID: fmt.Sprintf("w%d-%d", w, i)},
						Identifiers: []store.Identifier{{Kind: store.KindEmail, Value: norm, Norm: norm}},
					})
				} else {
					_, err = s.UserByIdentifier(ctx, store.KindEmail, norm)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != workers*ops/2 {
		t.Fatalf("CountUsers = %d, %v; want %d", n, err, workers*ops/2)
	}
}

func TestPostgresSurvivesReopen(t *testing.T) {
	dsn := freshPostgresDB(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err = s.CreateUser(ctx, store.NewUser{
		User:         store.User{ID: "u"},
		Profile:      store.Profile{FirstName: "Ada"},
		Identifiers:  []store.Identifier{{Kind: store.KindEmail, Value: "ada@example.com", Norm: "ada@example.com"}},
		PasswordHash: "h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPostgresTest(t, dsn, true)
	u, err := s.UserByIdentifier(ctx, store.KindEmail, "ada@example.com")
	if err != nil {
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
	if p, err := s.Profile(ctx, "u"); err != nil || p.FirstName != "Ada" {
		t.Fatalf("profile after reopen: %+v, %v", p, err)
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
}

// An unreachable server is ErrUnavailable, so callers fail closed. Needs no
// server: nothing listens on port 1.
func TestPostgresUnreachableIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded against a closed port")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the password", err)
	}
}
