package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type apiKeyRow struct {
	KID          string `db:"kid"`
	UserID       string `db:"user_id"`
	Algorithm    string `db:"algorithm"`
	Scope        string `db:"scope"`
	State        string `db:"state"`
	SecretSealed string `db:"secret_sealed"`
	CreatedAt    int64  `db:"created_at"`
	UpdatedAt    int64  `db:"updated_at"`
}

const apiKeyCols = `kid, user_id, algorithm, scope, state, secret_sealed, created_at, updated_at`

func (r apiKeyRow) key() (store.APIKey, error) {
	k := store.APIKey{KID: r.KID, UserID: r.UserID, Algorithm: r.Algorithm, State: r.State, SecretSealed: r.SecretSealed,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
	if err := json.Unmarshal([]byte(r.Scope), &k.Scope); err != nil {
		return store.APIKey{}, fmt.Errorf("sqlstore: api key %s: scope column: %w", r.KID, err)
	}
	if k.Scope == nil {
		k.Scope = []string{}
	}
	return k, nil
}

func scopeJSON(s []string) (string, error) {
	if s == nil {
		s = []string{}
	}
	b, err := json.Marshal(s)
	return string(b), err
}

// CreateAPIKey implements store.APIKeys.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey, max int) error {
	if k.KID == "" || k.UserID == "" {
		return errors.New("sqlstore: create api key: empty kid or user")
	}
	scope, err := scopeJSON(k.Scope)
	if err != nil {
		return err
	}
	if k.Created.IsZero() {
		k.Created = s.stamp()
	}
	if k.Updated.IsZero() {
		k.Updated = k.Created
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, k.UserID); err != nil {
			return err
		}
		if err := countUnderCap(ctx, tx, max, 1, `SELECT COUNT(*) FROM api_keys WHERE user_id = ?`, k.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			k.KID, k.UserID, k.Algorithm, scope, k.State, k.SecretSealed, micros(k.Created), micros(k.Updated))
		return err
	})
	return wrap("create api key", err)
}

// APIKey implements store.APIKeys.
func (s *Store) APIKey(ctx context.Context, kid string) (store.APIKey, error) {
	var r apiKeyRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT `+apiKeyCols+` FROM api_keys WHERE kid = ?`), kid); err != nil {
		return store.APIKey{}, wrap("api key", err)
	}
	return r.key()
}

// UserAPIKeys implements store.APIKeys.
func (s *Store) UserAPIKeys(ctx context.Context, userID string, limit, offset int) ([]store.APIKey, int, error) {
	if limit <= 0 || offset < 0 {
		return nil, 0, errors.New("sqlstore: user api keys: limit must be positive, offset not negative")
	}
	var total int
	if err := s.ro.GetContext(ctx, &total, s.ro.Rebind(`SELECT COUNT(*) FROM api_keys WHERE user_id = ?`), userID); err != nil {
		return nil, 0, wrap("user api keys", err)
	}
	var rows []apiKeyRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+apiKeyCols+` FROM api_keys
		WHERE user_id = ? ORDER BY created_at, kid LIMIT ? OFFSET ?`), userID, limit, offset); err != nil {
		return nil, 0, wrap("user api keys", err)
	}
	out := make([]store.APIKey, len(rows))
	for i, r := range rows {
		k, err := r.key()
		if err != nil {
			return nil, 0, err
		}
		out[i] = k
	}
	return out, total, nil
}

// UpdateAPIKey implements store.APIKeys.
func (s *Store) UpdateAPIKey(ctx context.Context, userID, kid string, fn func(k store.APIKey) (store.APIKey, error)) (store.APIKey, error) {
	var (
		out   store.APIKey
		fnErr error
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		q := `SELECT ` + apiKeyCols + ` FROM api_keys WHERE kid = ? AND user_id = ?`
		if s.dialect == DialectPostgres {
			q += ` FOR UPDATE`
		}
		var r apiKeyRow
		if err := tx.GetContext(ctx, &r, tx.Rebind(q), kid, userID); err != nil {
			return err
		}
		cur, err := r.key()
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		scope, err := scopeJSON(next.Scope)
		if err != nil {
			return err
		}
		next.KID, next.UserID, next.Algorithm, next.SecretSealed, next.Created = cur.KID, cur.UserID, cur.Algorithm, cur.SecretSealed, cur.Created
		next.Updated = s.stamp()
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE api_keys SET scope = ?, state = ?, updated_at = ? WHERE kid = ?`),
			scope, next.State, micros(next.Updated), kid); err != nil {
			return err
		}
		if next.Scope == nil {
			next.Scope = []string{}
		}
		out = next
		return nil
	})
	if fnErr != nil {
		return store.APIKey{}, fnErr
	}
	if err != nil {
		return store.APIKey{}, wrap("update api key", err)
	}
	return out, nil
}

// DeleteAPIKey implements store.APIKeys.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, kid string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM api_keys WHERE kid = ? AND user_id = ?`), kid, userID)
	if err != nil {
		return wrap("delete api key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("delete api key", err)
	} else if n == 0 {
		return wrap("delete api key", store.ErrNotFound)
	}
	return nil
}
