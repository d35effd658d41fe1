package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type roleRow struct {
	Name        string `db:"name"`
	Rank        int    `db:"rank"`
	Description string `db:"description"`
}

// Roles implements store.Access.
func (s *Store) Roles(ctx context.Context) ([]store.Role, error) {
	var rows []roleRow
	if err := s.ro.SelectContext(ctx, &rows, `SELECT name, rank, description FROM roles ORDER BY rank DESC, name`); err != nil {
		return nil, wrap("roles", err)
	}
	out := make([]store.Role, len(rows))
	for i, r := range rows {
		out[i] = store.Role(r)
	}
	return out, nil
}

type permissionRow struct {
	ID        int64  `db:"id"`
	Role      string `db:"role"`
	Verb      string `db:"verb"`
	Path      string `db:"path"`
	Action    string `db:"action"`
	Topic     string `db:"topic"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r permissionRow) record() store.Permission {
	return store.Permission{ID: r.ID, Role: r.Role, Verb: r.Verb, Path: r.Path, Action: r.Action, Topic: r.Topic,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

const permissionCols = `id, role, verb, path, action, topic, created_at, updated_at`

// Permissions implements store.Access.
func (s *Store) Permissions(ctx context.Context) ([]store.Permission, error) {
	var rows []permissionRow
	if err := s.ro.SelectContext(ctx, &rows, `SELECT `+permissionCols+` FROM permissions ORDER BY id`); err != nil {
		return nil, wrap("permissions", err)
	}
	out := make([]store.Permission, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// accessErr maps a foreign-key violation (an unknown role) to ErrNotFound.
func accessErr(op string, err error) error {
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlstore: %s: unknown role: %w", op, store.ErrNotFound)
	}
	return wrap(op, err)
}

// CreatePermission implements store.Access.
func (s *Store) CreatePermission(ctx context.Context, p store.Permission) (store.Permission, error) {
	now := s.stamp()
	p.Created, p.Updated = now, now
	err := s.rw.GetContext(ctx, &p.ID, s.rw.Rebind(`INSERT INTO permissions (role, verb, path, action, topic, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), p.Role, p.Verb, p.Path, p.Action, p.Topic, micros(now), micros(now))
	if err != nil {
		return store.Permission{}, accessErr("create permission", err)
	}
	return p, nil
}

// UpdatePermission implements store.Access.
func (s *Store) UpdatePermission(ctx context.Context, id int64, fn func(p store.Permission) (store.Permission, error)) (store.Permission, error) {
	var out store.Permission
	var fnErr error
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var row permissionRow
		if err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT `+permissionCols+` FROM permissions WHERE id = ?`), id); err != nil {
			return err
		}
		old := row.record()
		nu, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		nu.ID, nu.Created, nu.Updated = old.ID, old.Created, s.stamp()
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE permissions SET role = ?, verb = ?, path = ?, action = ?, topic = ?, updated_at = ? WHERE id = ?`),
			nu.Role, nu.Verb, nu.Path, nu.Action, nu.Topic, micros(nu.Updated), id); err != nil {
			return err
		}
		out = nu
		return nil
	})
	if fnErr != nil {
		return store.Permission{}, fnErr
	}
	if err != nil {
		return store.Permission{}, accessErr("update permission", err)
	}
	return out, nil
}

// deleteByID removes the row of table with id. ErrNotFound.
func (s *Store) deleteByID(ctx context.Context, table string, id int64) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM `+table+` WHERE id = ?`), id)
	if err != nil {
		return wrap("delete from "+table, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("sqlstore: delete from %s: %w", table, store.ErrNotFound)
	}
	return nil
}

// DeletePermission implements store.Access.
func (s *Store) DeletePermission(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "permissions", id)
}

type restrictionRow struct {
	ID        int64  `db:"id"`
	Category  string `db:"category"`
	Scope     string `db:"scope"`
	Value     string `db:"value"`
	Code      int    `db:"code"`
	State     string `db:"state"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r restrictionRow) record() store.Restriction {
	return store.Restriction{ID: r.ID, Category: r.Category, Scope: r.Scope, Value: r.Value, Code: r.Code, State: r.State,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
}

const restrictionCols = `id, category, scope, value, code, state, created_at, updated_at`

// Restrictions implements store.Access.
func (s *Store) Restrictions(ctx context.Context) ([]store.Restriction, error) {
	var rows []restrictionRow
	if err := s.ro.SelectContext(ctx, &rows, `SELECT `+restrictionCols+` FROM restrictions ORDER BY id`); err != nil {
		return nil, wrap("restrictions", err)
	}
	out := make([]store.Restriction, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// CreateRestriction implements store.Access.
func (s *Store) CreateRestriction(ctx context.Context, r store.Restriction) (store.Restriction, error) {
	now := s.stamp()
	r.Created, r.Updated = now, now
	err := s.rw.GetContext(ctx, &r.ID, s.rw.Rebind(`INSERT INTO restrictions (category, scope, value, code, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), r.Category, r.Scope, r.Value, r.Code, r.State, micros(now), micros(now))
	if err != nil {
		return store.Restriction{}, wrap("create restriction", err)
	}
	return r, nil
}

// UpdateRestriction implements store.Access.
func (s *Store) UpdateRestriction(ctx context.Context, id int64, fn func(r store.Restriction) (store.Restriction, error)) (store.Restriction, error) {
	var out store.Restriction
	var fnErr error
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var row restrictionRow
		if err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT `+restrictionCols+` FROM restrictions WHERE id = ?`), id); err != nil {
			return err
		}
		old := row.record()
		nu, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		nu.ID, nu.Created, nu.Updated = old.ID, old.Created, s.stamp()
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE restrictions SET category = ?, scope = ?, value = ?, code = ?, state = ?, updated_at = ? WHERE id = ?`),
			nu.Category, nu.Scope, nu.Value, nu.Code, nu.State, micros(nu.Updated), id); err != nil {
			return err
		}
		out = nu
		return nil
	})
	if fnErr != nil {
		return store.Restriction{}, fnErr
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.Restriction{}, fmt.Errorf("sqlstore: update restriction: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Restriction{}, wrap("update restriction", err)
	}
	return out, nil
}

// DeleteRestriction implements store.Access.
func (s *Store) DeleteRestriction(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "restrictions", id)
}
