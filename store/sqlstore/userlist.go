package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"partnergate/store"
)

// ListUsers implements store.UserLister: one statement picks the page's
// ids by the filter (from indexes on id, role and state), a second reads
// those users with their identifiers.
func (s *Store) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, error) {
	if f.Limit < 1 || f.Limit > 1000 {
		return nil, fmt.Errorf("sqlstore: list users: limit %d outside 1..1000", f.Limit)
	}
	var (
		where []string
		args  []any
		join  string
	)
	if f.Email != "" || f.EmailVerified != nil {
		join = " JOIN identifiers e ON e.user_id = u.id AND e.kind = 'email'"
		if f.Email != "" {
			where = append(where, "e.norm = ?")
			args = append(args, f.Email)
		}
		if f.EmailVerified != nil {
			where = append(where, "e.verified = ?")
			args = append(args, *f.EmailVerified)
		}
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	switch f.Role {
	case "":
	case "member":
		where = append(where, "u.role IN ('member', '')")
	default:
		eq("u.role", f.Role)
	}
	eq("u.state", f.State)
	eq("u.first_name", f.FirstName)
	eq("u.last_name", f.LastName)
	rng := func(col string, from, to time.Time) {
		if !from.IsZero() {
			where = append(where, col+" >= ?")
			args = append(args, micros(from))
		}
		if !to.IsZero() {
			where = append(where, col+" < ?")
			args = append(args, micros(to))
		}
	}
	rng("u.created_at", f.CreatedFrom, f.CreatedTo)
	rng("u.updated_at", f.UpdatedFrom, f.UpdatedTo)
	if f.Before != "" {
		where = append(where, "u.id < ?")
		args = append(args, f.Before)
	}
	q := "SELECT u.id FROM users u" + join
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY u.id DESC LIMIT ? OFFSET ?"
	args = append(args, f.Limit, f.Offset)
	var ids []string
	if err := s.ro.SelectContext(ctx, &ids, s.ro.Rebind(q), args...); err != nil {
		return nil, wrap("list users", err)
	}
	return s.usersByIDs(ctx, ids)
}

// usersByIDs reads the users of ids with their identifiers, in id order
// descending.
func (s *Store) usersByIDs(ctx context.Context, ids []string) ([]store.User, error) {
	if len(ids) == 0 {
		return []store.User{}, nil
	}
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	rows, err := s.ro.QueryxContext(ctx, s.ro.Rebind(selectUserSQL+"WHERE u.id IN (?"+strings.Repeat(", ?", len(ids)-1)+") ORDER BY u.id DESC, i.kind"), in...)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	out := make([]store.User, 0, len(ids))
	for rows.Next() {
		var r userRow
		if err := rows.StructScan(&r); err != nil {
			return nil, wrap("list users", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			out = append(out, r.user())
		}
		if r.IKind.Valid {
			u := &out[len(out)-1]
			u.Identifiers = append(u.Identifiers, store.Identifier{UserID: r.ID, Kind: r.IKind.String,
				Value: r.IValue.String, Norm: r.INorm.String, Verified: r.IVerified.Bool})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list users", err)
	}
	return out, nil
}

// CountUsersSince implements store.UserLister.
func (s *Store) CountUsersSince(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := s.ro.GetContext(ctx, &n, s.ro.Rebind(`SELECT COUNT(*) FROM users WHERE created_at >= ? AND created_at < ?`), micros(from), micros(to))
	if err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}

// UsersByLabel implements store.UserLister.
func (s *Store) UsersByLabel(ctx context.Context, key, value string, offset, limit int) ([]store.User, error) {
	if limit < 1 || limit > 1000 {
		return nil, fmt.Errorf("sqlstore: users by label: limit %d outside 1..1000", limit)
	}
	var ids []string
	if err := s.ro.SelectContext(ctx, &ids, s.ro.Rebind(`SELECT DISTINCT user_id FROM labels WHERE key = ? AND value = ?
		ORDER BY user_id DESC LIMIT ? OFFSET ?`), key, value, limit, offset); err != nil {
		return nil, wrap("users by label", err)
	}
	return s.usersByIDs(ctx, ids)
}

// LabelValues implements store.UserLister.
func (s *Store) LabelValues(ctx context.Context, limit int) ([]store.LabelValue, error) {
	out := []store.LabelValue{}
	if err := s.ro.SelectContext(ctx, &out, s.ro.Rebind(`SELECT DISTINCT key, value FROM labels ORDER BY key, value LIMIT ?`), limit); err != nil {
		return nil, wrap("label values", err)
	}
	return out, nil
}

// KYCProfiles implements store.UserLister.
func (s *Store) KYCProfiles(ctx context.Context, offset, limit int) ([]store.KYCProfile, error) {
	if limit < 1 || limit > 1000 {
		return nil, fmt.Errorf("sqlstore: kyc profiles: limit %d outside 1..1000", limit)
	}
	var rows []kycRow
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+kycCols+` FROM kyc_profiles ORDER BY user_id DESC LIMIT ? OFFSET ?`), limit, offset); err != nil {
		return nil, wrap("kyc profiles", err)
	}
	out := make([]store.KYCProfile, len(rows))
	for i, r := range rows {
		out[i] = r.kyc()
	}
	return out, nil
}
