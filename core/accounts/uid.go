package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// uidAttempts bounds how many fresh uids Register tries when one is taken.
// Forty random bits collide rarely even at millions of users; three in a
// row means something else is wrong.
const uidAttempts = 3

var uidPattern = regexp.MustCompile(`^ID[0-9A-F]{10}$`)

// ValidUID reports whether s has the shape of a uid: "ID" and ten
// uppercase hex digits.
func ValidUID(s string) bool { return uidPattern.MatchString(s) }

// NewUID returns a fresh uid: "ID" and ten uppercase hex digits from
// crypto/rand, Barong's shape.
func NewUID() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("accounts: new uid: %w", err)
	}
	return "ID" + strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// UserByUID returns the user of a uid, or fault.NotFound (also for a
// malformed uid).
func (s *Service) UserByUID(ctx context.Context, uid string) (store.User, error) {
	if !ValidUID(uid) {
		return store.User{}, fault.New(fault.NotFound)
	}
	return readUser(ctx, uid, s.Store.UserByUID)
}

// uidTaken reports whether a failed CreateUser failed on its uid rather
// than on an identifier: the store says only "already exists".
func (s *Service) uidTaken(ctx context.Context, uid string) (bool, error) {
	_, err := s.Store.UserByUID(ctx, uid)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, core.StoreError("accounts: look up uid", err)
}
