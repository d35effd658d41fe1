package sqlstore

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type fileRow struct {
	ID          string `db:"id"`
	UserID      string `db:"user_id"`
	Purpose     string `db:"purpose"`
	ContentType string `db:"content_type"`
	Size        int64  `db:"size"`
	SHA256      string `db:"sha256"`
	CreatedAt   int64  `db:"created_at"`
}

const fileCols = `id, user_id, purpose, content_type, size, sha256, created_at`

func (r fileRow) file() store.File {
	return store.File{ID: r.ID, UserID: r.UserID, Purpose: r.Purpose, ContentType: r.ContentType,
		Size: r.Size, SHA256: r.SHA256, Created: fromMicros(r.CreatedAt)}
}

// lockUser takes the user's row for the rest of tx, so that per-user caps
// (count, then insert) hold when one user's creates race: on Postgres with
// FOR UPDATE, on SQLite by the IMMEDIATE write lock every write
// transaction already holds. ErrNotFound when the user does not exist.
func (s *Store) lockUser(ctx context.Context, tx *sqlx.Tx, userID string) error {
	q := `SELECT id FROM users WHERE id = ?`
	if s.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	var id string
	return tx.GetContext(ctx, &id, tx.Rebind(q), userID)
}

// countUnderCap fails with ErrLimitReached when adding n rows to what
// query counts would pass max (max ≤ 0: no cap).
func countUnderCap(ctx context.Context, tx *sqlx.Tx, max, n int, query string, args ...any) error {
	if max <= 0 {
		return nil
	}
	var have int
	if err := tx.GetContext(ctx, &have, tx.Rebind(query), args...); err != nil {
		return err
	}
	if have+n > max {
		return store.ErrLimitReached
	}
	return nil
}

func insertFile(ctx context.Context, tx *sqlx.Tx, f store.File) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO files (`+fileCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		f.ID, f.UserID, f.Purpose, f.ContentType, f.Size, f.SHA256, micros(f.Created))
	return err
}

// CreateFile implements store.Files.
func (s *Store) CreateFile(ctx context.Context, f store.File, max int) error {
	if f.ID == "" || f.UserID == "" {
		return errors.New("sqlstore: create file: empty id or user")
	}
	if f.Created.IsZero() {
		f.Created = s.stamp()
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, f.UserID); err != nil {
			return err
		}
		if err := countUnderCap(ctx, tx, max, 1,
			`SELECT COUNT(*) FROM files WHERE user_id = ? AND purpose = ?`, f.UserID, f.Purpose); err != nil {
			return err
		}
		return insertFile(ctx, tx, f)
	})
	return wrap("create file", err)
}

// File implements store.Files.
func (s *Store) File(ctx context.Context, id string) (store.File, error) {
	var r fileRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT `+fileCols+` FROM files WHERE id = ?`), id); err != nil {
		return store.File{}, wrap("file", err)
	}
	return r.file(), nil
}

// UserFiles implements store.Files.
func (s *Store) UserFiles(ctx context.Context, userID string) ([]store.File, error) {
	var rows []fileRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+fileCols+` FROM files
		WHERE user_id = ? ORDER BY created_at, id`), userID); err != nil {
		return nil, wrap("user files", err)
	}
	out := make([]store.File, len(rows))
	for i, r := range rows {
		out[i] = r.file()
	}
	return out, nil
}

// DeleteFile implements store.Files.
func (s *Store) DeleteFile(ctx context.Context, userID, id string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM files WHERE id = ? AND user_id = ?`), id, userID)
	if err != nil {
		return wrap("delete file", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("delete file", err)
	} else if n == 0 {
		return wrap("delete file", store.ErrNotFound)
	}
	return nil
}
