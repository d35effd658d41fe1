package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

type signingKeyRow struct {
	KID           string `db:"kid"`
	Alg           string `db:"alg"`
	PrivateSealed string `db:"private_sealed"`
	PublicJWK     string `db:"public_jwk"`
	CreatedAt     int64  `db:"created_at"`
	RetiredAt     *int64 `db:"retired_at"`
}

const signingKeyCols = `kid, alg, private_sealed, public_jwk, created_at, retired_at`

// AddSigningKey implements store.SigningKeys.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || k.PrivateSealed == "" || k.PublicJWK == "" {
		return errors.New("sqlstore: add signing key: empty kid, alg or key half")
	}
	if k.Created.IsZero() {
		k.Created = s.stamp()
	}
	at := micros(k.Created)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(
			`UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL`), at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO signing_keys (`+signingKeyCols+`) VALUES (?, ?, ?, ?, ?, NULL)`),
			k.KID, k.Alg, k.PrivateSealed, k.PublicJWK, at)
		return err
	})
	return wrap("add signing key", err)
}

// SigningKeys implements store.SigningKeys.
func (s *Store) SigningKeys(ctx context.Context, since time.Time) ([]store.SigningKey, error) {
	var rows []signingKeyRow
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT `+signingKeyCols+` FROM signing_keys
		WHERE retired_at IS NULL OR retired_at >= ? ORDER BY created_at DESC, kid DESC`), micros(since))
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	out := make([]store.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = store.SigningKey{KID: r.KID, Alg: r.Alg, PrivateSealed: r.PrivateSealed, PublicJWK: r.PublicJWK,
			Created: fromMicros(r.CreatedAt), Retired: fromMicrosPtr(r.RetiredAt)}
	}
	return out, nil
}
