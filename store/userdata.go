package store

import (
	"context"
	"time"
)

// This file holds the contract for the data seed 000 keeps about a user
// beyond the account itself: the product catalogue with each user's
// activations and the consents they record, tracking events and push
// devices, blocks between users, and encrypted data backups waiting to be
// downloaded. Every record here belongs to a user and goes when the user is
// deleted (ON DELETE CASCADE).

// Product activation actions, as recorded in a ProductConsent.
const (
	ConsentActivate   = "activate"
	ConsentDeactivate = "deactivate"
)

// Product is one entry of the product catalogue.
type Product struct {
	ID          string // allowlisted charset, see products.ValidID
	Title       string
	Description string
	Policy      string // the user agreement text activation consents to
	Icon        string
	// Info is the URL of an information page; "" means none.
	Info string
	// SubscriptionCancel is where a paid subscription is cancelled in the
	// payment system; "" when the product has no subscription.
	SubscriptionCancel string
	// Disabled products are listed but cannot be activated.
	Disabled bool
	// Position orders the catalogue (ascending, then by ID).
	Position int
	Created  time.Time
	Updated  time.Time
}

// UserProduct is one product a user has activated.
type UserProduct struct {
	UserID    string
	ProductID string
	Activated time.Time
}

// ProductConsent is the legal record of one activation or deactivation:
// who, which product, what, when and from where.
type ProductConsent struct {
	ID        int64
	UserID    string
	ProductID string
	Action    string // ConsentActivate or ConsentDeactivate
	At        time.Time
	IP        string
	UserAgent string
}

// ProductStore keeps the catalogue and each user's activations.
type ProductStore interface {
	// Products lists the catalogue ordered by Position, then ID.
	Products(ctx context.Context) ([]Product, error)
	// Product returns one product. ErrNotFound.
	Product(ctx context.Context, id string) (Product, error)
	// PutProduct creates the product or replaces every field of an existing
	// one but Created. Created and Updated are set from the store's clock.
	PutProduct(ctx context.Context, p Product) error
	// UserProducts lists the user's active products ordered by product ID.
	UserProducts(ctx context.Context, userID string) ([]UserProduct, error)
	// SetProductState activates (c.Action ConsentActivate) or deactivates
	// the product for c.UserID and appends c to the consent log, in one
	// transaction; c.At is the time recorded for both. Both actions are
	// idempotent as to state, and every call appends a consent. It returns
	// the IDs of the user's active products afterwards, sorted.
	// ErrNotFound when the product or the user does not exist.
	SetProductState(ctx context.Context, c ProductConsent) ([]string, error)
	// ProductConsents lists the user's consents, oldest first.
	ProductConsents(ctx context.Context, userID string) ([]ProductConsent, error)
}

// TrackingEvent is one user.tracking.set call: the attributes it carried as
// a JSON object, and when and from where it came.
type TrackingEvent struct {
	ID        int64
	UserID    string
	At        time.Time
	IP        string
	UserAgent string
	Data      string // JSON object
}

// PushDevice is a push notification address registered by a user.
type PushDevice struct {
	DeviceID string
	UserID   string
	Created  time.Time
	Updated  time.Time
}

// TrackingRecord is what RecordTracking writes in one transaction.
type TrackingRecord struct {
	Event TrackingEvent
	// SetPush, when not "", registers a push device for Event.UserID. A
	// device belongs to one user: registering it moves it from any other.
	SetPush string
	// UnsetPush, when not "", removes the user's push device of that ID (a
	// no-op when the user has none of that ID).
	UnsetPush string
	// KeepEvents, when > 0, is how many of the user's newest events are
	// kept; older ones are deleted. KeepPush does the same for devices.
	KeepEvents int
	KeepPush   int
}

// TrackingStore keeps tracking events and push devices.
type TrackingStore interface {
	// RecordTracking appends the event and applies the push device changes
	// in one transaction and returns the event's ID. ErrNotFound when the
	// user does not exist.
	RecordTracking(ctx context.Context, r TrackingRecord) (int64, error)
	// TrackingEvents lists the user's events, newest first; limit <= 0
	// means all.
	TrackingEvents(ctx context.Context, userID string, limit int) ([]TrackingEvent, error)
	// PushDevices lists the user's push devices, most recently set first.
	PushDevices(ctx context.Context, userID string) ([]PushDevice, error)
}

// Block is one user blocking another.
type Block struct {
	BlockerID string
	BlockedID string
	Reason    int // 1 to 5, see seed 000's user.auth.block
	Created   time.Time
}

// BlockStore keeps blocks between users. A block hides the two users from
// each other: methods that list or look up users consult Blocked or
// BlockedIDs.
type BlockStore interface {
	// PutBlock records that b.BlockerID blocks b.BlockedID. Blocking again
	// keeps Created and updates Reason. ErrNotFound when either user does
	// not exist; a user blocking itself is refused by the schema.
	PutBlock(ctx context.Context, b Block) error
	// DeleteBlock lifts a block; a no-op when there is none.
	DeleteBlock(ctx context.Context, blockerID, blockedID string) error
	// Blocked reports whether either user has blocked the other.
	Blocked(ctx context.Context, a, b string) (bool, error)
	// BlockedIDs lists, sorted, every user hidden from userID: those it
	// blocked and those that blocked it.
	BlockedIDs(ctx context.Context, userID string) ([]string, error)
	// BlocksBy lists the blocks userID made, oldest first.
	BlocksBy(ctx context.Context, userID string) ([]Block, error)
}

// Backup is an encrypted archive of a user's data waiting for its one
// download. TokenHash is the hex SHA-256 of the download token.
type Backup struct {
	TokenHash string
	UserID    string
	Created   time.Time
	Expires   time.Time
	Archive   []byte
}

// BackupStore keeps backups until they are downloaded or expire.
type BackupStore interface {
	// PutBackup stores b, replacing any earlier backup of the same user,
	// and deletes every expired backup on the way. ErrNotFound when the
	// user does not exist; ErrAlreadyExists on a reused TokenHash.
	PutBackup(ctx context.Context, b Backup) error
	// TakeBackup deletes and returns the backup of tokenHash in one step,
	// so of concurrent takes at most one gets it. ErrNotFound when there is
	// none or it expired before now (an expired one is deleted too).
	TakeBackup(ctx context.Context, tokenHash string, now time.Time) (Backup, error)
	// DeleteUserBackups removes the user's pending backups.
	DeleteUserBackups(ctx context.Context, userID string) error
}

// UserData is every store of this file, for store.Store to embed.
type UserData interface {
	ProductStore
	TrackingStore
	BlockStore
	BackupStore
}
