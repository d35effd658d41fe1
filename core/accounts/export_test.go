package accounts

// SetUIDs replaces the uid source, so a test can make uids collide.
func SetUIDs(s *Service, f func() (string, error)) { s.uids = f }
