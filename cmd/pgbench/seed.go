package main

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Bulk seeding for the growth rows: users, their verified email and a
// credential, written straight into a migrated store with one precomputed
// argon2id hash (argon2 per user would take hours). Postgres uses COPY;
// SQLite multi-row INSERTs in large transactions.

// seedID is user i's id in a store seeded under tag. The tag is random per
// store: Redis keeps per-user state (attempt counters) under the user id,
// and stores of other gateways or earlier runs may share one Redis.
func seedID(tag string, i int) string { return fmt.Sprintf("%s-0000-7000-8000-%012d", tag, i) }
func seedEmail(i int) string          { return fmt.Sprintf("seed-%d@bench.example", i) }

// seed writes users [0, n) into g's store, which must be migrated and not
// served yet.
func seed(g *gateway, n int, hash string) error {
	db, dialect, err := openSQL(g)
	if err != nil {
		return err
	}
	defer db.Close()
	tag := randomHex(4)
	now := time.Now().UnixMicro()
	id := func(i int) string { return seedID(tag, i) }
	if dialect == "postgres" {
		err = seedPostgres(db, n, hash, now, id)
	} else {
		err = seedSQLite(db, n, hash, now, id)
	}
	if err != nil {
		return fmt.Errorf("seed %s: %w", g.name, err)
	}
	// Fresh statistics, as a live database would have.
	if _, err := db.Exec("ANALYZE"); err != nil {
		return err
	}
	if dialect == "sqlite" {
		_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return err
}

func seedPostgres(db *sql.DB, n int, hash string, now int64, seedID func(int) string) error {
	type table struct {
		copy string
		row  func(i int) []any
	}
	tables := []table{
		{`COPY users (id, created_at, updated_at, state, is_new) FROM STDIN`,
			func(i int) []any { return []any{seedID(i), now, now, "active", false} }},
		{`COPY identifiers (user_id, kind, value, norm, verified) FROM STDIN`,
			func(i int) []any { e := seedEmail(i); return []any{seedID(i), "email", e, e, true} }},
		{`COPY credentials (user_id, password_hash, updated_at) FROM STDIN`,
			func(i int) []any { return []any{seedID(i), hash, now} }},
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		st, err := tx.Prepare(t.copy)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if _, err := st.Exec(t.row(i)...); err != nil {
				return err
			}
		}
		if _, err := st.Exec(); err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func seedSQLite(db *sql.DB, n int, hash string, now int64, seedID func(int) string) error {
	const batch = 500
	type table struct {
		head, one string
		row       func(i int) []any
	}
	tables := []table{
		{`INSERT INTO users (id, created_at, updated_at, state, is_new) VALUES `, `(?,?,?,?,?)`,
			func(i int) []any { return []any{seedID(i), now, now, "active", 0} }},
		{`INSERT INTO identifiers (user_id, kind, value, norm, verified) VALUES `, `(?,?,?,?,?)`,
			func(i int) []any { e := seedEmail(i); return []any{seedID(i), "email", e, e, 1} }},
		{`INSERT INTO credentials (user_id, password_hash, updated_at) VALUES `, `(?,?,?)`,
			func(i int) []any { return []any{seedID(i), hash, now} }},
	}
	// The seeding connection only; the gateway opens its own with FULL.
	if _, err := db.Exec("PRAGMA synchronous(OFF)"); err != nil {
		return err
	}
	for _, t := range tables {
		full := t.head + strings.TrimSuffix(strings.Repeat(t.one+",", batch), ",")
		for start := 0; start < n; start += 50_000 {
			end := min(start+50_000, n)
			tx, err := db.Begin()
			if err != nil {
				return err
			}
			st, err := tx.Prepare(full)
			if err != nil {
				tx.Rollback()
				return err
			}
			args := make([]any, 0, batch*5)
			for i := start; i < end; i += batch {
				m := min(batch, end-i)
				args = args[:0]
				for j := i; j < i+m; j++ {
					args = append(args, t.row(j)...)
				}
				if m == batch {
					_, err = st.Exec(args...)
				} else {
					_, err = tx.Exec(t.head+strings.TrimSuffix(strings.Repeat(t.one+",", m), ","), args...)
				}
				if err != nil {
					st.Close()
					tx.Rollback()
					return err
				}
			}
			st.Close()
			if err := tx.Commit(); err != nil {
				return err
			}
		}
	}
	return nil
}
