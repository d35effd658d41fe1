package user

import (
	"net/http"

	"partnergate/core/events"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
)

// Socket serves user.auth.websocket (seed 000's registration procedure,
// step 10): the ticket that opens GET /ws.
type Socket struct {
	Hub *events.Hub
}

// Methods declares it.
func (s *Socket) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.auth.websocket", Go: "Websocket", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Returns a single-use ticket, valid 60 s, for GET /ws: a JSON-RPC 2.0 WebSocket on which the server pushes the user's account events."},
	}
}

// Websocket is user.auth.websocket.
func (s *Socket) Websocket(r *http.Request, _ *userwire.SocketTicketParams, res *userwire.SocketTicket) error {
	c := rpc.CallerFrom(r.Context())
	t, err := s.Hub.Issue(r.Context(), c.UserID, c.SessionHash)
	if err != nil {
		return err
	}
	*res = userwire.SocketTicket{Ticket: t.Ticket, URL: t.URL, ExpiresAt: t.ExpiresAt}
	return nil
}
