package usercache

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
	"partnergate/store/storetest"
)

type fixture struct {
	raw   *sqlstore.Store // writes here bypass the cache, as the CLI's would
	cache *Store
	kv    *kv.KV
	mr    *miniredis.Miniredis
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "pg.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	mr := miniredis.RunT(t)
	cl := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { cl.Close() })
	k := kv.New(cl, kv.WithPrefix("t:"))
	return &fixture{raw: st, cache: New(st, k, time.Minute), kv: k, mr: mr}
}

func (f *fixture) user(t *testing.T, id, email string) {
	t.Helper()
	now := time.Now().UTC()
	err := f.raw.CreateUser(t.Context(), store.NewUser{
		User:        store.User{ID: id, Created: now, Updated: now, State: store.StateActive, FirstName: "Ada", Lang: "en"},
		Identifiers: []store.Identifier{{UserID: id, Kind: store.KindEmail, Value: email, Norm: email, Verified: true}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
}

func rename(name string) func(store.User) (store.User, error) {
	return func(u store.User) (store.User, error) { u.FirstName = name; return u, nil }
}

// The wrapper must keep every promise of the storage contract.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newFixture(t).cache })
}

func TestCachedUserServesTheCopy(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "u1", "ada@example.com")
	u, err := f.cache.CachedUser(ctx, "u1")
	if err != nil || u.FirstName != "Ada" || len(u.Identifiers) != 1 || !u.Identifiers[0].Verified {
		t.Fatalf("first CachedUser = %+v, %v", u, err)
	}
	// A write that bypasses the wrapper is invisible until the copy expires:
	// proof that the second read came from Redis, not SQL.
	if _, err := f.raw.UpdateUser(ctx, "u1", rename("Bypassed")); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.cache.CachedUser(ctx, "u1"); u.FirstName != "Ada" {
		t.Fatalf("cached read = %q, want the copy %q", u.FirstName, "Ada")
	}
	f.mr.FastForward(time.Minute + time.Millisecond)
	if u, _ := f.cache.CachedUser(ctx, "u1"); u.FirstName != "Bypassed" {
		t.Fatalf("read after TTL = %q, want %q", u.FirstName, "Bypassed")
	}
	if _, err := f.cache.CachedUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CachedUser(unknown) = %v, want ErrNotFound", err)
	}
	for _, k := range f.mr.Keys() {
		if f.mr.TTL(k) <= 0 {
			t.Errorf("key %q has no TTL", k)
		}
	}
}

// Every user write through the wrapper clears the copy, so the next read
// sees it at once.
func TestWritesClearTheCopy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, s *Store) error
		check func(t *testing.T, u store.User, err error)
	}{
		{"UpdateUser", func(ctx context.Context, s *Store) error {
			_, err := s.UpdateUser(ctx, "u1", rename("Grace"))
			return err
		}, func(t *testing.T, u store.User, err error) {
			if err != nil || u.FirstName != "Grace" {
				t.Fatalf("after UpdateUser: %q, %v", u.FirstName, err)
			}
		}},
		{"SetIdentifier", func(ctx context.Context, s *Store) error {
			return s.SetIdentifier(ctx, store.Identifier{UserID: "u1", Kind: store.KindEmail, Value: "new@example.com", Norm: "new@example.com"})
		}, func(t *testing.T, u store.User, err error) {
			e, _ := u.Identifier(store.KindEmail)
			if err != nil || e.Value != "new@example.com" || e.Verified {
				t.Fatalf("after SetIdentifier: %+v, %v", e, err)
			}
		}},
		{"SetUserRole", func(ctx context.Context, s *Store) error {
			return s.SetUserRole(ctx, "u1", "admin")
		}, func(t *testing.T, u store.User, err error) {
			if err != nil || u.Role != "admin" {
				t.Fatalf("after SetUserRole: %q, %v", u.Role, err)
			}
		}},
		{"DeleteUser", func(ctx context.Context, s *Store) error {
			return s.DeleteUser(ctx, "u1")
		}, func(t *testing.T, _ store.User, err error) {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after DeleteUser: %v, want ErrNotFound", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			f.user(t, "u1", "ada@example.com")
			if _, err := f.cache.CachedUser(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(ctx, f.cache); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			u, err := f.cache.CachedUser(ctx, "u1")
			tc.check(t, u, err)
		})
	}
}

// A read that fetched the old row before a write must not put it back after
// the write cleared the copy.
func TestRacingFillIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "u1", "ada@example.com")
	_, fence, err := f.kv.UserSnapshot(ctx, "u1")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserSnapshot before any fill = %v, want ErrNotFound", err)
	}
	if _, err := f.cache.UpdateUser(ctx, "u1", rename("Grace")); err != nil {
		t.Fatal(err)
	}
	stored, err := f.kv.PutUserSnapshot(ctx, "u1", []byte(`{"ID":"u1","FirstName":"Ada"}`), fence, time.Minute)
	if err != nil || stored {
		t.Fatalf("stale fill = %v, %v; want refused", stored, err)
	}
	if u, _ := f.cache.CachedUser(ctx, "u1"); u.FirstName != "Grace" {
		t.Fatalf("read after refused fill = %q, want Grace", u.FirstName)
	}
}

// Concurrent readers and writers: once the writes are done, a read returns
// the last write, never a copy filled from an older row.
func TestConcurrentReadsAndWrites(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "u1", "ada@example.com")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.cache.CachedUser(ctx, "u1"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var last string
	for i := range 50 {
		last = "name" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		if _, err := f.cache.UpdateUser(ctx, "u1", rename(last)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if u, _ := f.cache.CachedUser(ctx, "u1"); u.FirstName != last {
		t.Fatalf("after concurrent reads, CachedUser = %q, want the last write %q", u.FirstName, last)
	}
}

// With Redis gone the wrapper refuses writes (nothing changes) and reads
// fail closed.
func TestRedisDown(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	f.user(t, "u1", "ada@example.com")
	f.mr.Close()
	if _, err := f.cache.UpdateUser(ctx, "u1", rename("Grace")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("UpdateUser with Redis down = %v, want ErrUnavailable", err)
	}
	if u, err := f.raw.UserByID(ctx, "u1"); err != nil || u.FirstName != "Ada" {
		t.Fatalf("row after refused write = %q, %v; want unchanged", u.FirstName, err)
	}
	if _, err := f.cache.CachedUser(ctx, "u1"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CachedUser with Redis down = %v, want ErrUnavailable", err)
	}
}
