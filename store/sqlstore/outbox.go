package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"partnergate/store"
)

var _ store.Outbox = (*Store)(nil)

// outboxRow is one outbox row with its delivery state. next_attempt_at is
// read through COALESCE: NULL means due at created_at.
type outboxRow struct {
	ID            int64  `db:"id"`
	Channel       string `db:"channel"`
	ToAddr        string `db:"to_addr"`
	Subject       string `db:"subject"`
	Body          string `db:"body"`
	CreatedAt     int64  `db:"created_at"`
	SentAt        *int64 `db:"sent_at"`
	Attempts      int    `db:"attempts"`
	NextAttemptAt int64  `db:"next_attempt_at"`
	ClaimedUntil  *int64 `db:"claimed_until"`
	LastError     string `db:"last_error"`
	Dead          bool   `db:"dead"`
}

func (r *outboxRow) entry() store.OutboxEntry {
	return store.OutboxEntry{
		Message: store.Message{
			ID:      r.ID,
			Channel: r.Channel,
			To:      r.ToAddr,
			Subject: r.Subject,
			Body:    r.Body,
			Created: fromMicros(r.CreatedAt),
			Sent:    fromMicrosPtr(r.SentAt),
		},
		Attempts:     r.Attempts,
		NextAttempt:  fromMicros(r.NextAttemptAt),
		ClaimedUntil: fromMicrosPtr(r.ClaimedUntil),
		LastError:    r.LastError,
		Dead:         r.Dead,
	}
}

// outboxCols lists outboxRow's columns; prefix qualifies them ("o.").
func outboxCols(prefix string) string {
	cols := []string{"id", "channel", "to_addr", "subject", "body", "created_at", "sent_at", "attempts",
		"COALESCE(" + prefix + "next_attempt_at, " + prefix + "created_at) AS next_attempt_at",
		"claimed_until", "last_error", "dead"}
	for i, c := range cols {
		if !strings.HasPrefix(c, "COALESCE") {
			cols[i] = prefix + c
		}
	}
	return strings.Join(cols, ", ")
}

// The claim statements. Both pick the due messages in due order and lease
// them in one statement. On Postgres, FOR UPDATE SKIP LOCKED lets
// concurrent claimers pass over each other's rows instead of waiting, and a
// row another claimer committed meanwhile is re-checked against the WHERE
// clause, so it is not taken twice. On SQLite the statement holds the
// database's single write lock. The due predicate and the ordering repeat
// outbox_due_idx's expression and WHERE clause so the index serves them.
var (
	claimPostgres = `WITH due AS (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND NOT dead
      AND COALESCE(next_attempt_at, created_at) <= ?
      AND (claimed_until IS NULL OR claimed_until <= ?)
    ORDER BY COALESCE(next_attempt_at, created_at), id
    LIMIT ?
    FOR UPDATE SKIP LOCKED)
UPDATE outbox o SET claimed_until = ?, attempts = o.attempts + 1
FROM due WHERE o.id = due.id
RETURNING ` + outboxCols("o.")

	claimSQLite = `UPDATE outbox SET claimed_until = ?, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND dead = 0
      AND COALESCE(next_attempt_at, created_at) <= ?
      AND (claimed_until IS NULL OR claimed_until <= ?)
    ORDER BY COALESCE(next_attempt_at, created_at), id
    LIMIT ?)
RETURNING ` + outboxCols("")
)

// ClaimMessages leases up to limit due messages until now+lease and returns
// them oldest due first, with Attempts already counting this claim.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, errors.New("sqlstore: claim messages: the lease must be positive")
	}
	at, until := micros(now), micros(now.Add(lease))
	var (
		q    string
		args []any
	)
	if s.dialect == DialectPostgres {
		q, args = claimPostgres, []any{at, at, limit, until}
	} else {
		q, args = claimSQLite, []any{until, at, at, limit}
	}
	var rows []outboxRow
	if err := s.rw.SelectContext(ctx, &rows, s.rw.Rebind(q), args...); err != nil {
		return nil, wrap("claim messages", err)
	}
	out := make([]store.OutboxEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].entry()
	}
	// RETURNING gives no order.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttempt.Equal(out[j].NextAttempt) {
			return out[i].NextAttempt.Before(out[j].NextAttempt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// MarkSent records the delivery time (the first one, if marked twice) and
// releases the lease.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(
		`UPDATE outbox SET sent_at = COALESCE(sent_at, ?), claimed_until = NULL WHERE id = ?`),
		micros(at), id)
	return wrap("mark sent", mustAffect(res, err))
}

// MarkFailed records a failed attempt and releases the lease; a message
// already sent is left alone.
func (s *Store) MarkFailed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(
		`UPDATE outbox SET last_error = ?, next_attempt_at = ?, claimed_until = NULL, dead = ?
		 WHERE id = ? AND sent_at IS NULL`),
		cleanErrorText(errText), micros(next), dead, id)
	if err != nil {
		return wrap("mark failed", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("mark failed", err)
	} else if n > 0 {
		return nil
	}
	// Nothing updated: either sent already (fine) or no such message.
	var count int
	if err := s.rw.GetContext(ctx, &count, s.rw.Rebind(`SELECT COUNT(*) FROM outbox WHERE id = ?`), id); err != nil {
		return wrap("mark failed", err)
	}
	if count == 0 {
		return fmt.Errorf("sqlstore: mark failed: %w", store.ErrNotFound)
	}
	return nil
}

// OutboxEntryByID returns one message with its delivery state.
func (s *Store) OutboxEntryByID(ctx context.Context, id int64) (store.OutboxEntry, error) {
	var row outboxRow
	err := s.ro.GetContext(ctx, &row, s.ro.Rebind(`SELECT `+outboxCols("")+` FROM outbox WHERE id = ?`), id)
	if err != nil {
		return store.OutboxEntry{}, wrap("outbox entry", err)
	}
	return row.entry(), nil
}

// cleanErrorText makes an error text storable in a TEXT column of either
// dialect (valid UTF-8, no NUL, which Postgres refuses) and cuts it to
// store.MaxOutboxErrorLen bytes on a character boundary.
func cleanErrorText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= store.MaxOutboxErrorLen {
		return s
	}
	cut := store.MaxOutboxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
