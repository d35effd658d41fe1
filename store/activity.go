package store

import (
	"context"
	"time"
)

// Activity categories and results, as Barong names them.
const (
	CategoryUser  = "user"
	CategoryAdmin = "admin"

	ResultSucceed = "succeed"
	ResultFailed  = "failed"
	ResultDenied  = "denied"
)

// Activity is one entry of the activity trail. UserID is whose trail it is
// in (the user for category user, the admin for category admin); TargetID
// is the user an admin acted on. Data is a JSON object with secrets already
// removed.
type Activity struct {
	ID        int64
	UserID    string
	TargetID  string
	Actor     string
	Category  string
	Topic     string
	Action    string
	Result    string
	IP        string
	Country   string
	UserAgent string
	Data      string
	Created   time.Time
}

// ActivityFilter selects entries, newest first. Empty members match
// anything; Before (an ID) pages by keyset: only entries with a smaller ID.
// Since and Until bound Created (inclusive, exclusive) when non-zero.
type ActivityFilter struct {
	UserID   string
	TargetID string
	Category string
	Topic    string
	Action   string
	Result   string
	Since    time.Time
	Until    time.Time
	Before   int64
	Limit    int
}

// Activities keeps the activity trail.
type Activities interface {
	// AddActivity appends a and returns it with ID and Created set (a zero
	// Created is taken from the store's clock). ErrNotFound if UserID names
	// no user; a plain error if Category, Topic, Action or Result is empty
	// or not one the schema allows.
	AddActivity(ctx context.Context, a Activity) (Activity, error)
	// Activities lists the entries f selects, newest first, at most
	// f.Limit (which must be 1 to 1000).
	Activities(ctx context.Context, f ActivityFilter) ([]Activity, error)
	// CountActivities counts the entries f selects (Before and Limit
	// ignored).
	CountActivities(ctx context.Context, f ActivityFilter) (int64, error)
}
