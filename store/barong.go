package store

import (
	"context"
	"errors"
	"time"
)

// This file holds the contract for what seed 002 (Barong) keeps about a
// user beyond the shared account: the uid lookup, the KYC profile, phones
// and labels. Every record here belongs to a user and goes when the user
// is deleted (ON DELETE CASCADE).

// ErrLimit is returned when a create would take a user past a cap the
// caller set (labels, phones per user); nothing is written.
var ErrLimit = errors.New("limit reached")

// KYC profile states, as Barong names them.
const (
	ProfileDrafted   = "drafted"
	ProfileSubmitted = "submitted"
	ProfileVerified  = "verified"
	ProfileRejected  = "rejected"
)

// KYCProfile is the part of Barong's profile the shared Profile has no
// column for. Its names, birthday (dob) and postcode are Profile's
// FirstName, LastName, Birthday and ZipCode, so every dialect sees one
// profile. Address and Metadata are stored as the caller gives them (the
// core seals them); Metadata is a JSON object or "".
type KYCProfile struct {
	UserID   string
	State    string
	Address  string
	City     string
	Country  string
	Metadata string
	Created  time.Time
	Updated  time.Time
}

// Phone is one of a user's phone numbers (E.164). Validated is when the
// user proved it, nil while it waits.
type Phone struct {
	ID        int64
	UserID    string
	Number    string
	Country   string
	Validated *time.Time
	Created   time.Time
	Updated   time.Time
}

// Label scopes.
const (
	ScopePublic  = "public"
	ScopePrivate = "private"
)

// Label is a key/value pair on a user, unique per (user, key, scope).
type Label struct {
	UserID      string
	Key         string
	Value       string
	Scope       string
	Description string
	Created     time.Time
	Updated     time.Time
}

// BarongStore keeps seed 002's records.
type BarongStore interface {
	// UserByUID returns the user whose Barong uid is uid, with its
	// identifiers. ErrNotFound.
	UserByUID(ctx context.Context, uid string) (User, error)

	// KYCProfile returns the user's KYC profile row. ErrNotFound when the
	// user has none (or does not exist).
	KYCProfile(ctx context.Context, userID string) (KYCProfile, error)
	// PutKYCProfile reads the user's Profile and KYC profile (exists tells
	// whether the row was there), applies fn and writes both in one
	// transaction. With create set, ErrAlreadyExists when the row exists;
	// without, ErrNotFound when it does not. Created and Updated come from
	// the store's clock. An error from fn is returned unchanged and
	// nothing is written. ErrNotFound when the user does not exist.
	PutKYCProfile(ctx context.Context, userID string, create bool, fn func(p Profile, k KYCProfile) (Profile, KYCProfile, error)) (Profile, KYCProfile, error)

	// Phones lists the user's phones, oldest first.
	Phones(ctx context.Context, userID string) ([]Phone, error)
	// AddPhone stores a new unverified phone and returns it with its ID
	// and times. ErrAlreadyExists when the user has the number already;
	// ErrLimit when the user has max phones already (max <= 0: no cap);
	// ErrNotFound when the user does not exist.
	AddPhone(ctx context.Context, p Phone, max int) (Phone, error)
	// Phone returns the user's phone of that number. ErrNotFound.
	Phone(ctx context.Context, userID, number string) (Phone, error)
	// VerifyPhone marks the user's phone of that number validated at the
	// store's clock. ErrNotFound when the user has no such number;
	// ErrAlreadyExists when another user has it verified.
	VerifyPhone(ctx context.Context, userID, number string) (Phone, error)

	// Labels lists the user's labels of scope ("" for every scope), by
	// key then scope.
	Labels(ctx context.Context, userID, scope string) ([]Label, error)
	// Label returns one label. ErrNotFound.
	Label(ctx context.Context, userID, key, scope string) (Label, error)
	// CreateLabel stores a new label. ErrAlreadyExists when the user has
	// one of that key and scope; ErrLimit when the user has max labels of
	// that scope already (max <= 0: no cap); ErrNotFound when the user
	// does not exist.
	CreateLabel(ctx context.Context, l Label, max int) (Label, error)
	// PutLabel creates the label or replaces the value and description of
	// the existing one (the system's own labels: email, phone, ...).
	// ErrNotFound when the user does not exist.
	PutLabel(ctx context.Context, l Label) (Label, error)
	// UpdateLabel sets an existing label's value. ErrNotFound.
	UpdateLabel(ctx context.Context, userID, key, scope, value string) (Label, error)
	// DeleteLabel removes a label. ErrNotFound.
	DeleteLabel(ctx context.Context, userID, key, scope string) error
}
