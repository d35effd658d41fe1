package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

// userCols are the users columns of a store.User, in the order userArgs
// returns them; profileCols those of a store.Profile, in profileArgs'
// order. Create and update both use them so a new column is added in one
// place.
var (
	userCols    = []string{"state", "role", "is_new", "lang"}
	profileCols = []string{
		"first_name", "last_name", "company_name", "company_title", "birthday",
		"hometown", "education", "zip_code", "description", "link_url",
		"privacy_mode", "avatar", "avatar3d", "params",
		"identity_type", "identity_name", "z_address",
		"public_room_count", "contact_count", "pending_contact_count",
		"new_invitations_count", "pending_request_count",
		"new_notifications_count", "ideal_match_count",
		"sex", "news", "restriction_1", "restriction_2", "restriction_3",
		"restriction_4", "restriction_5", "dating_model",
	}
)

func userArgs(u *store.User) []any { return []any{u.State, u.Role, u.IsNew, u.Lang} }

func profileArgs(p *store.Profile) []any {
	return []any{
		p.FirstName, p.LastName, p.CompanyName, p.CompanyTitle, p.Birthday,
		p.Hometown, p.Education, p.ZipCode, p.Description, p.LinkURL,
		p.PrivacyMode, p.Avatar, p.Avatar3D, p.Params,
		p.IdentityType, p.IdentityName, p.ZAddress,
		p.PublicRoomCount, p.ContactCount, p.PendingContactCount,
		p.NewInvitationsCount, p.PendingRequestCount,
		p.NewNotificationsCount, p.IdealMatchCount,
		p.Sex, p.News, p.Restrictions[0], p.Restrictions[1], p.Restrictions[2],
		p.Restrictions[3], p.Restrictions[4], p.DatingModel,
	}
}

var (
	// uid and referral_uid are written at creation only (NULL when
	// empty, so users made without one do not collide on '').
	insertUserSQL = "INSERT INTO users (id, created_at, updated_at, uid, referral_uid, " + strings.Join(userCols, ", ") + ", " +
		strings.Join(profileCols, ", ") + ") VALUES (?, ?, ?, ?, ?" + strings.Repeat(", ?", len(userCols)+len(profileCols)) + ")"
	updateUserSQL = "UPDATE users SET updated_at = ?, " + strings.Join(userCols, " = ?, ") +
		" = ? WHERE id = ?"
	updateProfileSQL = "UPDATE users SET updated_at = ?, " + strings.Join(profileCols, " = ?, ") +
		" = ? WHERE id = ?"
	// selectUserSQL returns one row per identifier (or one row with NULL
	// identifier columns), so a user and its identifiers come from a single
	// statement and hence a single snapshot. Callers append the WHERE.
	selectUserSQL = "SELECT u.id, u.created_at, u.updated_at, COALESCE(u.uid, '') AS uid, COALESCE(u.referral_uid, '') AS referral_uid, u." + strings.Join(userCols, ", u.") +
		", i.kind AS i_kind, i.value AS i_value, i.norm AS i_norm, i.verified AS i_verified" +
		totpEnabledCol +
		" FROM users u LEFT JOIN identifiers i ON i.user_id = u.id "
	selectProfileSQL = "SELECT " + strings.Join(profileCols, ", ") + " FROM users WHERE id = ?"
)

// userRow mirrors selectUserSQL's columns.
type userRow struct {
	ID        string `db:"id"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
	State     string `db:"state"`
	Role      string `db:"role"`
	IsNew     bool   `db:"is_new"`
	Lang      string `db:"lang"`
	TOTP      bool   `db:"totp"`
	UID       string `db:"uid"`
	RefUID    string `db:"referral_uid"`

	IKind     sql.NullString `db:"i_kind"`
	IValue    sql.NullString `db:"i_value"`
	INorm     sql.NullString `db:"i_norm"`
	IVerified sql.NullBool   `db:"i_verified"`
}

func (r *userRow) user() store.User {
	return store.User{
		ID:      r.ID,
		Created: fromMicros(r.CreatedAt),
		Updated: fromMicros(r.UpdatedAt),
		State:   r.State,
		Role:    r.Role,
		IsNew:   r.IsNew,
		Lang:    r.Lang,
		TOTP:    r.TOTP,

		UID:         r.UID,
		ReferralUID: r.RefUID,
	}
}

// profileRow mirrors selectProfileSQL's columns.
type profileRow struct {
	FirstName    string `db:"first_name"`
	LastName     string `db:"last_name"`
	CompanyName  string `db:"company_name"`
	CompanyTitle string `db:"company_title"`
	Birthday     string `db:"birthday"`
	Hometown     string `db:"hometown"`
	Education    string `db:"education"`
	ZipCode      string `db:"zip_code"`
	Description  string `db:"description"`
	LinkURL      string `db:"link_url"`
	PrivacyMode  int    `db:"privacy_mode"`
	Avatar       string `db:"avatar"`
	Avatar3D     string `db:"avatar3d"`
	Params       string `db:"params"`
	IdentityType int    `db:"identity_type"`
	IdentityName string `db:"identity_name"`
	ZAddress     string `db:"z_address"`

	PublicRoomCount       int `db:"public_room_count"`
	ContactCount          int `db:"contact_count"`
	PendingContactCount   int `db:"pending_contact_count"`
	NewInvitationsCount   int `db:"new_invitations_count"`
	PendingRequestCount   int `db:"pending_request_count"`
	NewNotificationsCount int `db:"new_notifications_count"`
	IdealMatchCount       int `db:"ideal_match_count"`

	Sex          int    `db:"sex"`
	News         bool   `db:"news"`
	Restriction1 bool   `db:"restriction_1"`
	Restriction2 bool   `db:"restriction_2"`
	Restriction3 bool   `db:"restriction_3"`
	Restriction4 bool   `db:"restriction_4"`
	Restriction5 bool   `db:"restriction_5"`
	DatingModel  string `db:"dating_model"`
}

func (r *profileRow) profile() store.Profile {
	return store.Profile{
		FirstName:    r.FirstName,
		LastName:     r.LastName,
		CompanyName:  r.CompanyName,
		CompanyTitle: r.CompanyTitle,
		Birthday:     r.Birthday,
		Hometown:     r.Hometown,
		Education:    r.Education,
		ZipCode:      r.ZipCode,
		Description:  r.Description,
		LinkURL:      r.LinkURL,
		PrivacyMode:  r.PrivacyMode,
		Avatar:       r.Avatar,
		Avatar3D:     r.Avatar3D,
		Params:       r.Params,
		IdentityType: r.IdentityType,
		IdentityName: r.IdentityName,
		ZAddress:     r.ZAddress,

		PublicRoomCount:       r.PublicRoomCount,
		ContactCount:          r.ContactCount,
		PendingContactCount:   r.PendingContactCount,
		NewInvitationsCount:   r.NewInvitationsCount,
		PendingRequestCount:   r.PendingRequestCount,
		NewNotificationsCount: r.NewNotificationsCount,
		IdealMatchCount:       r.IdealMatchCount,

		Sex:          r.Sex,
		News:         r.News,
		Restrictions: [5]bool{r.Restriction1, r.Restriction2, r.Restriction3, r.Restriction4, r.Restriction5},
		DatingModel:  r.DatingModel,
	}
}

// queryProfile reads one profile; inside a transaction on Postgres it locks
// the row for UpdateProfile's read-modify-write. sql.ErrNoRows when the user
// does not exist.
func (s *Store) queryProfile(ctx context.Context, q sqlx.QueryerContext, id string) (store.Profile, error) {
	query := selectProfileSQL
	if s.dialect == DialectPostgres {
		if _, inTx := q.(*sqlx.Tx); inTx {
			query += " FOR UPDATE"
		}
	}
	var r profileRow
	if err := sqlx.GetContext(ctx, q, &r, s.rw.Rebind(query), id); err != nil {
		return store.Profile{}, err
	}
	return r.profile(), nil
}

// queryUser runs selectUserSQL with the given WHERE clause and folds the
// rows into one user. sql.ErrNoRows when no user matches.
func (s *Store) queryUser(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (store.User, error) {
	query := selectUserSQL + where + " ORDER BY i.kind"
	if s.dialect == DialectPostgres {
		if _, inTx := q.(*sqlx.Tx); inTx {
			// Lock the user row for the read-modify-write in UpdateUser.
			// Only u: the identifiers side of the outer join may be NULL.
			query += " FOR UPDATE OF u"
		}
	}
	rows, err := q.QueryxContext(ctx, s.rw.Rebind(query), args...)
	if err != nil {
		return store.User{}, err
	}
	defer rows.Close()
	var (
		u     store.User
		found bool
	)
	for rows.Next() {
		var r userRow
		if err := rows.StructScan(&r); err != nil {
			return store.User{}, err
		}
		if !found {
			u, found = r.user(), true
		}
		if r.IKind.Valid {
			u.Identifiers = append(u.Identifiers, store.Identifier{
				UserID:   r.ID,
				Kind:     r.IKind.String,
				Value:    r.IValue.String,
				Norm:     r.INorm.String,
				Verified: r.IVerified.Bool,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return store.User{}, err
	}
	if !found {
		return store.User{}, sql.ErrNoRows
	}
	return u, nil
}

// CreateUser writes the user, its identifiers and its password hash (when
// given) in one transaction. A zero Created or Updated is taken from the
// clock and an empty State means active. ErrAlreadyExists when the id or
// any identifier (kind, Norm) is taken; nothing is written then.
func (s *Store) CreateUser(ctx context.Context, nu store.NewUser) error {
	u := nu.User
	if u.ID == "" {
		return errors.New("sqlstore: create user: empty id")
	}
	kinds := make(map[string]bool, len(nu.Identifiers))
	for _, id := range nu.Identifiers {
		if id.Norm == "" {
			return fmt.Errorf("sqlstore: create user: %s identifier has an empty norm", id.Kind)
		}
		if kinds[id.Kind] {
			return fmt.Errorf("sqlstore: create user: two %s identifiers", id.Kind)
		}
		kinds[id.Kind] = true
	}
	now := s.stamp()
	if u.Created.IsZero() {
		u.Created = now
	}
	if u.Updated.IsZero() {
		u.Updated = u.Created
	}
	if u.State == "" {
		u.State = store.StateActive
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		args := append([]any{u.ID, micros(u.Created), micros(u.Updated), nullString(u.UID), nullString(u.ReferralUID)}, userArgs(&u)...)
		args = append(args, profileArgs(&nu.Profile)...)
		if _, err := tx.ExecContext(ctx, tx.Rebind(insertUserSQL), args...); err != nil {
			return err
		}
		for _, id := range nu.Identifiers {
			if _, err := tx.ExecContext(ctx, tx.Rebind(
				`INSERT INTO identifiers (user_id, kind, value, norm, verified) VALUES (?, ?, ?, ?, ?)`),
				u.ID, id.Kind, id.Value, id.Norm, id.Verified); err != nil {
				return err
			}
		}
		if nu.PasswordHash != "" {
			if _, err := tx.ExecContext(ctx, tx.Rebind(
				`INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?, ?, ?)`),
				u.ID, nu.PasswordHash, micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("create user", err)
}

// UserByID returns the user with its identifiers, ordered by kind.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := s.queryUser(ctx, s.ro, "WHERE u.id = ?", id)
	if err != nil {
		return store.User{}, wrap("user by id", err)
	}
	return u, nil
}

// UserByIdentifier returns the user owning (kind, norm), with all of its
// identifiers.
func (s *Store) UserByIdentifier(ctx context.Context, kind, norm string) (store.User, error) {
	u, err := s.queryUser(ctx, s.ro,
		"WHERE u.id = (SELECT user_id FROM identifiers WHERE kind = ? AND norm = ?)", kind, norm)
	if err != nil {
		return store.User{}, wrap("user by identifier", err)
	}
	return u, nil
}

// UpdateUser reads the user, applies fn and writes State, Role, IsNew and
// Lang as fn returned them, all in one transaction (the row
// is locked on Postgres; SQLite has a single writer). ID, Created and the
// identifiers are kept from the stored user whatever fn does; Updated comes
// from the clock. An error from fn is returned unchanged and nothing is
// written.
//
// fn runs while the write connection is held: on SQLite it must not call
// back into the store's write methods, which would wait for that connection
// forever.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(u store.User) (store.User, error)) (store.User, error) {
	var (
		out   store.User
		fnErr error
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := s.queryUser(ctx, tx, "WHERE u.id = ?", id)
		if err != nil {
			return err
		}
		arg := old
		arg.Identifiers = slices.Clone(old.Identifiers)
		nu, err := fn(arg)
		if err != nil {
			fnErr = err
			return err
		}
		nu.ID = old.ID
		nu.Created = old.Created
		nu.Updated = s.stamp()
		nu.Identifiers = old.Identifiers
		nu.UID, nu.ReferralUID = old.UID, old.ReferralUID
		args := append([]any{micros(nu.Updated)}, userArgs(&nu)...)
		args = append(args, nu.ID)
		if _, err := tx.ExecContext(ctx, tx.Rebind(updateUserSQL), args...); err != nil {
			return err
		}
		out = nu
		return nil
	})
	if fnErr != nil {
		return store.User{}, fnErr
	}
	if err != nil {
		return store.User{}, wrap("update user", err)
	}
	return out, nil
}

// Profile returns the user's profile.
func (s *Store) Profile(ctx context.Context, userID string) (store.Profile, error) {
	p, err := s.queryProfile(ctx, s.ro, userID)
	if err != nil {
		return store.Profile{}, wrap("profile", err)
	}
	return p, nil
}

// UpdateProfile reads the profile, applies fn and writes every profile
// column as fn returned it, in one transaction (locked as in UpdateUser,
// whose note on fn holds here too); the user's Updated comes from the
// clock. An error from fn is returned unchanged and nothing is written.
func (s *Store) UpdateProfile(ctx context.Context, userID string, fn func(p store.Profile) (store.Profile, error)) (store.Profile, error) {
	var (
		out   store.Profile
		fnErr error
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := s.queryProfile(ctx, tx, userID)
		if err != nil {
			return err
		}
		np, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		args := append([]any{micros(s.stamp())}, profileArgs(&np)...)
		args = append(args, userID)
		if _, err := tx.ExecContext(ctx, tx.Rebind(updateProfileSQL), args...); err != nil {
			return err
		}
		out = np
		return nil
	})
	if fnErr != nil {
		return store.Profile{}, fnErr
	}
	if err != nil {
		return store.Profile{}, wrap("update profile", err)
	}
	return out, nil
}

// SetUserRole sets the role and bumps Updated.
func (s *Store) SetUserRole(ctx context.Context, id, role string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`UPDATE users SET role = ?, updated_at = ? WHERE id = ?`),
		role, micros(s.stamp()), id)
	return wrap("set user role", mustAffect(res, err))
}

// SetIdentifier replaces the user's identifier of id.Kind in one
// transaction: the old value stays in force until the new one is written,
// and the primary key on (kind, norm) decides a race for the new value.
func (s *Store) SetIdentifier(ctx context.Context, id store.Identifier) error {
	if id.Norm == "" || id.UserID == "" {
		return errors.New("sqlstore: set identifier: empty user or norm")
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET updated_at = ? WHERE id = ?`), micros(s.stamp()), id.UserID)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM identifiers WHERE user_id = ? AND kind = ?`), id.UserID, id.Kind); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO identifiers (user_id, kind, value, norm, verified) VALUES (?, ?, ?, ?, ?)`),
			id.UserID, id.Kind, id.Value, id.Norm, id.Verified)
		return err
	})
	return wrap("set identifier", err)
}

// ClaimIdentifier proves one identifier and drops what was attached before
// the proof, all or nothing: a half-done claim would leave a squatter's
// password or address on an account its owner has just taken back.
func (s *Store) ClaimIdentifier(ctx context.Context, userID, kind string) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identifiers SET verified = ? WHERE user_id = ? AND kind = ?`), true, userID, kind)
		if err := mustAffect(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM identifiers WHERE user_id = ? AND kind <> ?`), userID, kind); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM credentials WHERE user_id = ?`), userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET updated_at = ? WHERE id = ?`), micros(s.stamp()), userID)
		return err
	})
	return wrap("claim identifier", err)
}

// DeleteUser removes the user; identifiers and credential go with it through
// ON DELETE CASCADE.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM users WHERE id = ?`), id)
	return wrap("delete user", mustAffect(res, err))
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.ro.GetContext(ctx, &n, `SELECT COUNT(*) FROM users`); err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}

// mustAffect turns "no row matched" into sql.ErrNoRows. Both Postgres and
// SQLite count matched rows, not changed ones, so an update writing the
// same values still counts.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}
