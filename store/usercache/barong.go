package usercache

import (
	"context"

	"partnergate/store"
)

// PutKYCProfile implements store.Store: it writes the shared profile
// columns, so it clears the copy like UpdateProfile.
func (s *Store) PutKYCProfile(ctx context.Context, userID string, create bool, fn func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error)) (store.Profile, store.KYCProfile, error) {
	var (
		outP store.Profile
		outK store.KYCProfile
	)
	err := s.around(ctx, userID, func() error {
		var err error
		outP, outK, err = s.Store.PutKYCProfile(ctx, userID, create, fn)
		return err
	})
	return outP, outK, err
}
