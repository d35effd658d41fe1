package events

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// ticketPrefix marks WebSocket tickets; 43 base64url characters carry 256
// random bits.
const ticketPrefix = "pgw_"

// ticketPurpose is the token purpose tickets are stored under.
const ticketPurpose = "ws"

// NotificationMethod is the JSON-RPC method of every pushed event.
const NotificationMethod = "account.event"

// Hub issues WebSocket tickets and serves GET /ws: a connection opened with
// a valid ticket is bound to the ticket's user and receives that user's
// events as JSON-RPC 2.0 notifications,
//
//	{"jsonrpc":"2.0","method":"account.event","params":{"type":"verified","at":"…"}}
//
// The server pings every PingEvery and closes a connection whose peer does
// not answer. A client may send JSON-RPC requests: "ping" answers "pong",
// any other method -32601; notifications are ignored. Fields left zero take
// the documented defaults.
type Hub struct {
	Bus *Bus
	KV  store.Tokens
	// SessionAlive reports whether the session that asked for the ticket
	// still exists. It is asked at every ping and after every
	// session.revoked event; a connection whose session is gone is closed
	// (1008). nil: connections live on their ticket alone.
	SessionAlive func(ctx context.Context, userID, sessionHash string) (bool, error)
	// Base ends every connection when done (server shutdown, 1001).
	Base context.Context
	// TicketTTL is how long a ticket can be redeemed (default 60 s).
	TicketTTL time.Duration
	// PingEvery is the keepalive interval (default 30 s); a pong must come
	// within WriteTimeout.
	PingEvery time.Duration
	// WriteTimeout bounds each write and ping (default 10 s).
	WriteTimeout time.Duration
	// MaxPerUser caps one user's connections on this process (default 8).
	MaxPerUser int
	// OriginPatterns are the extra origins a browser may connect from
	// (coder/websocket patterns, e.g. "app.example.com"); the request's own
	// host is always allowed, and clients that send no Origin are too.
	OriginPatterns []string
	Now            func() time.Time
	Log            zerolog.Logger

	mu    sync.Mutex
	conns map[string]int
}

// Ticket is what a client needs to connect: URL is relative to the
// gateway's base URL.
type Ticket struct {
	Ticket    string    `json:"ticket"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type ticketValue struct {
	UserID      string `json:"u"`
	SessionHash string `json:"s,omitempty"`
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func hashTicket(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// Issue returns a fresh single-use ticket for userID, stored in Redis only
// as its SHA-256. sessionHash (the caller's session) lets the connection
// end with the session; "" skips that check.
func (h *Hub) Issue(ctx context.Context, userID, sessionHash string) (Ticket, error) {
	if userID == "" {
		return Ticket{}, fault.New(fault.Unauthenticated)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Ticket{}, fmt.Errorf("events: ticket: %w", err)
	}
	t := ticketPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	ttl := orDefault(h.TicketTTL, time.Minute)
	v, _ := json.Marshal(ticketValue{UserID: userID, SessionHash: sessionHash})
	if err := h.KV.PutToken(ctx, ticketPurpose, hashTicket(t), v, ttl); err != nil {
		return Ticket{}, core.StoreError("events: store ticket", err)
	}
	return Ticket{Ticket: t, URL: "/ws?ticket=" + url.QueryEscape(t), ExpiresAt: h.now().Add(ttl).UTC().Truncate(time.Second)}, nil
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(b)
}

func (h *Hub) acquire(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	limit := h.MaxPerUser
	if limit <= 0 {
		limit = 8
	}
	if h.conns == nil {
		h.conns = map[string]int{}
	}
	if h.conns[userID] >= limit {
		return false
	}
	h.conns[userID]++
	return true
}

func (h *Hub) release(userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[userID]--; h.conns[userID] <= 0 {
		delete(h.conns, userID)
	}
}

// Connections returns how many connections this process holds.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.conns {
		n += c
	}
	return n
}

// ServeHTTP upgrades GET /ws?ticket=… . A missing, malformed, expired or
// used ticket answers 401 before any upgrade; the ticket is spent by the
// first attempt that presents it, whether or not the upgrade succeeds.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	if !strings.HasPrefix(ticket, ticketPrefix) || len(ticket) != len(ticketPrefix)+43 {
		writeJSONError(w, http.StatusUnauthorized, "ticket missing or malformed; get one from user.auth.websocket")
		return
	}
	raw, err := h.KV.TakeToken(r.Context(), ticketPurpose, hashTicket(ticket))
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusUnauthorized, "ticket invalid, expired or already used")
		return
	}
	if err != nil {
		h.Log.Warn().Err(err).Msg("ws: take ticket")
		writeJSONError(w, http.StatusServiceUnavailable, "service temporarily unavailable, retry later")
		return
	}
	var tv ticketValue
	if err := json.Unmarshal(raw, &tv); err != nil || tv.UserID == "" {
		h.Log.Error().Err(err).Msg("ws: malformed ticket value")
		writeJSONError(w, http.StatusUnauthorized, "ticket invalid, expired or already used")
		return
	}
	if !h.acquire(tv.UserID) {
		writeJSONError(w, http.StatusTooManyRequests, "too many connections for this user")
		return
	}
	defer h.release(tv.UserID)

	// Subscribe before the upgrade, so no event published after the client
	// sees the connection open can be missed.
	sctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	sub, err := h.Bus.Subscribe(sctx, tv.UserID)
	cancel()
	if err != nil {
		h.Log.Warn().Err(err).Msg("ws: subscribe")
		writeJSONError(w, http.StatusServiceUnavailable, "service temporarily unavailable, retry later")
		return
	}
	defer sub.Close()

	// The server's read and write timeouts are meant for requests; a
	// hijacked connection would inherit them and be cut mid-stream.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.OriginPatterns})
	if err != nil {
		return // Accept answered the client
	}
	h.Log.Info().Str("event", "ws.connected").Str("user", tv.UserID).Msg("audit")
	h.serve(c, tv, sub)
}

// Close reasons, sent in the close frame.
const (
	reasonShutdown = "server shutting down"
	reasonSlow     = "client too slow, reconnect"
	reasonSession  = "session ended"
	reasonBusy     = "service temporarily unavailable, reconnect later"
)

func (h *Hub) serve(c *websocket.Conn, tv ticketValue, sub *Subscription) {
	base := h.Base
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	c.SetReadLimit(4096)

	writeTimeout := orDefault(h.WriteTimeout, 10*time.Second)
	replies := make(chan []byte, 8)
	readDone := make(chan struct{})
	// The reader has a context of its own: ending it drops the connection
	// at once, and on shutdown the close handshake needs the reader alive.
	readCtx, readCancel := context.WithCancel(context.Background())
	go func() {
		defer close(readDone)
		h.readLoop(readCtx, c, replies)
	}()
	defer func() {
		readCancel()
		<-readDone
	}()

	write := func(b []byte) bool {
		wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
		defer wcancel()
		return c.Write(wctx, websocket.MessageText, b) == nil
	}
	alive := func() (ok bool, status websocket.StatusCode, reason string) {
		if h.SessionAlive == nil || tv.SessionHash == "" {
			return true, 0, ""
		}
		actx, acancel := context.WithTimeout(ctx, writeTimeout)
		defer acancel()
		live, err := h.SessionAlive(actx, tv.UserID, tv.SessionHash)
		switch {
		case err != nil:
			// Fail closed: a connection is not kept on an unchecked session.
			return false, websocket.StatusTryAgainLater, reasonBusy
		case !live:
			return false, websocket.StatusPolicyViolation, reasonSession
		}
		return true, 0, ""
	}
	if ok, status, reason := alive(); !ok {
		c.Close(status, reason)
		return
	}

	ping := time.NewTicker(orDefault(h.PingEvery, 30*time.Second))
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			c.Close(websocket.StatusGoingAway, reasonShutdown)
			return
		case <-readDone:
			c.CloseNow()
			return
		case e, ok := <-sub.Events():
			if !ok {
				if errors.Is(sub.Err(), ErrOverflow) {
					c.Close(websocket.StatusTryAgainLater, reasonSlow)
				} else {
					c.Close(websocket.StatusGoingAway, reasonBusy)
				}
				return
			}
			if !write(notification(e)) {
				c.CloseNow()
				return
			}
			if e.Type == SessionRevoked {
				if ok, status, reason := alive(); !ok {
					c.Close(status, reason)
					return
				}
			}
		case b := <-replies:
			if !write(b) {
				c.CloseNow()
				return
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, writeTimeout)
			err := c.Ping(pctx)
			pcancel()
			if err != nil {
				c.CloseNow()
				return
			}
			if ok, status, reason := alive(); !ok {
				c.Close(status, reason)
				return
			}
		}
	}
}

func notification(e Event) []byte {
	b, _ := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  Event  `json:"params"`
	}{"2.0", NotificationMethod, e})
	return b
}

// readLoop answers the client's messages until the connection ends. It is
// also what lets pings see their pongs and close frames be answered.
func (h *Hub) readLoop(ctx context.Context, c *websocket.Conn, replies chan<- []byte) {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.Close(websocket.StatusUnsupportedData, "text JSON-RPC 2.0 only")
			return
		}
		reply := answer(data)
		if reply == nil {
			continue
		}
		select {
		case replies <- reply:
		default:
			c.Close(websocket.StatusPolicyViolation, "too many requests in flight")
			return
		}
	}
}

// answer is the reply to one client message, or nil for a notification.
func answer(data []byte) []byte {
	type rpcError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	type response struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  any             `json:"result,omitempty"`
		Error   *rpcError       `json:"error,omitempty"`
		ID      json.RawMessage `json:"id"`
	}
	null := json.RawMessage("null")
	fail := func(id json.RawMessage, code int, msg string) []byte {
		b, _ := json.Marshal(response{JSONRPC: "2.0", Error: &rpcError{code, msg}, ID: id})
		return b
	}
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  *string         `json:"method"`
		Params  json.RawMessage `json:"params"`
		ID      json.RawMessage `json:"id"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&req); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(null, -32700, "Parse error")
		}
		return fail(null, -32600, "Invalid Request")
	}
	if dec.More() {
		return fail(null, -32700, "Parse error")
	}
	id := req.ID
	if len(id) > 0 && id[0] != '"' && id[0] != 'n' && (id[0] < '0' || id[0] > '9') && id[0] != '-' {
		return fail(null, -32600, "Invalid Request")
	}
	if req.JSONRPC != "2.0" || req.Method == nil {
		if id == nil {
			id = null
		}
		return fail(id, -32600, "Invalid Request")
	}
	if id == nil {
		return nil // a notification: nothing to answer
	}
	if *req.Method != "ping" {
		return fail(id, -32601, "Method not found")
	}
	b, _ := json.Marshal(response{JSONRPC: "2.0", Result: "pong", ID: id})
	return b
}
