package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/lib/pq"

	"partnergate/client"
	"partnergate/core/partners"

	"partnergate/cmd/partnergate/gateway"
)

// syncBuffer is a log sink tests can read while the server writes.
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

// gateway is a Main serving on a free loopback port for one test.
type testGateway struct {
	*gateway.Main
	URL  string
	Logs *syncBuffer
	stop func() error
}

// backend names where a test's state lives.
type backend struct {
	name string
	env  map[string]string
}

// backends returns the embedded default always, and Postgres + Redis when
// the test environment provides them (CI always does).
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{name: "embedded", env: map[string]string{}}}
	pg, rd := os.Getenv("PARTNERGATE_TEST_DATABASE_URL"), os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if pg == "" || rd == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARTNERGATE_TEST_DATABASE_URL and PARTNERGATE_TEST_REDIS_URL must be set in CI")
		}
		t.Log("PARTNERGATE_TEST_DATABASE_URL/PARTNERGATE_TEST_REDIS_URL unset: end-to-end tests on Postgres and Redis SKIPPED, embedded only")
		return bs
	}
	return append(bs, backend{name: "postgres+redis", env: map[string]string{
		"DATABASE_URL":           freshDatabase(t, pg),
		"REDIS_URL":              rd,
		"PARTNERGATE_SECRET_KEY": testKey(),
		// Each test's keys apart: the server is shared across runs.
		"PARTNERGATE_REDIS_PREFIX": "e2e" + testKey()[:8] + ":",
	}})
}

func testKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// freshDatabase creates a database for one test and drops it afterwards.
func freshDatabase(t *testing.T, admin string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "e2e_" + hex.EncodeToString(b[:])
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// cheapArgon keeps end-to-end tests fast; the cost itself is measured in
// benchmarks, not here.
var cheapArgon = map[string]string{
	"PARTNERGATE_ARGON2_MEMORY":     "256",
	"PARTNERGATE_ARGON2_ITERATIONS": "1",
	"PARTNERGATE_HASH_WAIT":         "2s",
}

// mustRunMain starts a gateway on 127.0.0.1:0 with a temporary data dir.
func mustRunMain(tb testing.TB, env ...map[string]string) *testGateway {
	tb.Helper()
	return mustRunMainWith(tb, nil, env...)
}

// mustRunMainWith is mustRunMain with a hook that runs after Open and
// before Serve, for tests that adjust a service (say, its throttle) before
// any request can see it.
func mustRunMainWith(tb testing.TB, setup func(m *gateway.Main), env ...map[string]string) *testGateway {
	tb.Helper()
	vars := map[string]string{
		"PARTNERGATE_ADDR":     "127.0.0.1:0",
		"PARTNERGATE_DATA_DIR": tb.TempDir(),
		"PARTNERGATE_DEV":      "true",
	}
	for _, e := range append([]map[string]string{cheapArgon}, env...) {
		for k, v := range e {
			vars[k] = v
		}
	}
	cfg, err := gateway.LoadConfig(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return vars[k] })
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	m := gateway.NewMain(cfg, logs)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	if setup != nil {
		setup(m)
	}
	if err := m.Listen(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	g := &testGateway{Main: m, URL: "http://" + m.Addr(), Logs: logs}
	var once sync.Once
	var stopErr error
	g.stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
			if err := m.Close(); stopErr == nil {
				stopErr = err
			}
		})
		return stopErr
	}
	tb.Cleanup(func() {
		if err := g.stop(); err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("stop: %v", err)
		}
	})
	return g
}

// partner creates a key on the gateway's store, as `partners create` does.
func (g *testGateway) partner(tb testing.TB, scopes ...string) *client.Client {
	tb.Helper()
	created, err := partners.New(g.Store(), nil, g.Ring(), nil).Create(context.Background(), "test", scopes)
	if err != nil {
		tb.Fatal(err)
	}
	return client.New(g.URL).WithPartner(created.KID, created.Secret)
}

// runCLI runs a subcommand in-process with env and returns its output.
func runCLI(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func flagSet() *flag.FlagSet { return flag.NewFlagSet("test", flag.ContinueOnError) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
