package user

import (
	"net/http"

	"partnergate/core/backup"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
)

// Data serves user.data.backup.
type Data struct {
	Backups *backup.Service
}

// Methods declares it.
func (s *Data) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.data.backup", Go: "Backup", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"password"},
			Doc: "Builds an archive of everything stored about the user, encrypted with the given password, and sends a single-use download link."},
	}
}

// Backup is user.data.backup. Its data is true once the link is queued.
func (s *Data) Backup(r *http.Request, p *userwire.DataBackupParams, res *bool) error {
	if err := s.Backups.Request(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Password); err != nil {
		return err
	}
	*res = true
	return nil
}
