package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/coder/websocket"

	"partnergate/store/kv"
)

type hubEnv struct {
	mr     *miniredis.Miniredis
	hub    *Hub
	pub    *Bus // another process's bus
	url    string
	cancel context.CancelFunc

	mu     sync.Mutex
	alive  map[string]bool // session hash → alive
	checks int             // SessionAlive calls so far
}

// checked waits until the hub has checked a session n times, so a test
// that ends a session ends it after the connect-time check, not before.
func (e *hubEnv) checked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		got := e.checks
		e.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub checked the session %d times, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newHub serves a Hub behind a server whose request timeouts are far
// shorter than the tests' connections last, as the gateway's are.
func newHub(t *testing.T, configure func(h *Hub)) *hubEnv {
	t.Helper()
	mr, client := newRedis(t)
	base, cancel := context.WithCancel(context.Background())
	env := &hubEnv{mr: mr, pub: newBus(t, client()), cancel: cancel, alive: map[string]bool{}}
	env.hub = &Hub{
		Bus: newBus(t, client()), KV: kv.New(client()), Base: base,
		SessionAlive: func(_ context.Context, _ string, hash string) (bool, error) {
			env.mu.Lock()
			defer env.mu.Unlock()
			env.checks++
			return env.alive[hash], nil
		},
	}
	if configure != nil {
		configure(env.hub)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", env.hub)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	env.url = "ws://" + srv.Listener.Addr().String()
	return env
}

func (e *hubEnv) ticket(t *testing.T, user, session string) Ticket {
	t.Helper()
	e.mu.Lock()
	e.alive[session] = true
	e.mu.Unlock()
	tk, err := e.hub.Issue(t.Context(), user, session)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (e *hubEnv) dial(t *testing.T, tk Ticket) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, e.url+tk.URL, nil)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, http.StatusSwitchingProtocols
}

func readJSON(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v", typ)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func closeStatus(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestHub_PushesEventsAsNotifications(t *testing.T) {
	env := newHub(t, nil)
	tk := env.ticket(t, "alice", "s1")
	if !strings.HasPrefix(tk.Ticket, ticketPrefix) || tk.URL != "/ws?ticket="+tk.Ticket ||
		time.Until(tk.ExpiresAt) > time.Minute || time.Until(tk.ExpiresAt) < 58*time.Second {
		t.Fatalf("ticket %+v", tk)
	}
	for _, k := range env.mr.Keys() {
		if strings.Contains(k, tk.Ticket) {
			t.Fatalf("ticket stored in clear: %s", k)
		}
	}
	c, status := env.dial(t, tk)
	if c == nil {
		t.Fatalf("dial: HTTP %d", status)
	}
	// Outlive the server's 300 ms request timeouts.
	time.Sleep(500 * time.Millisecond)
	for _, typ := range []string{Verified, SettingsChanged} {
		if err := env.pub.Publish(t.Context(), "alice", Event{Type: typ, Data: json.RawMessage(`{"k":1}`)}); err != nil {
			t.Fatal(err)
		}
		m := readJSON(t, c)
		params, _ := m["params"].(map[string]any)
		if m["jsonrpc"] != "2.0" || m["method"] != NotificationMethod || m["id"] != nil || params["type"] != typ || params["at"] == nil {
			t.Errorf("notification %v", m)
		}
	}
	if err := env.pub.Publish(t.Context(), "bob", Event{Type: Verified}); err != nil {
		t.Fatal(err)
	}
	if err := env.pub.Publish(t.Context(), "alice", Event{Type: "last"}); err != nil {
		t.Fatal(err)
	}
	if m := readJSON(t, c); m["params"].(map[string]any)["type"] != "last" {
		t.Errorf("bob's event reached alice: %v", m)
	}
}

func TestHub_RefusesBadTickets(t *testing.T) {
	env := newHub(t, nil)
	used := env.ticket(t, "alice", "s1")
	if c, _ := env.dial(t, used); c == nil {
		t.Fatal("first use refused")
	}
	expired := env.ticket(t, "alice", "s1")
	env.mr.FastForward(61 * time.Second)
	for _, tc := range []struct {
		name string
		tk   Ticket
	}{
		{"reused", used},
		{"expired", expired},
		{"missing", Ticket{URL: "/ws"}},
		{"malformed", Ticket{URL: "/ws?ticket=pgw_short"}},
		{"unknown", Ticket{URL: "/ws?ticket=" + ticketPrefix + strings.Repeat("A", 43)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, status := env.dial(t, tc.tk); c != nil || status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", status)
			}
		})
	}
}

func TestHub_AnswersClientCalls(t *testing.T) {
	env := newHub(t, nil)
	c, _ := env.dial(t, env.ticket(t, "alice", "s1"))
	cases := []struct {
		send string
		want string // "" means no reply
	}{
		{`{"jsonrpc":"2.0","method":"ping","id":7}`, `{"jsonrpc":"2.0","result":"pong","id":7}`},
		{`{"jsonrpc":"2.0","method":"ping"}`, ""},
		{`{"jsonrpc":"2.0","method":"user.auth.check","id":"x"}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"x"}`},
		{`{"jsonrpc":"1.0","method":"ping","id":1}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":1}`},
		{`[1,2]`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}`},
		{`{"jsonrpc":`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`},
		{`{} {}`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		if err := c.Write(ctx, websocket.MessageText, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if tc.want == "" {
			continue
		}
		ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
		_, got, err := c.Read(ctx)
		cancel()
		if err != nil || string(got) != tc.want {
			t.Errorf("%s → %s, %v; want %s", tc.send, got, err, tc.want)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageBinary, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if s := closeStatus(t, c); s != websocket.StatusUnsupportedData {
		t.Errorf("binary message: close %v", s)
	}
}

func TestHub_ClosesWhenSessionEnds(t *testing.T) {
	t.Run("session.revoked event", func(t *testing.T) {
		env := newHub(t, nil)
		c, _ := env.dial(t, env.ticket(t, "alice", "s1"))
		env.checked(t, 1)
		env.mu.Lock()
		env.alive["s1"] = false
		env.mu.Unlock()
		if err := env.pub.Publish(t.Context(), "alice", Event{Type: SessionRevoked}); err != nil {
			t.Fatal(err)
		}
		if m := readJSON(t, c); m["params"].(map[string]any)["type"] != SessionRevoked {
			t.Errorf("got %v", m)
		}
		if s := closeStatus(t, c); s != websocket.StatusPolicyViolation {
			t.Errorf("close %v, want 1008", s)
		}
	})
	t.Run("at the keepalive", func(t *testing.T) {
		env := newHub(t, func(h *Hub) { h.PingEvery = 50 * time.Millisecond })
		c, _ := env.dial(t, env.ticket(t, "alice", "s1"))
		go func() {
			time.Sleep(300 * time.Millisecond)
			env.mu.Lock()
			env.alive["s1"] = false
			env.mu.Unlock()
		}()
		start := time.Now()
		// Reading answers the server's pings; the connection stays up
		// through several keepalives, then closes.
		if s := closeStatus(t, c); s != websocket.StatusPolicyViolation || time.Since(start) < 250*time.Millisecond {
			t.Errorf("close %v after %v", s, time.Since(start))
		}
	})
	t.Run("session already gone", func(t *testing.T) {
		env := newHub(t, nil)
		tk := env.ticket(t, "alice", "s1")
		env.mu.Lock()
		env.alive["s1"] = false
		env.mu.Unlock()
		c, _ := env.dial(t, tk)
		if s := closeStatus(t, c); s != websocket.StatusPolicyViolation {
			t.Errorf("close %v, want 1008", s)
		}
	})
}

func TestHub_ShutdownSaysGoingAway(t *testing.T) {
	env := newHub(t, nil)
	c, _ := env.dial(t, env.ticket(t, "alice", "s1"))
	env.cancel()
	if s := closeStatus(t, c); s != websocket.StatusGoingAway {
		t.Errorf("close %v, want 1001", s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for env.hub.Connections() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := env.hub.Connections(); n != 0 {
		t.Errorf("%d connections left", n)
	}
}

func TestHub_SlowClientIsClosed(t *testing.T) {
	env := newHub(t, func(h *Hub) { h.Bus = New(h.Bus.client, WithBuffer(1)) })
	t.Cleanup(func() { env.hub.Bus.Close() })
	c, _ := env.dial(t, env.ticket(t, "alice", "s1"))
	// Never reading, the client lets the socket buffers fill, then the
	// subscription's one-event buffer: the server gives up with 1013.
	big := json.RawMessage(`"` + strings.Repeat("x", 64<<10) + `"`)
	for i := 0; i < 400; i++ {
		if err := env.pub.Publish(t.Context(), "alice", Event{Type: SettingsChanged, Data: big}); err != nil {
			t.Fatal(err)
		}
		if env.hub.Connections() == 0 {
			break
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for env.hub.Connections() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if env.hub.Connections() != 0 {
		t.Fatal("a client that never reads kept its connection")
	}
	c.CloseNow()
}

func TestHub_LimitsConnectionsPerUser(t *testing.T) {
	env := newHub(t, func(h *Hub) { h.MaxPerUser = 1 })
	if c, _ := env.dial(t, env.ticket(t, "alice", "s1")); c == nil {
		t.Fatal("first connection refused")
	}
	if c, status := env.dial(t, env.ticket(t, "alice", "s1")); c != nil || status != http.StatusTooManyRequests {
		t.Errorf("second connection: status %d, want 429", status)
	}
	if c, _ := env.dial(t, env.ticket(t, "bob", "s2")); c == nil {
		t.Error("another user refused")
	}
}

func TestHub_IssueNeedsAUser(t *testing.T) {
	env := newHub(t, nil)
	if _, err := env.hub.Issue(t.Context(), "", "s"); err == nil {
		t.Fatal("ticket issued without a user")
	}
	env.mr.Close()
	if _, err := env.hub.Issue(t.Context(), "alice", "s"); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("Issue with Redis down = %v", err)
	}
}
