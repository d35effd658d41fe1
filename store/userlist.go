package store

import (
	"context"
	"time"
)

// UserFilter selects users for admin listing, newest first (user ids are
// UUIDv7, so id order is creation order). Empty members match anything.
type UserFilter struct {
	// Email is a normalised email, matched exactly.
	Email string
	// Role is matched exactly; "member" also matches the empty role.
	Role  string
	State string
	// EmailVerified, when set, keeps users whose email's verification is
	// as given (Barong's level 1, and its pending/active states).
	EmailVerified *bool
	FirstName     string
	LastName      string
	// CreatedFrom/To and UpdatedFrom/To bound the times (from inclusive,
	// to exclusive) when non-zero.
	CreatedFrom, CreatedTo time.Time
	UpdatedFrom, UpdatedTo time.Time
	// Before pages by keyset: only users whose id sorts before it.
	Before string
	// Offset skips that many users first (page mode); 0 with Before.
	Offset int
	// Limit is 1 to 1000.
	Limit int
}

// UserLister lists users for the admin side.
type UserLister interface {
	// ListUsers returns the users f selects with their identifiers,
	// newest first. A plain error for a Limit outside 1..1000.
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
	// CountUsersSince counts the users created in [from, to).
	CountUsersSince(ctx context.Context, from, to time.Time) (int64, error)
	// UsersByLabel returns the users with a label key = value (any scope),
	// newest first, after skipping offset. A plain error for a limit
	// outside 1..1000.
	UsersByLabel(ctx context.Context, key, value string, offset, limit int) ([]User, error)
	// LabelValues returns every label key in use with its distinct values,
	// keys and values sorted, at most limit pairs.
	LabelValues(ctx context.Context, limit int) ([]LabelValue, error)
	// KYCProfiles lists KYC profile rows, newest user first, after
	// skipping offset. A plain error for a limit outside 1..1000.
	KYCProfiles(ctx context.Context, offset, limit int) ([]KYCProfile, error)
}

// LabelValue is one key and value some user's label has.
type LabelValue struct {
	Key   string `db:"key"`
	Value string `db:"value"`
}
