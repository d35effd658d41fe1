package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

var _ store.AccountSettings = (*Store)(nil)

type accountSettingRow struct {
	Name      string `db:"name"`
	Type      string `db:"type"`
	Value     string `db:"value"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

// AccountSettings lists the user's settings by name.
func (s *Store) AccountSettings(ctx context.Context, userID string) ([]store.AccountSetting, error) {
	var rows []accountSettingRow
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(
		`SELECT name, type, value, created_at, updated_at FROM account_settings WHERE user_id = ? ORDER BY name`), userID)
	if err != nil {
		return nil, wrap("account settings", err)
	}
	out := make([]store.AccountSetting, len(rows))
	for i, r := range rows {
		out[i] = store.AccountSetting{Name: r.Name, Type: r.Type, Value: r.Value, Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
	}
	return out, nil
}

func validSettingType(t string) bool {
	return t == store.SettingString || t == store.SettingNumber || t == store.SettingBool
}

// SetAccountSettings removes, then upserts, then checks the cap, in one
// transaction. The user's row is locked first (FOR UPDATE on Postgres;
// SQLite has one writer), so two concurrent calls cannot both pass the cap.
func (s *Store) SetAccountSettings(ctx context.Context, userID string, set []store.AccountSetting, remove []string, max int) error {
	for _, a := range set {
		if a.Name == "" || !validSettingType(a.Type) {
			return fmt.Errorf("sqlstore: set account settings: bad setting %q of type %q", a.Name, a.Type)
		}
	}
	now := micros(s.stamp())
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		lock := `SELECT COUNT(*) FROM users WHERE id = ?`
		if s.dialect == DialectPostgres {
			lock = `SELECT COUNT(*) FROM (SELECT id FROM users WHERE id = ? FOR UPDATE) u`
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(lock), userID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user: %w", store.ErrNotFound)
		}
		for _, name := range remove {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM account_settings WHERE user_id = ? AND name = ?`), userID, name); err != nil {
				return err
			}
		}
		for _, a := range set {
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO account_settings (user_id, name, type, value, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (user_id, name) DO UPDATE SET type = excluded.type, value = excluded.value, updated_at = excluded.updated_at`),
				userID, a.Name, a.Type, a.Value, now, now)
			if err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM account_settings WHERE user_id = ?`), userID); err != nil {
			return err
		}
		if n > max {
			return fmt.Errorf("%d settings, at most %d: %w", n, max, store.ErrLimitReached)
		}
		return nil
	})
	if errors.Is(err, store.ErrLimitReached) {
		return fmt.Errorf("sqlstore: set account settings: %w", err)
	}
	return wrap("set account settings", err)
}
