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
		User:        store.User{ID: id, Created: now, Updated: now, State: store.StateActive, Lang: "en"},
		Profile:     store.Profile{FirstName: "Ada"},
		Identifiers: []store.Identifier{{UserID: id, Kind: store.KindEmail, Value: email, Norm: email, Verified: true}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
}

func rename(name string) func(store.Profile) (store.Profile, error) {
	return func(p store.Profile) (store.Profile, error) { p.FirstName = name; return p, nil }
}

// The wrapper must keep every promise of the storage contract.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newFixture(t).cache })
}

func TestCachedUserServesTheCopy(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "u1", "ada@example.com")
	u, p, err := f.cache.CachedUser(ctx, "u1")
	if err != nil || p.FirstName != "Ada" || u.Lang != "en" || len(u.Identifiers) != 1 || !u.Identifiers[0].Verified {
		t.Fatalf("first CachedUser = %+v %+v, %v", u, p, err)
	}
	// A write that bypasses the wrapper is invisible until the copy expires:
	// proof that the second read came from Redis, not SQL.
	if _, err := f.raw.UpdateProfile(ctx, "u1", rename("Bypassed")); err != nil {
		t.Fatal(err)
	}
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != "Ada" {
		t.Fatalf("cached read = %q, want the copy %q", p.FirstName, "Ada")
	}
	f.mr.FastForward(time.Minute + time.Millisecond)
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != "Bypassed" {
		t.Fatalf("read after TTL = %q, want %q", p.FirstName, "Bypassed")
	}
	if _, _, err := f.cache.CachedUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CachedUser(unknown) = %v, want ErrNotFound", err)
	}
	for _, k := range f.mr.Keys() {
		if f.mr.TTL(k) <= 0 {
			t.Errorf("key %q has no TTL", k)
		}
	}
}

// Every user or profile write through the wrapper clears the copy, so the
// next read sees it at once.
func TestWritesClearTheCopy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, s *Store) error
		check func(t *testing.T, u store.User, p store.Profile, err error)
	}{
		{"UpdateUser", func(ctx context.Context, s *Store) error {
			_, err := s.UpdateUser(ctx, "u1", func(u store.User) (store.User, error) {
				u.State, u.Lang = store.StateDisabled, "de"
				return u, nil
			})
			return err
		}, func(t *testing.T, u store.User, _ store.Profile, err error) {
			if err != nil || u.State != store.StateDisabled || u.Lang != "de" {
				t.Fatalf("after UpdateUser: %q %q, %v", u.State, u.Lang, err)
			}
		}},
		{"UpdateProfile", func(ctx context.Context, s *Store) error {
			_, err := s.UpdateProfile(ctx, "u1", rename("Grace"))
			return err
		}, func(t *testing.T, _ store.User, p store.Profile, err error) {
			if err != nil || p.FirstName != "Grace" {
				t.Fatalf("after UpdateProfile: %q, %v", p.FirstName, err)
			}
		}},
		{"SetIdentifier", func(ctx context.Context, s *Store) error {
			return s.SetIdentifier(ctx, store.Identifier{UserID: "u1", Kind: store.KindEmail, Value: "new@example.com", Norm: "new@example.com"})
		}, func(t *testing.T, u store.User, _ store.Profile, err error) {
			e, _ := u.Identifier(store.KindEmail)
			if err != nil || e.Value != "new@example.com" || e.Verified {
				t.Fatalf("after SetIdentifier: %+v, %v", e, err)
			}
		}},
		{"SetUserRole", func(ctx context.Context, s *Store) error {
			return s.SetUserRole(ctx, "u1", "admin")
		}, func(t *testing.T, u store.User, _ store.Profile, err error) {
			if err != nil || u.Role != "admin" {
				t.Fatalf("after SetUserRole: %q, %v", u.Role, err)
			}
		}},
		{"DeleteUser", func(ctx context.Context, s *Store) error {
			return s.DeleteUser(ctx, "u1")
		}, func(t *testing.T, _ store.User, _ store.Profile, err error) {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after DeleteUser: %v, want ErrNotFound", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			f.user(t, "u1", "ada@example.com")
			if _, _, err := f.cache.CachedUser(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(ctx, f.cache); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			u, p, err := f.cache.CachedUser(ctx, "u1")
			tc.check(t, u, p, err)
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
	if _, err := f.cache.UpdateProfile(ctx, "u1", rename("Grace")); err != nil {
		t.Fatal(err)
	}
	stored, err := f.kv.PutUserSnapshot(ctx, "u1", []byte(`{"User":{"ID":"u1"},"Profile":{"FirstName":"Ada"}}`), fence, time.Minute)
	if err != nil || stored {
		t.Fatalf("stale fill = %v, %v; want refused", stored, err)
	}
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != "Grace" {
		t.Fatalf("read after refused fill = %q, want Grace", p.FirstName)
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
				if _, _, err := f.cache.CachedUser(ctx, "u1"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var last string
	for i := range 50 {
		last = "name" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		if _, err := f.cache.UpdateProfile(ctx, "u1", rename(last)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != last {
		t.Fatalf("after concurrent reads, CachedUser = %q, want the last write %q", p.FirstName, last)
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
	if _, err := f.cache.UpdateProfile(ctx, "u1", rename("Grace")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("UpdateUser with Redis down = %v, want ErrUnavailable", err)
	}
	if p, err := f.raw.Profile(ctx, "u1"); err != nil || p.FirstName != "Ada" {
		t.Fatalf("row after refused write = %q, %v; want unchanged", p.FirstName, err)
	}
	if _, _, err := f.cache.CachedUser(ctx, "u1"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CachedUser with Redis down = %v, want ErrUnavailable", err)
	}
}

// TestLocalCopyFollowsOtherProcesses: two wrappers on one Redis stand for
// two gateways. With Watch running, a reader serves its own decoded copy
// (a write bypassing both is not seen), and a write through the other
// gateway clears it at once by announcement.
func TestLocalCopyFollowsOtherProcesses(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "u1", "ada@example.com")
	other := New(f.raw, f.kv, time.Minute)
	clock := time.Now()
	f.cache.now = func() time.Time { return clock }

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.cache.Watch(wctx) }()
	defer func() { cancel(); <-done }()
	for !f.cache.isLive() {
		time.Sleep(time.Millisecond)
	}

	if _, p, err := f.cache.CachedUser(ctx, "u1"); err != nil || p.FirstName != "Ada" {
		t.Fatalf("first read = %q, %v", p.FirstName, err)
	}
	// Bypassing writes and a dropped Redis copy: only the local copy
	// can still answer "Ada".
	if _, err := f.raw.UpdateProfile(ctx, "u1", rename("Bypassed")); err != nil {
		t.Fatal(err)
	}
	f.mr.FlushAll()
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != "Ada" {
		t.Fatalf("local read = %q, want the local copy", p.FirstName)
	}
	// Past LocalTTL the local copy is not trusted.
	clock = clock.Add(LocalTTL)
	if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName != "Bypassed" {
		t.Fatalf("read past LocalTTL = %q, want Bypassed", p.FirstName)
	}
	// A write through the other gateway reaches this one's copy.
	if _, err := other.UpdateProfile(ctx, "u1", rename("Grace")); err != nil {
		t.Fatal(err)
	}
	for {
		if _, p, _ := f.cache.CachedUser(ctx, "u1"); p.FirstName == "Grace" {
			break
		}
		// Until the announcement lands the local copy may answer; it
		// must land, or the test hangs and fails by its deadline.
		time.Sleep(time.Millisecond)
	}
	// Without the watch the local copy is unused.
	cancel()
	<-done
	done <- nil
	if f.cache.isLive() {
		t.Fatal("local copy live after Watch ended")
	}
}

func (s *Store) isLive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}
