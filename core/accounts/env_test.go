package accounts_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

// cheap keeps argon2id fast where the test is not about cost.
var cheap = password.Params{Memory: 64, Iterations: 1, Parallelism: 1}

// clock is the test's time: the service, KV and SQL store all read it, and
// advance moves miniredis along, so nothing sleeps. It starts on a whole
// millisecond so Redis's millisecond timestamps make exact durations.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// syncBuffer collects the audit log; zerolog writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	st  *sqlstore.Store
	mr  *miniredis.Miniredis
	kv  *kv.KV
	clk *clock
	svc *accounts.Service
	log *syncBuffer

	mu      sync.Mutex
	secrets []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	mr := miniredis.RunT(t)
	// No retries: with Redis down a call fails at once instead of backing off.
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = client.Close() })
	k := kv.New(client, kv.WithClock(clk.Now))
	h, err := password.NewHasher(cheap, 8, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, mr: mr, kv: k, clk: clk, log: &syncBuffer{}}
	e.svc = &accounts.Service{
		Store: st, KV: k, Hasher: h,
		Throttle: accounts.DefaultThrottle, Sessions: accounts.DefaultSessionPolicy,
		Now: clk.Now, Log: zerolog.New(e.log),
	}
	t.Cleanup(func() {
		// SECURITY.md 19: no password or token reaches the log.
		out := e.log.String()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.secrets {
			if strings.Contains(out, s) {
				t.Errorf("the log holds secret %q", s)
			}
		}
		// SECURITY.md 23: every Redis key has a TTL.
		for _, key := range mr.Keys() {
			if mr.TTL(key) <= 0 {
				t.Errorf("redis key %q has no TTL", key)
			}
		}
	})
	return e
}

// secret records a value that must never appear in the log and returns it.
func (e *env) secret(s string) string {
	if len(s) < 8 {
		return s // too short to search the log for
	}
	e.mu.Lock()
	e.secrets = append(e.secrets, s)
	e.mu.Unlock()
	return s
}

// advance moves the shared clock and miniredis time together.
func (e *env) advance(d time.Duration) {
	e.clk.mu.Lock()
	e.clk.t = e.clk.t.Add(d)
	e.clk.mu.Unlock()
	e.mr.FastForward(d)
}

func (e *env) register(t *testing.T, email, pw string) store.User {
	t.Helper()
	u, err := e.svc.Register(t.Context(), accounts.Registration{Email: email, Password: e.secret(pw)})
	if err != nil {
		t.Fatalf("Register(%s): %v", email, err)
	}
	return u
}

// login checks an email and password the way auth.getUserByEmailAndPassword
// does.
func (e *env) login(t *testing.T, email, pw, ip string) (store.User, error) {
	t.Helper()
	norm := "invalid:" + email
	if em, err := accounts.ParseEmail(email); err == nil {
		norm = em.Norm
	}
	return e.svc.CheckPassword(t.Context(), accounts.Login{Kind: store.KindEmail, Norm: norm, Password: e.secret(pw), IP: ip})
}

func (e *env) countUsers(t *testing.T) int64 {
	t.Helper()
	n, err := e.st.CountUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, what string, err error, want fault.Code) {
	t.Helper()
	if got := fault.CodeOf(err); got != want {
		t.Fatalf("%s: err = %v (code %d), want code %d", what, err, got, want)
	}
	if want == 0 && err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantThrottled checks a Throttled fault and returns its RetryAfter.
func wantThrottled(t *testing.T, what string, err error) time.Duration {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Throttled {
		t.Fatalf("%s: err = %v, want fault.Throttled", what, err)
	}
	if fe.RetryAfter <= 0 {
		t.Fatalf("%s: RetryAfter = %s, want > 0", what, fe.RetryAfter)
	}
	return fe.RetryAfter
}
