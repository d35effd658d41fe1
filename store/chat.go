package store

import (
	"context"
	"time"
)

// This file holds the contract for what seed 003 (the chat users API,
// users.*) keeps beside the shared account: the chat profile, the account
// key's hash and the user search. Every record belongs to a user and goes
// when the user is deleted (ON DELETE CASCADE).

// ChatProfile is a user's chat profile: the display name and about text a
// chat client shows. NameFold is the name's search form, folded by the
// caller (core/accounts) the way usernames are, so that the store compares
// folded strings only.
type ChatProfile struct {
	UserID   string
	Name     string
	NameFold string
	About    string
	Updated  time.Time
}

// UserSearch asks for one page of users.search. Fold is the query folded
// like NameFold (non-empty); Limit is at least 1.
type UserSearch struct {
	Fold   string
	Limit  int
	Offset int
}

// Search ranks, best first.
const (
	RankExact     = 0 // the username or the name equals the query
	RankPrefix    = 1 // one of them starts with it
	RankSubstring = 2 // one of them contains it
)

// UserHit is one result of SearchUsers.
type UserHit struct {
	UserID   string
	Name     string // the chat name, "" when none
	Username string // the username as chosen, "" when none
	About    string
	// Private is the user's privacy mode (Profile.PrivacyMode): such a
	// user is found by username only, never by name.
	Private bool
	Rank    int
}

// ChatStore keeps seed 003's records.
type ChatStore interface {
	// ChatProfile returns the user's chat profile. ErrNotFound when the
	// user has none (or does not exist).
	ChatProfile(ctx context.Context, userID string) (ChatProfile, error)
	// UpdateChatProfile applies fn to the user's chat profile (the zero
	// profile with UserID set when there is none yet) inside one
	// transaction and writes Name, NameFold and About as fn returned
	// them; Updated comes from the store's clock. An error from fn is
	// returned unchanged and nothing is written. ErrNotFound when the user
	// does not exist.
	UpdateChatProfile(ctx context.Context, userID string, fn func(p ChatProfile) (ChatProfile, error)) (ChatProfile, error)
	// SetAccountKeyHash creates or replaces the hash of the user's account
	// key. ErrNotFound when the user does not exist.
	SetAccountKeyHash(ctx context.Context, userID, hash string) error
	// AccountKeyHash returns it. ErrNotFound when the user has none.
	AccountKeyHash(ctx context.Context, userID string) (string, error)
	// SearchUsers returns active users whose username (its norm) or chat
	// name (its fold; not for a user in privacy mode) contains q.Fold, ranked exact, then prefix, then
	// substring, then by username norm (users without one: name fold) and
	// id; one page of q.Limit from q.Offset. Disabled users are never
	// returned. None is an empty list; a plain error for an empty Fold or
	// a Limit below 1.
	SearchUsers(ctx context.Context, q UserSearch) ([]UserHit, error)

	// AddPhoto makes the user's upload fileID (a File of purpose
	// FileUpload) one of its profile photos, unless it already has max
	// photos (ErrLimitReached; max ≤ 0 means no cap); concurrent adds for
	// one user are serialised, so the cap holds. ErrNotFound when the user
	// has no such upload (another user's file included); ErrAlreadyExists
	// when it is a photo already.
	AddPhoto(ctx context.Context, userID, fileID string, max int) error
	// DeletePhoto removes fileID from the user's photos (the file stays).
	// ErrNotFound when it is not one of them.
	DeletePhoto(ctx context.Context, userID, fileID string) error
	// UserPhotos lists the files of the user's photos, in the order
	// added; none is an empty list.
	UserPhotos(ctx context.Context, userID string) ([]File, error)
	// PhotoOwner returns the user whose photo fileID is. ErrNotFound when
	// it is nobody's photo.
	PhotoOwner(ctx context.Context, fileID string) (string, error)
}
