package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type chatRow struct {
	UserID    string `db:"user_id"`
	Name      string `db:"name"`
	NameFold  string `db:"name_fold"`
	About     string `db:"about"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r chatRow) profile() store.ChatProfile {
	return store.ChatProfile{UserID: r.UserID, Name: r.Name, NameFold: r.NameFold, About: r.About, Updated: fromMicros(r.UpdatedAt)}
}

const selectChatSQL = `SELECT user_id, name, name_fold, about, updated_at FROM chat_profiles WHERE user_id = ?`

// ChatProfile implements store.ChatStore.
func (s *Store) ChatProfile(ctx context.Context, userID string) (store.ChatProfile, error) {
	var r chatRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(selectChatSQL), userID); err != nil {
		return store.ChatProfile{}, wrap("chat profile", err)
	}
	return r.profile(), nil
}

// putChat writes p inside tx (insert or replace).
func (s *Store) putChat(ctx context.Context, tx *sqlx.Tx, p store.ChatProfile) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO chat_profiles (user_id, name, name_fold, about, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, name_fold = excluded.name_fold,
		about = excluded.about, updated_at = excluded.updated_at`),
		p.UserID, p.Name, p.NameFold, p.About, micros(p.Updated))
	return err
}

// userExists locks the user's row on PostgreSQL (SQLite has one writer),
// so that a concurrent deletion cannot slip between the check and a write.
func (s *Store) userExists(ctx context.Context, tx *sqlx.Tx, userID string) error {
	q := `SELECT id FROM users WHERE id = ?`
	if s.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	var id string
	return tx.GetContext(ctx, &id, tx.Rebind(q), userID)
}

// UpdateChatProfile implements store.ChatStore.
func (s *Store) UpdateChatProfile(ctx context.Context, userID string, fn func(p store.ChatProfile) (store.ChatProfile, error)) (store.ChatProfile, error) {
	var (
		out   store.ChatProfile
		fnErr error
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.userExists(ctx, tx, userID); err != nil {
			return err
		}
		var r chatRow
		old := store.ChatProfile{UserID: userID}
		switch err := tx.GetContext(ctx, &r, tx.Rebind(selectChatSQL), userID); {
		case err == nil:
			old = r.profile()
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		np, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		np.UserID, np.Updated = userID, s.stamp()
		if err := s.putChat(ctx, tx, np); err != nil {
			return err
		}
		out = np
		return nil
	})
	if fnErr != nil {
		return store.ChatProfile{}, fnErr
	}
	if err != nil {
		return store.ChatProfile{}, wrap("update chat profile", err)
	}
	return out, nil
}

// SetAccountKeyHash implements store.ChatStore.
func (s *Store) SetAccountKeyHash(ctx context.Context, userID, hash string) error {
	if hash == "" {
		return errors.New("sqlstore: set account key: empty hash")
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.userExists(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO account_keys (user_id, key_hash, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET key_hash = excluded.key_hash, updated_at = excluded.updated_at`),
			userID, hash, micros(s.stamp()))
		return err
	})
	return wrap("set account key", err)
}

// AccountKeyHash implements store.ChatStore.
func (s *Store) AccountKeyHash(ctx context.Context, userID string) (string, error) {
	var h string
	if err := s.ro.GetContext(ctx, &h, s.ro.Rebind(`SELECT key_hash FROM account_keys WHERE user_id = ?`), userID); err != nil {
		return "", wrap("account key", err)
	}
	return h, nil
}

// likeEscaper makes a folded query a literal for LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchSQL ranks the candidates: {{cand}} is the dialect's candidate set
// (trigram GIN indexes on PostgreSQL, the FTS5 trigram table on SQLite),
// and every candidate is checked again against its rows, so the candidate
// set may be a superset.
const searchSQL = `SELECT u.id AS user_id, COALESCE(cp.name, '') AS name, COALESCE(i.value, '') AS username,
  COALESCE(cp.about, '') AS about, u.privacy_mode AS privacy_mode,
  CASE WHEN i.norm = ? OR cp.name_fold = ? THEN 0
       WHEN i.norm LIKE ? ESCAPE '\' OR cp.name_fold LIKE ? ESCAPE '\' THEN 1
       ELSE 2 END AS rank
FROM users u
LEFT JOIN identifiers i ON i.user_id = u.id AND i.kind = 'username'
LEFT JOIN chat_profiles cp ON cp.user_id = u.id
WHERE u.id IN ({{cand}}) AND u.state = 'active'
  AND (i.norm LIKE ? ESCAPE '\' OR (u.privacy_mode = 0 AND cp.name_fold LIKE ? ESCAPE '\'))
ORDER BY rank, COALESCE(i.norm, cp.name_fold, ''), u.id
LIMIT ? OFFSET ?`

const (
	pgCandidates = `SELECT user_id FROM identifiers WHERE kind = 'username' AND norm LIKE ? ESCAPE '\'
  UNION SELECT user_id FROM chat_profiles WHERE name_fold LIKE ? ESCAPE '\'`
	// FTS5 is given the pattern without ESCAPE: a '%' or '_' of the query
	// then matches more, never less, and the outer check is exact.
	sqliteCandidates = `SELECT user_id FROM user_search WHERE term LIKE ?`
)

// SearchUsers implements store.ChatStore.
func (s *Store) SearchUsers(ctx context.Context, q store.UserSearch) ([]store.UserHit, error) {
	if q.Fold == "" || q.Limit < 1 || q.Offset < 0 {
		return nil, fmt.Errorf("sqlstore: search users: empty query or bad page %d/%d", q.Limit, q.Offset)
	}
	lit := likeEscaper.Replace(q.Fold)
	contains, prefix := "%"+lit+"%", lit+"%"
	var cand string
	var candArgs []any
	if s.dialect == DialectPostgres {
		cand, candArgs = pgCandidates, []any{contains, contains}
	} else {
		cand, candArgs = sqliteCandidates, []any{"%" + q.Fold + "%"}
	}
	query := strings.Replace(searchSQL, "{{cand}}", cand, 1)
	args := []any{q.Fold, q.Fold, prefix, prefix}
	args = append(args, candArgs...)
	args = append(args, contains, contains, q.Limit, q.Offset)
	var rows []struct {
		UserID   string `db:"user_id"`
		Name     string `db:"name"`
		Username string `db:"username"`
		About    string `db:"about"`
		Privacy  int    `db:"privacy_mode"`
		Rank     int    `db:"rank"`
	}
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(query), args...); err != nil {
		return nil, wrap("search users", err)
	}
	out := make([]store.UserHit, len(rows))
	for i, r := range rows {
		out[i] = store.UserHit{UserID: r.UserID, Name: r.Name, Username: r.Username, About: r.About, Private: r.Privacy != 0, Rank: r.Rank}
	}
	return out, nil
}

// AddPhoto implements store.ChatStore.
func (s *Store) AddPhoto(ctx context.Context, userID, fileID string, max int) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The user's row lock serialises adds, so the count below holds.
		if err := s.userExists(ctx, tx, userID); err != nil {
			return err
		}
		if max > 0 {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM user_photos WHERE user_id = ?`), userID); err != nil {
				return err
			}
			if n >= max {
				return store.ErrLimitReached
			}
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO user_photos (file_id, user_id, added_at)
			SELECT id, user_id, ? FROM files WHERE id = ? AND user_id = ? AND purpose = ?`),
			micros(s.stamp()), fileID, userID, store.FileUpload)
		return mustAffect(res, err)
	})
	return wrap("add photo", err)
}

// DeletePhoto implements store.ChatStore.
func (s *Store) DeletePhoto(ctx context.Context, userID, fileID string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM user_photos WHERE file_id = ? AND user_id = ?`), fileID, userID)
	return wrap("delete photo", mustAffect(res, err))
}

// UserPhotos implements store.ChatStore.
func (s *Store) UserPhotos(ctx context.Context, userID string) ([]store.File, error) {
	var rows []fileRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT f.id, f.user_id, f.purpose, f.content_type, f.size, f.sha256, f.created_at
		FROM user_photos p JOIN files f ON f.id = p.file_id AND f.user_id = p.user_id
		WHERE p.user_id = ? ORDER BY p.added_at, p.file_id`), userID); err != nil {
		return nil, wrap("user photos", err)
	}
	out := make([]store.File, len(rows))
	for i, r := range rows {
		out[i] = r.file()
	}
	return out, nil
}

// PhotoOwner implements store.ChatStore.
func (s *Store) PhotoOwner(ctx context.Context, fileID string) (string, error) {
	var uid string
	if err := s.ro.GetContext(ctx, &uid, s.ro.Rebind(`SELECT user_id FROM user_photos WHERE file_id = ?`), fileID); err != nil {
		return "", wrap("photo owner", err)
	}
	return uid, nil
}
