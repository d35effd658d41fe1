package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type totpRow struct {
	UserID       string `db:"user_id"`
	SecretSealed string `db:"secret_sealed"`
	EnabledAt    *int64 `db:"enabled_at"`
	LastStep     int64  `db:"last_step"`
	CreatedAt    int64  `db:"created_at"`
}

// PutTOTPSecret implements store.TOTPs: one upsert whose update applies
// only to a pending secret, so an enabled one is never replaced.
func (s *Store) PutTOTPSecret(ctx context.Context, userID, sealed string) error {
	if sealed == "" {
		return errors.New("sqlstore: put totp secret: empty secret")
	}
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`INSERT INTO totp_secrets
		(user_id, secret_sealed, enabled_at, last_step, created_at) VALUES (?, ?, NULL, 0, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed,
			last_step = 0, created_at = excluded.created_at
		WHERE totp_secrets.enabled_at IS NULL`), userID, sealed, micros(s.stamp()))
	if err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlstore: put totp secret: %w", store.ErrNotFound)
		}
		return wrap("put totp secret", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("put totp secret", err)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: put totp secret: %w", store.ErrAlreadyExists)
	}
	return nil
}

// TOTP implements store.TOTPs.
func (s *Store) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	var r totpRow
	err := s.ro.GetContext(ctx, &r, s.ro.Rebind(`SELECT user_id, secret_sealed, enabled_at, last_step, created_at
		FROM totp_secrets WHERE user_id = ?`), userID)
	if err != nil {
		return store.TOTP{}, wrap("totp", err)
	}
	return store.TOTP{UserID: r.UserID, SecretSealed: r.SecretSealed, Enabled: fromMicrosPtr(r.EnabledAt),
		LastStep: r.LastStep, Created: fromMicros(r.CreatedAt)}, nil
}

// EnableTOTP implements store.TOTPs.
func (s *Store) EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) (bool, error) {
	for _, h := range recoveryHashes {
		if len(h) != 64 {
			return false, errors.New("sqlstore: enable totp: a recovery hash is not 64 hex digits")
		}
	}
	ok := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE totp_secrets SET enabled_at = ?, last_step = ?
			WHERE user_id = ? AND enabled_at IS NULL AND last_step < ?`), micros(s.stamp()), step, userID, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM totp_recovery_codes WHERE user_id = ?`), userID); err != nil {
			return err
		}
		for _, h := range recoveryHashes {
			if _, err := tx.ExecContext(ctx, tx.Rebind(
				`INSERT INTO totp_recovery_codes (user_id, code_hash, used_at) VALUES (?, ?, NULL)`), userID, h); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, wrap("enable totp", err)
	}
	return ok, nil
}

// AcceptTOTPStep implements store.TOTPs with one conditional UPDATE: of
// concurrent calls for one step, on any number of gateways, one affects
// the row.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`UPDATE totp_secrets SET last_step = ?
		WHERE user_id = ? AND enabled_at IS NOT NULL AND last_step < ?`), step, userID, step)
	if err != nil {
		return false, wrap("accept totp step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("accept totp step", err)
	}
	return n == 1, nil
}

// UseRecoveryCode implements store.TOTPs with one conditional UPDATE.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	res, err := s.rw.ExecContext(ctx, s.rw.Rebind(`UPDATE totp_recovery_codes SET used_at = ?
		WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`), micros(s.stamp()), userID, hash)
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	return n == 1, nil
}

// RecoveryCodesLeft implements store.TOTPs.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.ro.GetContext(ctx, &n, s.ro.Rebind(
		`SELECT COUNT(*) FROM totp_recovery_codes WHERE user_id = ? AND used_at IS NULL`), userID); err != nil {
		return 0, wrap("recovery codes left", err)
	}
	return n, nil
}

// DisableTOTP implements store.TOTPs; the recovery codes go by cascade.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Explicit as well as by cascade: the codes must go with the secret
		// even where a connection runs without foreign keys.
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM totp_recovery_codes WHERE user_id = ?`), userID); err != nil {
			return err
		}
		return mustAffect(tx.ExecContext(ctx, tx.Rebind(`DELETE FROM totp_secrets WHERE user_id = ?`), userID))
	})
	return wrap("disable totp", err)
}

// totpEnabledCol is store.User's TOTP in selectUserSQL: read in the same
// statement as the user, so a login never sees a user without its 2FA.
const totpEnabledCol = ", EXISTS (SELECT 1 FROM totp_secrets t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS totp"
