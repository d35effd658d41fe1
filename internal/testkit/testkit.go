// Package testkit runs real gateways for end-to-end tests: one call starts a
// gateway on 127.0.0.1:0 with a temporary data directory, on the embedded
// store or on PostgreSQL and Redis, and closes it when the test ends; a few
// helpers make partners, users and sessions through the public methods and
// read the dev outbox, so a namespace's test says only what it checks.
//
//	g := testkit.MustRunMain(t)
//	id, token := g.RegisterUser(t, "ann@example.com", "correct horse battery staple")
//	r := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil)
//
// Every test that should hold on both backends ranges over Backends:
//
//	for _, b := range testkit.Backends(t) {
//		t.Run(b.Name, func(t *testing.T) { g := testkit.MustRunMain(t, testkit.Env(b.Env)) ... })
//	}
package testkit

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

	_ "github.com/lib/pq" // FreshDatabase talks to the PostgreSQL server directly

	"partnergate/client"
	"partnergate/cmd/partnergate/gateway"
	"partnergate/core/partners"
)

// The environment that points the kit at real services. CI must set both:
// a green run there has to mean Postgres and Redis were exercised.
const (
	EnvDatabaseURL = "PARTNERGATE_TEST_DATABASE_URL"
	EnvRedisURL    = "PARTNERGATE_TEST_REDIS_URL"
)

// Gateway is a Main serving on a free loopback port for one test. Its
// embedded Main gives the test the stores behind the transport.
type Gateway struct {
	*gateway.Main
	// URL is the base URL, http://127.0.0.1:port.
	URL string
	// Logs holds everything the gateway logged, readable while it runs.
	Logs *LogBuffer

	stop func() error
}

// Option adjusts the gateway MustRunMain starts.
type Option func(*config)

type config struct {
	tb    testing.TB
	env   map[string]string
	setup []func(*gateway.Main)
}

// Env sets settings as the environment would (docs/configuration.md);
// later options win.
func Env(vars map[string]string) Option {
	return func(c *config) {
		for k, v := range vars {
			c.env[k] = v
		}
	}
}

// Setup runs fn after Open and before the gateway listens, for tests that
// adjust a service (say, its throttle) before any request can see it.
func Setup(fn func(m *gateway.Main)) Option {
	return func(c *config) { c.setup = append(c.setup, fn) }
}

// Postgres puts the gateway on real PostgreSQL (a fresh database, dropped
// when the test ends) and Redis (under a key prefix of its own), from
// PARTNERGATE_TEST_DATABASE_URL and PARTNERGATE_TEST_REDIS_URL. The test is
// skipped when they are unset, and fails instead when CI=true.
func Postgres() Option {
	return func(c *config) {
		pg, rd := services(c.tb)
		if pg == "" {
			c.tb.Skip(EnvDatabaseURL + "/" + EnvRedisURL + " unset: Postgres and Redis test SKIPPED")
		}
		Env(postgresEnv(c.tb, pg, rd))(c)
	}
}

// Backend is one place a test's state can live.
type Backend struct {
	Name string // "embedded" or "postgres+redis", for t.Run
	// Env holds the settings that put a gateway on it (none for embedded);
	// gateways started with the same Env share one database and one Redis
	// keyspace, as the processes of one deployment do.
	Env map[string]string
}

// Backends is the embedded default always, and Postgres + Redis (a fresh
// database, dropped when tb ends) when the environment provides them (CI
// always must). When it does not, the test runs embedded only and logs
// that the real services were skipped.
func Backends(tb testing.TB) []Backend {
	tb.Helper()
	bs := []Backend{{Name: "embedded", Env: map[string]string{}}}
	pg, rd := services(tb)
	if pg == "" {
		tb.Log(EnvDatabaseURL + "/" + EnvRedisURL + " unset: end-to-end tests on Postgres and Redis SKIPPED, embedded only")
		return bs
	}
	return append(bs, Backend{Name: "postgres+redis", Env: postgresEnv(tb, pg, rd)})
}

// services returns the real services' addresses, or "" for both when
// either is missing; in CI a missing one fails the test.
func services(tb testing.TB) (pg, rd string) {
	tb.Helper()
	pg, rd = os.Getenv(EnvDatabaseURL), os.Getenv(EnvRedisURL)
	if pg != "" && rd != "" {
		return pg, rd
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal(EnvDatabaseURL + " and " + EnvRedisURL + " must be set in CI")
	}
	return "", ""
}

func postgresEnv(tb testing.TB, pg, rd string) map[string]string {
	return map[string]string{
		"DATABASE_URL":           FreshDatabase(tb, pg),
		"REDIS_URL":              rd,
		"PARTNERGATE_SECRET_KEY": NewSecretKey(),
		// Each test's keys apart: the Redis server is shared across runs.
		"PARTNERGATE_REDIS_PREFIX": "e2e" + NewSecretKey()[:8] + ":",
	}
}

// NewSecretKey returns a fresh PARTNERGATE_SECRET_KEY value.
func NewSecretKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// FreshDatabase creates a database on the PostgreSQL server at admin (a
// URL whose user may CREATE DATABASE) and returns its URL; it is dropped
// when tb ends.
func FreshDatabase(tb testing.TB, admin string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "e2e_" + hex.EncodeToString(b[:])
	db, err := sql.Open("postgres", admin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
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

// MustRunMain starts a gateway on 127.0.0.1:0 with a temporary data dir, in
// dev mode (so the outbox is readable) and with cheap password hashing; it
// stops when the test ends. It fails the test if the gateway cannot start.
func MustRunMain(tb testing.TB, opts ...Option) *Gateway {
	tb.Helper()
	c := &config{tb: tb, env: map[string]string{
		"PARTNERGATE_ADDR":     "127.0.0.1:0",
		"PARTNERGATE_DATA_DIR": tb.TempDir(),
		"PARTNERGATE_DEV":      "true",
	}}
	Env(cheapArgon)(c)
	for _, o := range opts {
		o(c)
	}
	cfg, err := gateway.LoadConfig(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return c.env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	logs := &LogBuffer{}
	m := gateway.NewMain(cfg, logs)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	for _, fn := range c.setup {
		fn(m)
	}
	if err := m.Listen(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	g := &Gateway{Main: m, URL: "http://" + m.Addr(), Logs: logs}
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
		if err := g.Stop(); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
	return g
}

// Stop shuts the gateway down as SIGTERM would and closes its stores, for
// tests that need it gone before they end; later calls return the same.
func (g *Gateway) Stop() error {
	if err := g.stop(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Client is an anonymous client of the gateway; WithToken and WithPartner
// turn it into a user's or a partner's.
func (g *Gateway) Client() *client.Client { return client.New(g.URL) }

// NewPartner creates a partner key with scopes on the gateway's store, as
// `partnergate partners create` does.
func (g *Gateway) NewPartner(tb testing.TB, scopes ...string) (kid, secret string) {
	tb.Helper()
	created, err := partners.New(g.Store(), nil, g.Ring(), nil).Create(context.Background(), "test", scopes)
	if err != nil {
		tb.Fatal(err)
	}
	return created.KID, created.Secret
}

// Partner is a client that signs its calls with a new partner key; its KID
// and Secret are the key's.
func (g *Gateway) Partner(tb testing.TB, scopes ...string) *client.Client {
	tb.Helper()
	return g.Client().WithPartner(g.NewPartner(tb, scopes...))
}

// LogBuffer is a log sink tests can read while the server writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
