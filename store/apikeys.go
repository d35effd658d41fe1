package store

import (
	"context"
	"time"
)

// API key states (Barong's).
const (
	APIKeyActive   = "active"
	APIKeyDisabled = "disabled"
)

// APIKey is one of seed 002's user API keys. SecretSealed is the HMAC
// secret sealed by the key ring (it must be recovered to check
// signatures): the secret itself is never stored. Scope is the list of
// method-name prefixes the key may call.
type APIKey struct {
	KID          string
	UserID       string
	Algorithm    string // HS256, HS384 or HS512
	Scope        []string
	State        string
	SecretSealed string
	Created      time.Time
	Updated      time.Time
}

// APIKeys keeps the user API keys.
type APIKeys interface {
	// CreateAPIKey writes k unless the user already holds max keys
	// (ErrLimitReached; max ≤ 0 means no cap; concurrent creates for one
	// user are serialised). ErrAlreadyExists on a used KID; ErrNotFound
	// when the user does not exist. Zero times come from the store's clock.
	CreateAPIKey(ctx context.Context, k APIKey, max int) error
	// APIKey returns one key, any user's. ErrNotFound.
	APIKey(ctx context.Context, kid string) (APIKey, error)
	// UserAPIKeys lists the user's keys, oldest first, at most limit from
	// offset, and how many the user holds in all.
	UserAPIKeys(ctx context.Context, userID string, limit, offset int) ([]APIKey, int, error)
	// UpdateAPIKey applies fn to the user's key kid inside one transaction
	// and writes its Scope and State (the rest is kept); Updated is set
	// from the store's clock. An error from fn is returned unchanged and
	// nothing is written. ErrNotFound when the user has no key kid.
	UpdateAPIKey(ctx context.Context, userID, kid string, fn func(k APIKey) (APIKey, error)) (APIKey, error)
	// DeleteAPIKey removes the user's key kid. ErrNotFound.
	DeleteAPIKey(ctx context.Context, userID, kid string) error
}
