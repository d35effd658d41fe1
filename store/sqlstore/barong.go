package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

// nullString stores "" as NULL, for optional unique columns.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// UserByUID returns the user with that Barong uid.
func (s *Store) UserByUID(ctx context.Context, uid string) (store.User, error) {
	if uid == "" {
		return store.User{}, fmt.Errorf("sqlstore: user by uid: %w", store.ErrNotFound)
	}
	u, err := s.queryUser(ctx, s.ro, "WHERE u.uid = ?", uid)
	if err != nil {
		return store.User{}, wrap("user by uid", err)
	}
	return u, nil
}

type kycRow struct {
	UserID    string `db:"user_id"`
	State     string `db:"state"`
	Address   string `db:"address"`
	City      string `db:"city"`
	Country   string `db:"country"`
	Metadata  string `db:"metadata"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r kycRow) kyc() store.KYCProfile {
	return store.KYCProfile{UserID: r.UserID, State: r.State, Address: r.Address, City: r.City, Country: r.Country,
		Metadata: r.Metadata, Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

const kycCols = `user_id, state, address, city, country, metadata, created_at, updated_at`

func (s *Store) queryKYC(ctx context.Context, q sqlx.QueryerContext, userID string) (store.KYCProfile, error) {
	query := `SELECT ` + kycCols + ` FROM kyc_profiles WHERE user_id = ?`
	if _, inTx := q.(*sqlx.Tx); inTx && s.dialect == DialectPostgres {
		query += " FOR UPDATE"
	}
	var r kycRow
	if err := sqlx.GetContext(ctx, q, &r, s.rw.Rebind(query), userID); err != nil {
		return store.KYCProfile{}, err
	}
	return r.kyc(), nil
}

// KYCProfile returns the user's KYC profile row.
func (s *Store) KYCProfile(ctx context.Context, userID string) (store.KYCProfile, error) {
	k, err := s.queryKYC(ctx, s.ro, userID)
	if err != nil {
		return store.KYCProfile{}, wrap("kyc profile", err)
	}
	return k, nil
}

// PutKYCProfile writes the shared profile columns and the KYC row in one
// transaction (the user row locked first on Postgres, as UpdateProfile).
func (s *Store) PutKYCProfile(ctx context.Context, userID string, create bool, fn func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error)) (store.Profile, store.KYCProfile, error) {
	var (
		outP  store.Profile
		outK  store.KYCProfile
		fnErr error
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := s.queryProfile(ctx, tx, userID)
		if err != nil {
			return err
		}
		k, err := s.queryKYC(ctx, tx, userID)
		exists := err == nil
		switch {
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case create && exists:
			return store.ErrAlreadyExists
		case !create && !exists:
			return store.ErrNotFound
		}
		if !exists {
			k = store.KYCProfile{UserID: userID, State: store.ProfileDrafted}
		}
		np, nk, err := fn(p, k)
		if err != nil {
			fnErr = err
			return err
		}
		now := s.stamp()
		nk.UserID = userID
		nk.Updated = now
		if exists {
			nk.Created = k.Created
		} else {
			nk.Created = now
		}
		args := append([]any{micros(now)}, profileArgs(&np)...)
		args = append(args, userID)
		if _, err := tx.ExecContext(ctx, tx.Rebind(updateProfileSQL), args...); err != nil {
			return err
		}
		if exists {
			_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE kyc_profiles SET state = ?, address = ?, city = ?, country = ?, metadata = ?, updated_at = ? WHERE user_id = ?`),
				nk.State, nk.Address, nk.City, nk.Country, nk.Metadata, micros(nk.Updated), userID)
		} else {
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO kyc_profiles (`+kycCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				userID, nk.State, nk.Address, nk.City, nk.Country, nk.Metadata, micros(nk.Created), micros(nk.Updated))
		}
		if err != nil {
			return err
		}
		outP, outK = np, nk
		return nil
	})
	if fnErr != nil {
		return store.Profile{}, store.KYCProfile{}, fnErr
	}
	if err != nil {
		return store.Profile{}, store.KYCProfile{}, wrap("put kyc profile", err)
	}
	return outP, outK, nil
}

type phoneRow struct {
	ID          int64  `db:"id"`
	UserID      string `db:"user_id"`
	Number      string `db:"number"`
	Country     string `db:"country"`
	ValidatedAt *int64 `db:"validated_at"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
}

func (r phoneRow) phone() store.Phone {
	return store.Phone{ID: r.ID, UserID: r.UserID, Number: r.Number, Country: r.Country,
		Validated: fromMicrosPtr(r.ValidatedAt), Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

const phoneCols = `id, user_id, number, country, validated_at, created_at, updated_at`

// Phones lists the user's phones, oldest first.
func (s *Store) Phones(ctx context.Context, userID string) ([]store.Phone, error) {
	var rows []phoneRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+phoneCols+` FROM phones WHERE user_id = ? ORDER BY id`), userID); err != nil {
		return nil, wrap("phones", err)
	}
	out := make([]store.Phone, len(rows))
	for i, r := range rows {
		out[i] = r.phone()
	}
	return out, nil
}

// Phone returns one of the user's phones.
func (s *Store) Phone(ctx context.Context, userID, number string) (store.Phone, error) {
	var r phoneRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT `+phoneCols+` FROM phones WHERE user_id = ? AND number = ?`), userID, number); err != nil {
		return store.Phone{}, wrap("phone", err)
	}
	return r.phone(), nil
}

// lockUser takes the user row's lock on Postgres (SQLite has one writer)
// and reports sql.ErrNoRows when the user does not exist, so per-user caps
// hold under concurrent creates.
func (s *Store) lockUser(ctx context.Context, tx *sqlx.Tx, userID string) error {
	q := `SELECT id FROM users WHERE id = ?`
	if s.dialect == DialectPostgres {
		q += " FOR UPDATE"
	}
	var id string
	return tx.GetContext(ctx, &id, tx.Rebind(q), userID)
}

// AddPhone stores a new phone under the per-user cap.
func (s *Store) AddPhone(ctx context.Context, p store.Phone, max int) (store.Phone, error) {
	if p.UserID == "" || p.Number == "" {
		return store.Phone{}, errors.New("sqlstore: add phone: empty user or number")
	}
	var out store.Phone
	limited := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, p.UserID); err != nil {
			return err
		}
		if max > 0 {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM phones WHERE user_id = ?`), p.UserID); err != nil {
				return err
			}
			if n >= max {
				limited = true
				return store.ErrLimit
			}
		}
		now := micros(s.stamp())
		var r phoneRow
		if err := tx.GetContext(ctx, &r, tx.Rebind(`INSERT INTO phones (user_id, number, country, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING `+phoneCols),
			p.UserID, p.Number, p.Country, now, now); err != nil {
			return err
		}
		out = r.phone()
		return nil
	})
	if limited {
		return store.Phone{}, fmt.Errorf("sqlstore: add phone: %w", store.ErrLimit)
	}
	if err != nil {
		return store.Phone{}, wrap("add phone", err)
	}
	return out, nil
}

// VerifyPhone marks the user's number validated; the partial unique index
// on verified numbers decides a race between two users.
func (s *Store) VerifyPhone(ctx context.Context, userID, number string) (store.Phone, error) {
	now := micros(s.stamp())
	var r phoneRow
	err := s.rw.GetContext(ctx, &r, s.rw.Rebind(`UPDATE phones SET validated_at = COALESCE(validated_at, ?), updated_at = ? WHERE user_id = ? AND number = ? RETURNING `+phoneCols),
		now, now, userID, number)
	if err != nil {
		return store.Phone{}, wrap("verify phone", err)
	}
	return r.phone(), nil
}

type labelRow struct {
	UserID      string `db:"user_id"`
	Key         string `db:"key"`
	Value       string `db:"value"`
	Scope       string `db:"scope"`
	Description string `db:"description"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
}

func (r labelRow) label() store.Label {
	return store.Label{UserID: r.UserID, Key: r.Key, Value: r.Value, Scope: r.Scope, Description: r.Description,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

const labelCols = `user_id, key, value, scope, description, created_at, updated_at`

// Labels lists the user's labels of scope ("" every scope).
func (s *Store) Labels(ctx context.Context, userID, scope string) ([]store.Label, error) {
	var rows []labelRow
	q, args := `SELECT `+labelCols+` FROM labels WHERE user_id = ?`, []any{userID}
	if scope != "" {
		q += ` AND scope = ?`
		args = append(args, scope)
	}
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(q+` ORDER BY key, scope`), args...); err != nil {
		return nil, wrap("labels", err)
	}
	out := make([]store.Label, len(rows))
	for i, r := range rows {
		out[i] = r.label()
	}
	return out, nil
}

// Label returns one label.
func (s *Store) Label(ctx context.Context, userID, key, scope string) (store.Label, error) {
	var r labelRow
	if err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT `+labelCols+` FROM labels WHERE user_id = ? AND key = ? AND scope = ?`), userID, key, scope); err != nil {
		return store.Label{}, wrap("label", err)
	}
	return r.label(), nil
}

// CreateLabel stores a new label under the per-user, per-scope cap.
func (s *Store) CreateLabel(ctx context.Context, l store.Label, max int) (store.Label, error) {
	var out store.Label
	limited := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockUser(ctx, tx, l.UserID); err != nil {
			return err
		}
		if max > 0 {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM labels WHERE user_id = ? AND scope = ?`), l.UserID, l.Scope); err != nil {
				return err
			}
			if n >= max {
				limited = true
				return store.ErrLimit
			}
		}
		now := micros(s.stamp())
		var r labelRow
		if err := tx.GetContext(ctx, &r, tx.Rebind(`INSERT INTO labels (`+labelCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+labelCols),
			l.UserID, l.Key, l.Value, l.Scope, l.Description, now, now); err != nil {
			return err
		}
		out = r.label()
		return nil
	})
	if limited {
		return store.Label{}, fmt.Errorf("sqlstore: create label: %w", store.ErrLimit)
	}
	if err != nil {
		return store.Label{}, wrap("create label", err)
	}
	return out, nil
}

// PutLabel creates or replaces a label.
func (s *Store) PutLabel(ctx context.Context, l store.Label) (store.Label, error) {
	now := micros(s.stamp())
	var r labelRow
	err := s.rw.GetContext(ctx, &r, s.rw.Rebind(`INSERT INTO labels (`+labelCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, key, scope) DO UPDATE SET value = excluded.value, description = excluded.description, updated_at = excluded.updated_at
		RETURNING `+labelCols), l.UserID, l.Key, l.Value, l.Scope, l.Description, now, now)
	if err != nil && isForeignKeyViolation(err) {
		return store.Label{}, fmt.Errorf("sqlstore: put label: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Label{}, wrap("put label", err)
	}
	return r.label(), nil
}

// UpdateLabel sets an existing label's value.
func (s *Store) UpdateLabel(ctx context.Context, userID, key, scope, value string) (store.Label, error) {
	var r labelRow
	err := s.rw.GetContext(ctx, &r, s.rw.Rebind(`UPDATE labels SET value = ?, updated_at = ? WHERE user_id = ? AND key = ? AND scope = ? RETURNING `+labelCols),
		value, micros(s.stamp()), userID, key, scope)
	if err != nil {
		return store.Label{}, wrap("update label", err)
	}
	return r.label(), nil
}

// DeleteLabel removes a label.
func (s *Store) DeleteLabel(ctx context.Context, userID, key, scope string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM labels WHERE user_id = ? AND key = ? AND scope = ?`), userID, key, scope)
	return wrap("delete label", mustAffect(res, err))
}
