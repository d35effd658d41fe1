package accounts

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"partnergate/core"
	"partnergate/core/events"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
)

// Chat profile and search limits (docs/api.md, users.*).
const (
	MaxChatName = 64
	MaxAbout    = 500
	// MinSearch and MaxSearch bound a users.search query, in characters.
	MinSearch = 2
	MaxSearch = 64
	// MaxSearchPage is the largest page; DefaultSearchPage the default.
	MaxSearchPage     = 50
	DefaultSearchPage = 20
	// MaxSearchOffset bounds how deep a search may page.
	MaxSearchOffset = 1000
	// MinAccountKey is the shortest account key, in characters (the
	// longest is the password's, 128).
	MinAccountKey = 16
)

// FoldName is the form names and search queries are compared in: NFKC,
// lower-cased.
func FoldName(s string) string { return strings.ToLower(norm.NFKC.String(s)) }

// CheckChatName refuses an empty name, one over 64 characters, or one with
// control or invisible characters (fault.Invalid on name).
func CheckChatName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fault.Field(fault.Invalid, "name", "required")
	}
	return checkLabel("name", name, MaxChatName)
}

// checkAbout allows line breaks and tabs, nothing else of control.
func checkAbout(about string) error {
	if !utf8.ValidString(about) || utf8.RuneCountInString(about) > MaxAbout {
		return fault.Field(fault.Invalid, "about", "at most 500 characters")
	}
	if strings.IndexFunc(about, func(r rune) bool {
		return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
	}) >= 0 {
		return fault.Field(fault.Invalid, "about", "control or invisible characters")
	}
	return nil
}

// ChatProfile returns the user's chat profile; a user who never set one
// (made by another seed) has the zero profile, not an error.
func (s *Service) ChatProfile(ctx context.Context, userID string) (store.ChatProfile, error) {
	p, err := s.Store.ChatProfile(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.ChatProfile{UserID: userID}, nil
	}
	if err != nil {
		return store.ChatProfile{}, core.StoreError("accounts: read chat profile", err)
	}
	return p, nil
}

// UpdateChatProfile sets the name and about text (nil keeps one). Both are
// checked before anything is written.
func (s *Service) UpdateChatProfile(ctx context.Context, userID string, name, about *string) (store.ChatProfile, error) {
	if name != nil {
		if err := CheckChatName(*name); err != nil {
			return store.ChatProfile{}, err
		}
	}
	if about != nil {
		if err := checkAbout(*about); err != nil {
			return store.ChatProfile{}, err
		}
	}
	p, err := s.Store.UpdateChatProfile(ctx, userID, func(p store.ChatProfile) (store.ChatProfile, error) {
		if name != nil {
			p.Name, p.NameFold = *name, FoldName(*name)
		}
		if about != nil {
			p.About = *about
		}
		return p, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.ChatProfile{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.ChatProfile{}, core.StoreError("accounts: update chat profile", err)
	}
	s.audit(ctx, "profile.updated", userID)
	s.publish(ctx, userID, events.SettingsChanged, nil)
	return p, nil
}

// verifyUserPassword checks a known user's password as a login does: the
// account's and the caller's IP backoff, the hashing admission, failures
// counted, fault.WrongCredentials for a wrong one.
func (s *Service) verifyUserPassword(ctx context.Context, userID, pw string) error {
	return s.verifySecret(ctx, "u:"+userID, pw, func() (string, error) {
		c, err := s.Store.Credential(ctx, userID)
		return c.PasswordHash, err
	}, fault.WrongCredentials, "password.check_failed", userID)
}

// verifySecret is the throttled verify of a password-like secret under
// subject's counters: hash reads the stored hash (ErrNotFound: none, and
// the dummy is verified instead, so a missing one costs and answers like a
// wrong one).
func (s *Service) verifySecret(ctx context.Context, subject, secret string, hash func() (string, error), wrong fault.Code, event, userID string) error {
	release, err := s.Hasher.Reserve(ctx)
	if err != nil {
		return err
	}
	defer release()
	ip := core.CallFrom(ctx).IP
	if err := s.admitLogin(ctx, subject, ip); err != nil {
		return err
	}
	h, err := hash()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("accounts: read secret hash", err)
	}
	ok, _, err := s.Hasher.Verify(ctx, secret, h)
	release()
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordIPFailure(ctx, ip); err != nil {
			return err
		}
		s.audit(ctx, event, userID)
		return fault.New(wrong)
	}
	if err := s.KV.ResetFailures(ctx, subject); err != nil {
		return core.StoreError("accounts: reset failures", err)
	}
	return nil
}

func (s *Service) storePassword(ctx context.Context, userID, pw string) error {
	h, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.Store.SetPasswordHash(ctx, userID, h); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound)
		}
		return core.StoreError("accounts: set password", err)
	}
	return nil
}

// checkAccountKey applies the account key's policy: 16 to 128 characters
// after NFKC, at most 1024 bytes (fault.Invalid on accountKey).
func checkAccountKey(key string) error {
	if len(key) > password.MaxBytes {
		return fault.Field(fault.Invalid, "accountKey", "16 to 128 characters")
	}
	if n := utf8.RuneCountInString(password.Normalize(key)); n < MinAccountKey || n > 128 {
		return fault.Field(fault.Invalid, "accountKey", "16 to 128 characters")
	}
	return nil
}

// SetAccountKey sets the user's account key, the secret that
// ResetPasswordWithKey accepts instead of the password. The current
// password is required (checked like a login); the key is stored as an
// argon2id hash, like a password, never in clear.
func (s *Service) SetAccountKey(ctx context.Context, userID, pw, key string) error {
	if err := checkAccountKey(key); err != nil {
		return err
	}
	if err := s.verifyUserPassword(ctx, userID, pw); err != nil {
		return err
	}
	h, err := s.Hasher.Hash(ctx, key)
	if err != nil {
		return err
	}
	if err := s.Store.SetAccountKeyHash(ctx, userID, h); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound)
		}
		return core.StoreError("accounts: set account key", err)
	}
	s.audit(ctx, "account_key.set", userID)
	return nil
}

// ResetPasswordWithKey sets a new password for userID when key is its
// account key, and ends every session of the user. Unknown user, a user
// without a key and a wrong key are the same fault.AccountKeyInvalid after
// the same argon2id verify (a dummy one when there is no hash), throttled
// per user (a counter of its own, apart from the login's) and per client
// IP like a login. A deactivated user is told so only after a right key.
func (s *Service) ResetPasswordWithKey(ctx context.Context, userID, key, next string) error {
	// The policy reads nothing of the user: refusing first tells nothing.
	if err := password.Check(next); err != nil {
		return err
	}
	if len(userID) > 64 {
		userID = userID[:64]
	}
	var u store.User
	err := s.verifySecret(ctx, "key:"+userID, key, func() (string, error) {
		var err error
		if u, err = s.Store.UserByID(ctx, userID); err != nil {
			// The key read is still made, so an unknown user costs the same
			// round trips as a known one.
			_, _ = s.Store.AccountKeyHash(ctx, "")
			return "", err
		}
		return s.Store.AccountKeyHash(ctx, userID)
	}, fault.AccountKeyInvalid, "account_key.failed", "")
	if err != nil {
		return err
	}
	if u.State == store.StateDisabled {
		return fault.New(fault.UserDisabled)
	}
	if err := s.storePassword(ctx, userID, next); err != nil {
		return err
	}
	if _, err := s.EndUserSessions(ctx, userID, ""); err != nil {
		return err
	}
	s.audit(ctx, "password.reset_with_key", userID)
	s.publish(ctx, userID, events.SessionRevoked, map[string]any{"reason": "password reset"})
	return nil
}

// SearchUsers runs users.search: q folded, 2 to 64 characters; limit 1 to
// 50 (0 means 20); offset 0 to 1000. fault.Invalid names the field.
func (s *Service) SearchUsers(ctx context.Context, q string, limit, offset int) ([]store.UserHit, error) {
	fold := FoldName(strings.TrimSpace(q))
	if n := utf8.RuneCountInString(fold); n < MinSearch || n > MaxSearch {
		return nil, fault.Field(fault.Invalid, "s", "2 to 64 characters")
	}
	if limit == 0 {
		limit = DefaultSearchPage
	}
	if limit < 1 || limit > MaxSearchPage {
		return nil, fault.Field(fault.Invalid, "limit", "1 to 50")
	}
	if offset < 0 || offset > MaxSearchOffset {
		return nil, fault.Field(fault.Invalid, "offset", "0 to 1000")
	}
	hits, err := s.Store.SearchUsers(ctx, store.UserSearch{Fold: fold, Limit: limit, Offset: offset})
	if err != nil {
		return nil, core.StoreError("accounts: search users", err)
	}
	return hits, nil
}
