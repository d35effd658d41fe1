package usercache

import "context"

// EnableTOTP implements store.TOTPs: the user's TOTP flag changes, so the
// copy is cleared around the write like any user write.
func (s *Store) EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) (bool, error) {
	var ok bool
	err := s.around(ctx, userID, func() error {
		var err error
		ok, err = s.Store.EnableTOTP(ctx, userID, step, recoveryHashes)
		return err
	})
	return ok, err
}

// DisableTOTP implements store.TOTPs.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	return s.around(ctx, userID, func() error { return s.Store.DisableTOTP(ctx, userID) })
}
