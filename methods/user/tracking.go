package user

import (
	"net/http"

	"partnergate/core/tracking"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
)

// Tracking serves user.tracking.set.
type Tracking struct {
	Tracking *tracking.Service
}

// Methods declares it.
func (s *Tracking) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.tracking.set", Go: "Set", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Stores analytics identifiers and environment data (any subset of the seed's members) as one event; registers or removes a push device."},
	}
}

// Set is user.tracking.set. Its data is true.
func (s *Tracking) Set(r *http.Request, p *userwire.TrackingSetParams, res *bool) error {
	c := rpc.CallerFrom(r.Context())
	o := tracking.Origin{UserID: c.UserID, IP: c.IP, UserAgent: c.UserAgent}
	if err := s.Tracking.Set(r.Context(), o, tracking.Attributes(*p)); err != nil {
		return err
	}
	*res = true
	return nil
}
