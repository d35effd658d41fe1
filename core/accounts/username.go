package accounts

import (
	"context"
	"errors"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// SetUsername gives userID the username name, or replaces the one it has:
// any user, whichever seed made it, may pick one, and may then log in by it
// (ParseLogin, CheckPassword). The identifiers table's key on (kind, norm)
// decides who gets a name, so of many concurrent claims exactly one wins;
// the rest get fault.AlreadyExists and keep what they had. Usernames need no
// proof of ownership, so they are stored verified and never hold up
// LoginState.
func (s *Service) SetUsername(ctx context.Context, userID, name string) (store.Identifier, error) {
	norm, err := NormalizeUsername(name)
	if err != nil {
		return store.Identifier{}, err
	}
	id := store.Identifier{UserID: userID, Kind: store.KindUsername, Value: name, Norm: norm, Verified: true}
	switch err := s.Store.SetIdentifier(ctx, id); {
	case errors.Is(err, store.ErrAlreadyExists):
		return store.Identifier{}, fault.New(fault.AlreadyExists)
	case errors.Is(err, store.ErrNotFound):
		return store.Identifier{}, fault.New(fault.NotFound)
	case err != nil:
		return store.Identifier{}, core.StoreError("accounts: set username", err)
	}
	s.audit(ctx, "username.set", userID)
	return id, nil
}
