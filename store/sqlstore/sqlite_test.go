package sqlstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"partnergate/store"
	"partnergate/store/storetest"
)

// openSQLiteTest opens and migrates a store on a new file; migrating twice
// proves Migrate is idempotent.
func openSQLiteTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	for range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	if s.Dialect() != DialectSQLite {
		t.Fatalf("Dialect = %q", s.Dialect())
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLiteTest(t, filepath.Join(t.TempDir(), "partnergate.db"))
	})
}

// Mixed concurrent writes and reads must never surface SQLITE_BUSY
// ("database is locked").
func TestSQLiteConcurrentLoad(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "load.db"))
	ctx := t.Context()
	const workers, ops = 32, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				norm := fmt.Sprintf("w%d-%d@example.com", w, i/2)
				if i%2 == 0 {
					err := s.CreateUser(ctx, store.NewUser{
						User:         store.User{ID: fmt.Sprintf("w%d-%d", w, i)},
						Identifiers:  []store.Identifier{{Kind: store.KindEmail, Value: norm, Norm: norm}},
						PasswordHash: "h",
					})
					if err != nil {
						fail(fmt.Errorf("create %s: %w", norm, err))
					}
					continue
				}
				if _, err := s.UserByIdentifier(ctx, store.KindEmail, norm); err != nil {
					fail(fmt.Errorf("read %s: %w", norm, err))
				}
				if _, err := s.CountUsers(ctx); err != nil {
					fail(fmt.Errorf("count: %w", err))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != workers*ops/2 {
		t.Fatalf("CountUsers = %d, %v; want %d", n, err, workers*ops/2)
	}
}

func TestSQLiteSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "durable.db")
	ctx := t.Context()
	s, err := Open(ctx, path) // no "sqlite:" prefix: a bare path works too
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
	if _, err := s.EnqueueMessage(ctx, store.Message{Channel: "email", To: "ada@example.com", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openSQLiteTest(t, path)
	u, err := s.UserByIdentifier(ctx, store.KindEmail, "ada@example.com")
	if err != nil || u.ID != "u" {
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
	if p, err := s.Profile(ctx, "u"); err != nil || p.FirstName != "Ada" {
		t.Fatalf("profile after reopen: %+v, %v", p, err)
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
	if c, err := s.Credential(ctx, "u"); err != nil || c.PasswordHash != "h" {
		t.Fatalf("credential after reopen: %+v, %v", c, err)
	}
	if ms, err := s.MessagesTo(ctx, "ada@example.com", 0); err != nil || len(ms) != 1 {
		t.Fatalf("outbox after reopen: %+v, %v", ms, err)
	}
}

// Two stores on one file stand in for two processes migrating at once.
func TestSQLiteConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	ctx := t.Context()
	var stores [4]*Store
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
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
	var n int
	if err := stores[0].ro.Get(&n, `SELECT COUNT(*) FROM schema_migrations`); err != nil || n == 0 {
		t.Fatalf("schema_migrations rows = %d, %v", n, err)
	}
}

func TestSQLiteWritesThroughReadPoolFail(t *testing.T) {
	// The read pool is query_only: a write sent there by mistake fails
	// instead of competing with the writer for the lock.
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "ro.db"))
	_, err := s.ro.Exec(`DELETE FROM users`)
	if err == nil {
		t.Fatal("write through the read pool succeeded")
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, dsn := range []string{"", "sqlite::memory:", "file::memory:?cache=shared", "sqlite:/tmp/x.db?mode=ro"} {
		if s, err := Open(t.Context(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

func TestErrorsHideValues(t *testing.T) {
	s := openSQLiteTest(t, filepath.Join(t.TempDir(), "e.db"))
	ctx := t.Context()
	secret := "secret-person@example.com"
	nu := store.NewUser{User: store.User{ID: "a"}, Identifiers: []store.Identifier{{Kind: store.KindEmail, Value: secret, Norm: secret}}}
	if err := s.CreateUser(ctx, nu); err != nil {
		t.Fatal(err)
	}
	nu.User.ID = "b"
	err := s.CreateUser(ctx, nu)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); msg == "" || strings.Contains(msg, secret) {
		t.Errorf("error message %q leaks the value", msg)
	}
}
