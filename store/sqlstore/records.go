package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

// Credential returns the user's password hash. ErrNotFound when the user
// does not exist or has no password.
func (s *Store) Credential(ctx context.Context, userID string) (store.Credential, error) {
	var row struct {
		UserID       string `db:"user_id"`
		PasswordHash string `db:"password_hash"`
		UpdatedAt    int64  `db:"updated_at"`
	}
	err := s.ro.GetContext(ctx, &row, s.ro.Rebind(
		`SELECT user_id, password_hash, updated_at FROM credentials WHERE user_id = ?`), userID)
	if err != nil {
		return store.Credential{}, wrap("credential", err)
	}
	return store.Credential{UserID: row.UserID, PasswordHash: row.PasswordHash, Updated: fromMicros(row.UpdatedAt)}, nil
}

// SetPasswordHash creates or replaces the user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	if hash == "" {
		return errors.New("sqlstore: set password hash: empty hash")
	}
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(
		`INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`),
		userID, hash, micros(s.stamp()))
	if err != nil && isForeignKeyViolation(err) {
		// The user does not exist; say so instead of exposing the constraint.
		return fmt.Errorf("sqlstore: set password hash: %w", store.ErrNotFound)
	}
	return wrap("set password hash", err)
}

type partnerRow struct {
	KID          string `db:"kid"`
	Name         string `db:"name"`
	SecretSealed string `db:"secret_sealed"`
	Scopes       string `db:"scopes"`
	CreatedAt    int64  `db:"created_at"`
	RevokedAt    *int64 `db:"revoked_at"`
}

func (r *partnerRow) partner() store.Partner {
	return store.Partner{
		KID:          r.KID,
		Name:         r.Name,
		SecretSealed: r.SecretSealed,
		Scopes:       strings.Fields(r.Scopes),
		Created:      fromMicros(r.CreatedAt),
		Revoked:      fromMicrosPtr(r.RevokedAt),
	}
}

const partnerCols = `kid, name, secret_sealed, scopes, created_at, revoked_at`

// CreatePartner stores a partner key. A zero Created is taken from the
// clock. ErrAlreadyExists on a used KID.
func (s *Store) CreatePartner(ctx context.Context, p store.Partner) error {
	if p.KID == "" {
		return errors.New("sqlstore: create partner: empty kid")
	}
	for _, sc := range p.Scopes {
		// Scopes are stored space separated; a scope holding a space would
		// come back as two.
		if sc == "" || strings.ContainsAny(sc, " \t\r\n") {
			return errors.New("sqlstore: create partner: a scope is empty or contains white space")
		}
	}
	if p.Created.IsZero() {
		p.Created = s.stamp()
	}
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(
		`INSERT INTO partners (`+partnerCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		p.KID, p.Name, p.SecretSealed, strings.Join(p.Scopes, " "), micros(p.Created), microsPtr(p.Revoked))
	return wrap("create partner", err)
}

// Partner returns one partner key, revoked or not.
func (s *Store) Partner(ctx context.Context, kid string) (store.Partner, error) {
	var row partnerRow
	err := s.ro.GetContext(ctx, &row, s.ro.Rebind(`SELECT `+partnerCols+` FROM partners WHERE kid = ?`), kid)
	if err != nil {
		return store.Partner{}, wrap("partner", err)
	}
	return row.partner(), nil
}

// Partners lists every partner key, oldest first.
func (s *Store) Partners(ctx context.Context) ([]store.Partner, error) {
	var rows []partnerRow
	if err := s.ro.SelectContext(ctx, &rows, `SELECT `+partnerCols+` FROM partners ORDER BY created_at, kid`); err != nil {
		return nil, wrap("partners", err)
	}
	out := make([]store.Partner, len(rows))
	for i := range rows {
		out[i] = rows[i].partner()
	}
	return out, nil
}

// RevokePartner sets the revocation time; a key already revoked keeps its
// first revocation time.
func (s *Store) RevokePartner(ctx context.Context, kid string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(
		`UPDATE partners SET revoked_at = COALESCE(revoked_at, ?) WHERE kid = ?`),
		micros(s.stamp()), kid)
	return wrap("revoke partner", mustAffect(res, err))
}

type messageRow struct {
	ID        int64  `db:"id"`
	Channel   string `db:"channel"`
	ToAddr    string `db:"to_addr"`
	Subject   string `db:"subject"`
	Body      string `db:"body"`
	CreatedAt int64  `db:"created_at"`
	SentAt    *int64 `db:"sent_at"`
}

// EnqueueMessage appends to the outbox. A zero Created is taken from the
// clock.
func (s *Store) EnqueueMessage(ctx context.Context, m store.Message) (int64, error) {
	id, err := s.enqueue(ctx, s.rw, m)
	if err != nil {
		return 0, wrap("enqueue message", err)
	}
	return id, nil
}

// enqueue inserts m through q: the pool, or a transaction (CreateUser).
func (s *Store) enqueue(ctx context.Context, q sqlx.QueryerContext, m store.Message) (int64, error) {
	if m.Created.IsZero() {
		m.Created = s.stamp()
	}
	var id int64
	err := sqlx.GetContext(ctx, q, &id, s.rw.Rebind(
		`INSERT INTO outbox (channel, to_addr, subject, body, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		m.Channel, m.To, m.Subject, m.Body, micros(m.Created), microsPtr(m.Sent))
	return id, err
}

// MessagesTo lists the outbox entries for one address, newest first, at
// most limit of them (all when limit <= 0). Newest means last enqueued: ids
// grow with every insert, whereas created times may tie or be supplied by
// the caller.
func (s *Store) MessagesTo(ctx context.Context, to string, limit int) ([]store.Message, error) {
	q := `SELECT id, channel, to_addr, subject, body, created_at, sent_at FROM outbox WHERE to_addr = ? ORDER BY id DESC`
	args := []any{to}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var rows []messageRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(q), args...); err != nil {
		return nil, wrap("messages to", err)
	}
	out := make([]store.Message, len(rows))
	for i, r := range rows {
		out[i] = store.Message{
			ID:      r.ID,
			Channel: r.Channel,
			To:      r.ToAddr,
			Subject: r.Subject,
			Body:    r.Body,
			Created: fromMicros(r.CreatedAt),
			Sent:    fromMicrosPtr(r.SentAt),
		}
	}
	return out, nil
}
