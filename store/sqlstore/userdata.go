package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"partnergate/store"
)

var _ store.UserData = (*Store)(nil)

// ---- products ----

type productRow struct {
	ID                 string `db:"id"`
	Title              string `db:"title"`
	Description        string `db:"description"`
	Policy             string `db:"policy"`
	Icon               string `db:"icon"`
	Info               string `db:"info"`
	SubscriptionCancel string `db:"subscription_cancel"`
	Disabled           bool   `db:"disabled"`
	Position           int    `db:"position"`
	CreatedAt          int64  `db:"created_at"`
	UpdatedAt          int64  `db:"updated_at"`
}

func (r *productRow) product() store.Product {
	return store.Product{
		ID: r.ID, Title: r.Title, Description: r.Description, Policy: r.Policy, Icon: r.Icon,
		Info: r.Info, SubscriptionCancel: r.SubscriptionCancel, Disabled: r.Disabled, Position: r.Position,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt),
	}
}

const productCols = `id, title, description, policy, icon, info, subscription_cancel, disabled, position, created_at, updated_at`

// Products lists the catalogue ordered by position, then id.
func (s *Store) Products(ctx context.Context) ([]store.Product, error) {
	var rows []productRow
	if err := s.ro.SelectContext(ctx, &rows, `SELECT `+productCols+` FROM products ORDER BY position, id`); err != nil {
		return nil, wrap("products", err)
	}
	out := make([]store.Product, len(rows))
	for i := range rows {
		out[i] = rows[i].product()
	}
	return out, nil
}

// Product returns one product. ErrNotFound.
func (s *Store) Product(ctx context.Context, id string) (store.Product, error) {
	var row productRow
	err := s.ro.GetContext(ctx, &row, s.ro.Rebind(`SELECT `+productCols+` FROM products WHERE id = ?`), id)
	if err != nil {
		return store.Product{}, wrap("product", err)
	}
	return row.product(), nil
}

// PutProduct creates or replaces a product, keeping its creation time.
func (s *Store) PutProduct(ctx context.Context, p store.Product) error {
	if p.ID == "" {
		return errors.New("sqlstore: put product: empty id")
	}
	now := micros(s.stamp())
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(`INSERT INTO products (`+productCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
			policy = excluded.policy, icon = excluded.icon, info = excluded.info,
			subscription_cancel = excluded.subscription_cancel, disabled = excluded.disabled,
			position = excluded.position, updated_at = excluded.updated_at`),
		p.ID, p.Title, p.Description, p.Policy, p.Icon, p.Info, p.SubscriptionCancel, p.Disabled, p.Position, now, now)
	return wrap("put product", err)
}

// UserProducts lists the user's active products ordered by product id.
func (s *Store) UserProducts(ctx context.Context, userID string) ([]store.UserProduct, error) {
	var rows []struct {
		ProductID   string `db:"product_id"`
		ActivatedAt int64  `db:"activated_at"`
	}
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(
		`SELECT product_id, activated_at FROM user_products WHERE user_id = ? ORDER BY product_id`), userID)
	if err != nil {
		return nil, wrap("user products", err)
	}
	out := make([]store.UserProduct, len(rows))
	for i, r := range rows {
		out[i] = store.UserProduct{UserID: userID, ProductID: r.ProductID, Activated: fromMicros(r.ActivatedAt)}
	}
	return out, nil
}

// SetProductState changes the activation and logs the consent atomically.
func (s *Store) SetProductState(ctx context.Context, c store.ProductConsent) ([]string, error) {
	if c.Action != store.ConsentActivate && c.Action != store.ConsentDeactivate {
		return nil, fmt.Errorf("sqlstore: set product state: unknown action %q", c.Action)
	}
	at := micros(c.At.UTC().Truncate(time.Microsecond))
	var modules []string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Both existence checks read inside the transaction, so the answer
		// names the missing record rather than a foreign key.
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM products WHERE id = ?`), c.ProductID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("product: %w", store.ErrNotFound)
		}
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM users WHERE id = ?`), c.UserID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user: %w", store.ErrNotFound)
		}
		var err error
		if c.Action == store.ConsentActivate {
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO user_products (user_id, product_id, activated_at)
				VALUES (?, ?, ?) ON CONFLICT (user_id, product_id) DO NOTHING`), c.UserID, c.ProductID, at)
		} else {
			_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM user_products WHERE user_id = ? AND product_id = ?`),
				c.UserID, c.ProductID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO product_consents
			(user_id, product_id, action, created_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)`),
			c.UserID, c.ProductID, c.Action, at, c.IP, c.UserAgent); err != nil {
			return err
		}
		modules = []string{}
		return tx.SelectContext(ctx, &modules, tx.Rebind(
			`SELECT product_id FROM user_products WHERE user_id = ? ORDER BY product_id`), c.UserID)
	})
	if err != nil {
		return nil, wrap("set product state", err)
	}
	return modules, nil
}

// ProductConsents lists the user's consents, oldest first.
func (s *Store) ProductConsents(ctx context.Context, userID string) ([]store.ProductConsent, error) {
	var rows []struct {
		ID        int64  `db:"id"`
		ProductID string `db:"product_id"`
		Action    string `db:"action"`
		CreatedAt int64  `db:"created_at"`
		IP        string `db:"ip"`
		UserAgent string `db:"user_agent"`
	}
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT id, product_id, action, created_at, ip, user_agent
		FROM product_consents WHERE user_id = ? ORDER BY id`), userID)
	if err != nil {
		return nil, wrap("product consents", err)
	}
	out := make([]store.ProductConsent, len(rows))
	for i, r := range rows {
		out[i] = store.ProductConsent{ID: r.ID, UserID: userID, ProductID: r.ProductID, Action: r.Action,
			At: fromMicros(r.CreatedAt), IP: r.IP, UserAgent: r.UserAgent}
	}
	return out, nil
}

// ---- tracking ----

// RecordTracking appends an event and applies push device changes in one
// transaction.
func (s *Store) RecordTracking(ctx context.Context, r store.TrackingRecord) (int64, error) {
	ev := r.Event
	if ev.Data == "" {
		return 0, errors.New("sqlstore: record tracking: empty data")
	}
	at := micros(ev.At.UTC().Truncate(time.Microsecond))
	var id int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM users WHERE id = ?`), ev.UserID); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user: %w", store.ErrNotFound)
		}
		if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO tracking_events (user_id, created_at, ip, user_agent, data)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), ev.UserID, at, ev.IP, ev.UserAgent, ev.Data); err != nil {
			return err
		}
		if r.KeepEvents > 0 {
			// Everything older than the user's KeepEvents-th newest event.
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM tracking_events WHERE user_id = ? AND id <
				(SELECT MIN(id) FROM (SELECT id FROM tracking_events WHERE user_id = ? ORDER BY id DESC LIMIT ?) AS newest)`),
				ev.UserID, ev.UserID, r.KeepEvents); err != nil {
				return err
			}
		}
		if r.UnsetPush != "" {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM push_devices WHERE device_id = ? AND user_id = ?`),
				r.UnsetPush, ev.UserID); err != nil {
				return err
			}
		}
		if r.SetPush != "" {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO push_devices (device_id, user_id, created_at, updated_at)
				VALUES (?, ?, ?, ?)
				ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, updated_at = excluded.updated_at,
					created_at = CASE WHEN push_devices.user_id = excluded.user_id THEN push_devices.created_at ELSE excluded.created_at END`),
				r.SetPush, ev.UserID, at, at); err != nil {
				return err
			}
			if r.KeepPush > 0 {
				if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM push_devices WHERE user_id = ? AND device_id NOT IN
					(SELECT device_id FROM (SELECT device_id FROM push_devices WHERE user_id = ?
						ORDER BY updated_at DESC, device_id LIMIT ?) AS newest)`),
					ev.UserID, ev.UserID, r.KeepPush); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrap("record tracking", err)
	}
	return id, nil
}

// TrackingEvents lists the user's events, newest first.
func (s *Store) TrackingEvents(ctx context.Context, userID string, limit int) ([]store.TrackingEvent, error) {
	var rows []struct {
		ID        int64  `db:"id"`
		CreatedAt int64  `db:"created_at"`
		IP        string `db:"ip"`
		UserAgent string `db:"user_agent"`
		Data      string `db:"data"`
	}
	q := `SELECT id, created_at, ip, user_agent, data FROM tracking_events WHERE user_id = ? ORDER BY id DESC`
	args := []any{userID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	if err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(q), args...); err != nil {
		return nil, wrap("tracking events", err)
	}
	out := make([]store.TrackingEvent, len(rows))
	for i, r := range rows {
		out[i] = store.TrackingEvent{ID: r.ID, UserID: userID, At: fromMicros(r.CreatedAt), IP: r.IP, UserAgent: r.UserAgent, Data: r.Data}
	}
	return out, nil
}

// PushDevices lists the user's push devices, most recently set first.
func (s *Store) PushDevices(ctx context.Context, userID string) ([]store.PushDevice, error) {
	var rows []struct {
		DeviceID  string `db:"device_id"`
		CreatedAt int64  `db:"created_at"`
		UpdatedAt int64  `db:"updated_at"`
	}
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT device_id, created_at, updated_at FROM push_devices
		WHERE user_id = ? ORDER BY updated_at DESC, device_id`), userID)
	if err != nil {
		return nil, wrap("push devices", err)
	}
	out := make([]store.PushDevice, len(rows))
	for i, r := range rows {
		out[i] = store.PushDevice{DeviceID: r.DeviceID, UserID: userID, Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt)}
	}
	return out, nil
}

// ---- blocks ----

// PutBlock records a block; blocking again updates the reason.
func (s *Store) PutBlock(ctx context.Context, b store.Block) error {
	created := b.Created
	if created.IsZero() {
		created = s.stamp()
	}
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(`INSERT INTO user_blocks (blocker_id, blocked_id, reason, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (blocker_id, blocked_id) DO UPDATE SET reason = excluded.reason`),
		b.BlockerID, b.BlockedID, b.Reason, micros(created.UTC().Truncate(time.Microsecond)))
	if err != nil && isForeignKeyViolation(err) {
		return fmt.Errorf("sqlstore: put block: user: %w", store.ErrNotFound)
	}
	return wrap("put block", err)
}

// DeleteBlock lifts a block.
func (s *Store) DeleteBlock(ctx context.Context, blockerID, blockedID string) error {
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM user_blocks WHERE blocker_id = ? AND blocked_id = ?`),
		blockerID, blockedID)
	return wrap("delete block", err)
}

// Blocked reports whether either user blocked the other.
func (s *Store) Blocked(ctx context.Context, a, b string) (bool, error) {
	var n int
	err := s.ro.GetContext(ctx, &n, s.ro.Rebind(`SELECT COUNT(*) FROM user_blocks
		WHERE (blocker_id = ? AND blocked_id = ?) OR (blocker_id = ? AND blocked_id = ?)`), a, b, b, a)
	if err != nil {
		return false, wrap("blocked", err)
	}
	return n > 0, nil
}

// BlockedIDs lists every user hidden from userID, sorted.
func (s *Store) BlockedIDs(ctx context.Context, userID string) ([]string, error) {
	ids := []string{}
	err := s.ro.SelectContext(ctx, &ids, s.ro.Rebind(`SELECT blocked_id FROM user_blocks WHERE blocker_id = ?
		UNION SELECT blocker_id FROM user_blocks WHERE blocked_id = ? ORDER BY 1`), userID, userID)
	if err != nil {
		return nil, wrap("blocked ids", err)
	}
	return ids, nil
}

// BlocksBy lists the blocks userID made, oldest first.
func (s *Store) BlocksBy(ctx context.Context, userID string) ([]store.Block, error) {
	var rows []struct {
		BlockedID string `db:"blocked_id"`
		Reason    int    `db:"reason"`
		CreatedAt int64  `db:"created_at"`
	}
	err := s.ro.SelectContext(ctx, &rows, s.ro.Rebind(`SELECT blocked_id, reason, created_at FROM user_blocks
		WHERE blocker_id = ? ORDER BY created_at, blocked_id`), userID)
	if err != nil {
		return nil, wrap("blocks by", err)
	}
	out := make([]store.Block, len(rows))
	for i, r := range rows {
		out[i] = store.Block{BlockerID: userID, BlockedID: r.BlockedID, Reason: r.Reason, Created: fromMicros(r.CreatedAt)}
	}
	return out, nil
}

// ---- backups ----

// PutBackup stores a backup, replacing the user's earlier one and purging
// expired ones.
func (s *Store) PutBackup(ctx context.Context, b store.Backup) error {
	if b.TokenHash == "" || len(b.Archive) == 0 {
		return errors.New("sqlstore: put backup: empty token hash or archive")
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM user_backups WHERE user_id = ? OR expires_at < ?`),
			b.UserID, micros(s.stamp())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO user_backups (token_hash, user_id, created_at, expires_at, archive)
			VALUES (?, ?, ?, ?, ?)`), b.TokenHash, b.UserID,
			micros(b.Created.UTC().Truncate(time.Microsecond)), micros(b.Expires.UTC().Truncate(time.Microsecond)), b.Archive)
		if err != nil && isForeignKeyViolation(err) {
			return fmt.Errorf("user: %w", store.ErrNotFound)
		}
		return err
	})
	return wrap("put backup", err)
}

// TakeBackup deletes and returns a backup in one statement.
func (s *Store) TakeBackup(ctx context.Context, tokenHash string, now time.Time) (store.Backup, error) {
	var row struct {
		UserID    string `db:"user_id"`
		CreatedAt int64  `db:"created_at"`
		ExpiresAt int64  `db:"expires_at"`
		Archive   []byte `db:"archive"`
	}
	err := s.rw.GetContext(ctx, &row, s.rw.Rebind(`DELETE FROM user_backups WHERE token_hash = ?
		RETURNING user_id, created_at, expires_at, archive`), tokenHash)
	if err != nil {
		return store.Backup{}, wrap("take backup", err)
	}
	b := store.Backup{TokenHash: tokenHash, UserID: row.UserID, Created: fromMicros(row.CreatedAt),
		Expires: fromMicros(row.ExpiresAt), Archive: row.Archive}
	if !now.Before(b.Expires) {
		return store.Backup{}, fmt.Errorf("sqlstore: take backup: expired: %w", store.ErrNotFound)
	}
	return b, nil
}

// DeleteUserBackups removes the user's pending backups.
func (s *Store) DeleteUserBackups(ctx context.Context, userID string) error {
	_, err := s.rw.ExecContext(ctx, s.rw.Rebind(`DELETE FROM user_backups WHERE user_id = ?`), userID)
	return wrap("delete user backups", err)
}
