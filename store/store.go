// Package store holds partnergate's storage contract: the record types, the
// interfaces every backend implements, and the sentinel errors they return.
//
// Two kinds of state live behind it. Durable records (users, identifiers,
// credentials, partners, the outbox) go to a SQL database through Store;
// short-lived, high-churn state (sessions, codes, nonces, counters) goes to
// Redis through the interfaces in state.go, which store/kv implements.
// Nothing in store imports rpc or methods: callers depend on store, never the
// other way round.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with context; callers test with errors.Is.
var (
	// ErrNotFound is returned when the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a create or update would break a
	// uniqueness rule (an identifier already taken, a key id reused).
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnavailable is returned when the backend cannot be reached. Callers
	// fail closed on it.
	ErrUnavailable = errors.New("store unavailable")
)

// Identifier kinds. An identifier is unique per kind over its normalised value.
const (
	KindEmail    = "email"
	KindPhone    = "phone"
	KindUsername = "username"
)

// User states.
const (
	StateActive   = "active"
	StateDisabled = "disabled"
)

// User is what every namespace shares about an account: who it is (ID and
// identifiers with their verification), whether it may log in (State), what
// it may do (Role), and the language every message to it is written in,
// whichever namespace sends the message. Members only some namespaces have
// live in per-namespace records (Profile), read and written through their
// own methods, so User does not grow into the union of five APIs and the
// session check's cached copy (store/usercache) stays small.
//
// All of it is kept in the users and identifiers tables; see Profile for
// which users columns are the profile's.
type User struct {
	ID      string
	Created time.Time
	Updated time.Time
	State   string
	Role    string
	// IsNew is set at registration and reported by seeds 000 and 001.
	IsNew bool
	// Lang is an ISO 639-1 code; codes and links go out in it.
	Lang string
	// TOTP is true while two-factor authentication is enabled (store.TOTPs
	// sets it; UpdateUser and CreateUser ignore it). Every login checks it.
	TOTP bool
	// UID is Barong's user id ("ID" + 10 uppercase hex digits, unique),
	// given at registration in every namespace; ReferralUID is the uid of
	// the user who referred this one, or "". Both are set by CreateUser
	// only: UpdateUser keeps them.
	UID         string
	ReferralUID string

	// Identifiers is filled by the reads that return a whole user.
	Identifiers []Identifier
}

// Profile is the personal profile and settings of seeds 000 and 001 (the
// user object of seed 001's auth.* and seed 000's user.settings.*). Seed
// 000 shares the names, avatar and birthday with seed 001 and adds its
// settings; seed 001 adds the rest. Fields a seed does not set keep their
// zero value. Seeds 002-004 get records of their own beside it rather than
// members here.
//
// Its columns stay in the users table (one row per user, so a profile
// exists exactly as long as its user), written only by CreateUser and
// UpdateProfile: from first_name to ideal_match_count and sex to
// dating_model except lang, which is User's.
type Profile struct {
	FirstName    string
	LastName     string
	CompanyName  string
	CompanyTitle string
	Birthday     string // "2006-01-02" or ""
	Hometown     string
	Education    string
	ZipCode      string
	Description  string
	LinkURL      string
	PrivacyMode  int
	Avatar       string
	// Avatar3D and Params are JSON documents kept verbatim; "" means unset.
	Avatar3D     string
	Params       string
	IdentityType int
	IdentityName string
	ZAddress     string

	PublicRoomCount       int
	ContactCount          int
	PendingContactCount   int
	NewInvitationsCount   int
	PendingRequestCount   int
	NewNotificationsCount int
	IdealMatchCount       int

	// Seed 000 settings.
	Sex          int // -1 not set, 0 undefined, 1..8 as the seed lists
	News         bool
	Restrictions [5]bool // restriction_1..restriction_5 consents
	DatingModel  string
}

// Identifier is an email, phone or username bound to a user. Value is what the
// user gave (email with its domain lower-cased, phone in E.164); Norm is the
// case-folded form the uniqueness rule applies to.
type Identifier struct {
	UserID   string
	Kind     string
	Value    string
	Norm     string
	Verified bool
}

// Identifier returns the user's identifier of the given kind, if any.
func (u *User) Identifier(kind string) (Identifier, bool) {
	for _, id := range u.Identifiers {
		if id.Kind == kind {
			return id, true
		}
	}
	return Identifier{}, false
}

// Credential is a user's password hash (an argon2id PHC string).
type Credential struct {
	UserID       string
	PasswordHash string
	Updated      time.Time
}

// Partner is a backend allowed to call partner-scoped methods. SecretSealed is
// the HMAC secret sealed by the key ring: the secret itself is never stored.
type Partner struct {
	KID          string
	Name         string
	SecretSealed string
	Scopes       []string
	Created      time.Time
	Revoked      *time.Time
}

// Message is one entry of the outbox: a code or link to deliver.
type Message struct {
	ID      int64
	Channel string // "email" or "sms"
	To      string
	Subject string
	Body    string
	Created time.Time
	Sent    *time.Time
}

// SigningKey is one JWT signing key (core/tokens). The private half is
// sealed by the key ring; the public half is the JWK the JWKS document
// serves. Retired is when a newer key took over signing: a retired key
// still verifies the tokens it signed until they expire.
type SigningKey struct {
	KID           string
	Alg           string
	PrivateSealed string
	PublicJWK     string
	Created       time.Time
	Retired       *time.Time
}

// SigningKeys keeps the JWT signing keys.
type SigningKeys interface {
	// AddSigningKey stores k as the current key and, in the same
	// transaction, retires every other key not yet retired at k.Created
	// (a zero Created is taken from the store's clock). ErrAlreadyExists on
	// a used KID; a plain error if KID, Alg or a half is empty.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys lists the keys not retired, or retired at or after
	// since, newest first; none is an empty list.
	SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error)
}

// NewUser is what CreateUser needs: the user, its profile, its identifiers
// and, optionally, its password hash, written in one transaction.
type NewUser struct {
	User         User
	Profile      Profile
	Identifiers  []Identifier
	PasswordHash string
}

// Store is the durable state. Every method takes a context and returns
// errors wrapping the sentinels above.
type Store interface {
	UserData
	BarongStore
	Outbox
	SigningKeys
	Activities
	Access
	UserLister
	TOTPs

	// CreateUser writes the user, identifiers and credential atomically.
	// ErrAlreadyExists if any identifier is taken (compared on Norm).
	CreateUser(ctx context.Context, nu NewUser) error
	// UserByID returns the user with its identifiers. ErrNotFound.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByIdentifier finds a user by kind and normalised value. ErrNotFound.
	UserByIdentifier(ctx context.Context, kind, norm string) (User, error)
	// UpdateUser applies fn to the current user inside one transaction and
	// writes State, Role, IsNew and Lang as fn returned them (ID, Created
	// and the identifiers are kept); Updated is set from the store's clock.
	// An error from fn is returned unchanged and nothing is written.
	// ErrNotFound.
	UpdateUser(ctx context.Context, id string, fn func(u User) (User, error)) (User, error)
	// Profile returns the user's profile. ErrNotFound when the user does not
	// exist.
	Profile(ctx context.Context, userID string) (Profile, error)
	// UpdateProfile applies fn to the current profile inside one
	// transaction and writes the result; the user's Updated is set from the
	// store's clock. An error from fn is returned unchanged and nothing is
	// written. ErrNotFound.
	UpdateProfile(ctx context.Context, userID string, fn func(p Profile) (Profile, error)) (Profile, error)
	// SetUserRole sets a user's role. ErrNotFound.
	SetUserRole(ctx context.Context, id, role string) error
	// DeleteUser removes the user and everything tied to it. ErrNotFound.
	DeleteUser(ctx context.Context, id string) error
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int64, error)

	// SetIdentifier creates or replaces the user's identifier of id.Kind.
	// ErrAlreadyExists when another user holds id.Norm; ErrNotFound when the
	// user does not exist.
	SetIdentifier(ctx context.Context, id Identifier) error
	// ClaimIdentifier marks the user's identifier of kind verified and, in
	// the same transaction, removes the password and every other
	// identifier. ErrNotFound when the user has no identifier of kind.
	ClaimIdentifier(ctx context.Context, userID, kind string) error

	// Credential returns the user's password hash. ErrNotFound when the user
	// has no password.
	Credential(ctx context.Context, userID string) (Credential, error)
	// SetPasswordHash creates or replaces the user's password hash. ErrNotFound
	// when the user does not exist.
	SetPasswordHash(ctx context.Context, userID, hash string) error

	// CreatePartner stores a new partner key. ErrAlreadyExists on a used KID.
	CreatePartner(ctx context.Context, p Partner) error
	// Partner returns one partner key, revoked or not. ErrNotFound.
	Partner(ctx context.Context, kid string) (Partner, error)
	// Partners lists every partner key, oldest first.
	Partners(ctx context.Context) ([]Partner, error)
	// RevokePartner marks a key revoked. ErrNotFound; revoking twice is a no-op.
	RevokePartner(ctx context.Context, kid string) error

	// EnqueueMessage appends to the outbox and returns the message's id.
	EnqueueMessage(ctx context.Context, m Message) (int64, error)
	// MessagesTo lists the outbox entries for one address, newest first.
	MessagesTo(ctx context.Context, to string, limit int) ([]Message, error)

	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
}
