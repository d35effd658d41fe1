// Package sqlstore implements store.Store on PostgreSQL (lib/pq) and SQLite
// (modernc.org/sqlite, pure Go). Queries are written once with '?' and
// rebound per dialect; the schema comes from partnergate/schema.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite"

	"partnergate/schema"
	"partnergate/store"
)

// Dialect names returned by (*Store).Dialect.
const (
	DialectPostgres = schema.Postgres
	DialectSQLite   = schema.SQLite
)

// Store is a store.Store backed by a SQL database. It is safe for concurrent
// use.
type Store struct {
	dialect string
	// rw carries every write and every read-then-write transaction. On
	// SQLite it holds a single connection: SQLite allows one writer at a
	// time, and queueing writers in the Go pool instead of in SQLite's busy
	// handler is what keeps "database is locked" away under load.
	rw *sqlx.DB
	// ro carries plain reads. On SQLite it is a separate query_only pool so
	// reads run concurrently with the writer (WAL); on Postgres it is rw.
	ro  *sqlx.DB
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// Option configures Open.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock sets the clock used for created and updated times. Tests use it
// to get predictable timestamps; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL opens PostgreSQL, anything else is a SQLite file path,
// optionally prefixed with "sqlite:". Open checks the database answers but
// does not migrate it; call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	var (
		s   *Store
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	s.now = cfg.now
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, wrap("open "+s.dialect, err)
	}
	return s, nil
}

func openPostgres(dsn string) (*Store, error) {
	dsn, err := oneRoundTrip(dsn)
	if err != nil {
		return nil, errors.New("sqlstore: open postgres: invalid connection URL")
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		// lib/pq's parse errors can echo the URL, password included.
		return nil, errors.New("sqlstore: open postgres: invalid connection URL")
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	// Recycle connections so a failover or a server-side idle timeout does
	// not leave the pool full of dead sockets.
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{dialect: DialectPostgres, rw: db, ro: db}, nil
}

// oneRoundTrip sets lib/pq's binary_parameters=yes unless the DSN says
// otherwise: a query with arguments then goes out as Parse, Bind, Execute
// and Sync at once, on the unnamed statement. Without it lib/pq prepares
// the unnamed statement and syncs before binding, and behind PgBouncer in
// transaction mode (docs/operations.md) the bind can reach another server
// connection, which answers 26000 (no such prepared statement). Nothing
// else in this package keeps state on a connection past a transaction: no
// named prepared statements, no session advisory locks, no SET.
func oneRoundTrip(dsn string) (string, error) {
	if strings.Contains(dsn, "binary_parameters=") {
		return dsn, nil
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return strings.TrimSpace(dsn) + " binary_parameters=yes", nil
}

func openSQLite(path string) (*Store, error) {
	path = strings.TrimPrefix(path, "file:")
	if path == "" || strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory") {
		// Each pool connection would see its own empty in-memory database.
		return nil, errors.New("sqlstore: open sqlite: a file path is required (in-memory databases are not supported)")
	}
	if strings.ContainsAny(path, "?") {
		return nil, errors.New("sqlstore: open sqlite: the path must not carry query parameters")
	}
	// The name is passed to SQLite as a URI, so escape what URIs reserve.
	uri := "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(path) +
		"?_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(FULL)"

	// IMMEDIATE takes the write lock at BEGIN. A deferred transaction that
	// reads first and writes later cannot wait for the lock in WAL mode and
	// fails at once with SQLITE_BUSY when another process wrote meanwhile.
	rw, err := sqlx.Open("sqlite", uri+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	rw.SetMaxOpenConns(1)
	rw.SetMaxIdleConns(1)
	rw.SetConnMaxLifetime(0)
	// Open the writer first so the file exists and is in WAL mode before
	// any query_only reader connects.
	if err := rw.Ping(); err != nil {
		rw.Close()
		return nil, wrap("open sqlite", err)
	}

	ro, err := sqlx.Open("sqlite", uri+"&_pragma=query_only(1)")
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	ro.SetMaxOpenConns(4)
	ro.SetMaxIdleConns(4)
	ro.SetConnMaxLifetime(0)
	return &Store{dialect: DialectSQLite, rw: rw, ro: ro}, nil
}

// Dialect reports "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks the database answers on both pools.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.ping(ctx))
}

func (s *Store) ping(ctx context.Context) error {
	if err := s.rw.PingContext(ctx); err != nil {
		return err
	}
	if s.ro != s.rw {
		return s.ro.PingContext(ctx)
	}
	return nil
}

// Close releases both pools.
func (s *Store) Close() error {
	err := s.rw.Close()
	if s.ro != s.rw {
		err = errors.Join(err, s.ro.Close())
	}
	return err
}

// stamp is the clock reading stored in the database: UTC, microsecond
// precision, so what a caller gets back equals what a later read returns.
func (s *Store) stamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := micros(*t)
	return &v
}

func fromMicrosPtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

// inTx runs fn in a write transaction and commits it, rolling back on any
// error.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.rw.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// migrationLockKey is the pg_advisory_xact_lock key serialising Migrate
// across processes; an arbitrary constant private to partnergate.
const migrationLockKey int64 = 0x7061_7274_6e65_7267 // "partnerg"

// Migrate applies every migration not yet recorded in schema_migrations,
// each in its own transaction together with its version row. It is
// idempotent and safe to run from several processes at once: on Postgres
// each transaction holds an advisory lock and re-checks the version under
// it; on SQLite the IMMEDIATE write lock does the same.
func (s *Store) Migrate(ctx context.Context) error {
	migrations, err := schema.Migrations(s.dialect)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, m := range migrations {
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

// bootstrapSQL creates schema_migrations; it must exist before the first
// migration can be checked for. Kept identical to the 0001 definition.
const bootstrapSQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
)`

func (s *Store) applyMigration(ctx context.Context, m schema.Migration) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.dialect == DialectPostgres {
			// Taken before anything else, the CREATE TABLE IF NOT EXISTS
			// included: two of those racing on Postgres can fail on the
			// catalog's unique index.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, bootstrapSQL); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
			m.Version, micros(s.stamp()))
		return err
	})
	if err != nil {
		return wrapErr(err)
	}
	return nil
}
