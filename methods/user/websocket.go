package user

import (
	"net/http"
	"time"

	"partnergate/core/events"
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

// SocketTicketParams is user.auth.websocket's (empty) request.
type SocketTicketParams struct{}

// SocketTicket is user.auth.websocket's data: url is relative to the
// gateway's base URL (ws:// or wss:// scheme).
type SocketTicket struct {
	Ticket    string    `json:"ticket"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Websocket is user.auth.websocket.
func (s *Socket) Websocket(r *http.Request, _ *SocketTicketParams, res *SocketTicket) error {
	c := rpc.CallerFrom(r.Context())
	t, err := s.Hub.Issue(r.Context(), c.UserID, c.SessionHash)
	if err != nil {
		return err
	}
	*res = SocketTicket{Ticket: t.Ticket, URL: t.URL, ExpiresAt: t.ExpiresAt}
	return nil
}
