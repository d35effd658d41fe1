package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"partnergate/client"
	"partnergate/methods/dev/devwire"
	"partnergate/methods/user/userwire"
)

// Envelope is a method's outcome as the wire carries it (DESIGN.md, "The
// envelope"), kept raw so a test can check members the typed client drops.
type Envelope struct {
	Data  json.RawMessage `json:"data"`
	Error EnvelopeError   `json:"error"`
}

// EnvelopeError is the envelope's error member.
type EnvelopeError struct {
	Status     bool              `json:"status"`
	Code       int               `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields"`
	RetryAfter int               `json:"retryAfter"`
}

// Call posts one anonymous call and returns its envelope. A JSON-RPC
// protocol error fails the test: tests of those post bodies of their own.
func (g *Gateway) Call(tb testing.TB, method string, params any) Envelope {
	tb.Helper()
	return g.CallAs(tb, g.Client(), method, params)
}

// CallAs is Call through c: a session's client (WithToken) or a partner's
// (Partner), whose calls it signs.
func (g *Gateway) CallAs(tb testing.TB, c *client.Client, method string, params any) Envelope {
	tb.Helper()
	resp, err := c.CallRaw(context.Background(), method, params)
	if err != nil {
		tb.Fatalf("%s: %v", method, err)
	}
	if resp.Error != nil {
		tb.Fatalf("%s: %v", method, resp.Error)
	}
	var e Envelope
	if err := json.Unmarshal(resp.Result, &e); err != nil {
		tb.Fatalf("%s: %v: %s", method, err, resp.Result)
	}
	return e
}

// Req is one call of a batch, with its id; nil params are left out, as
// JSON-RPC refuses "params": null.
func Req(method string, id int, params any) string {
	if params == nil {
		return fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"id":%d}`, method, id)
	}
	p, _ := json.Marshal(params)
	return fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":%s,"id":%d}`, method, p, id)
}

// Batch posts calls (see Req) as one JSON batch, with token as the bearer
// unless it is "", and returns each response's envelope in order.
func (g *Gateway) Batch(tb testing.TB, token string, calls ...string) []Envelope {
	tb.Helper()
	c := g.Client().WithToken(token)
	status, body, err := c.Post(context.Background(), "/rpc", []byte("["+strings.Join(calls, ",")+"]"))
	if err != nil || status != http.StatusOK {
		tb.Fatalf("batch: %d %v %s", status, err, body)
	}
	var resps []struct {
		Result Envelope
		Error  *client.ProtocolError
	}
	if err := json.Unmarshal(body, &resps); err != nil {
		tb.Fatalf("%v: %s", err, body)
	}
	out := make([]Envelope, len(resps))
	for i, r := range resps {
		if r.Error != nil {
			tb.Fatalf("call %d: %v", i, r.Error)
		}
		out[i] = r.Result
	}
	return out
}

// Outbox is what the gateway queued for an address (email or E.164
// phone, as the gateway normalises it), newest first, read through
// dev.outbox.list.
func (g *Gateway) Outbox(tb testing.TB, to string) []devwire.OutboxMessage {
	tb.Helper()
	res, err := client.Call[devwire.OutboxResult](context.Background(), g.Client(), "dev.outbox.list", devwire.OutboxParams{To: to})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Messages
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// Code is the code in the newest message to an address.
func (g *Gateway) Code(tb testing.TB, to string) string {
	tb.Helper()
	ms := g.Outbox(tb, to)
	if len(ms) == 0 {
		tb.Fatalf("no message to %s", to)
	}
	code := sixDigits.FindString(ms[0].Body)
	if code == "" {
		tb.Fatalf("no code in the message to %s", to)
	}
	return code
}

// RegisterUser registers a user by email through seed 000's public methods
// (user.auth.registration, the emailed code, user.auth.verify) and returns
// its id and session token.
func (g *Gateway) RegisterUser(tb testing.TB, email, password string) (id, token string) {
	tb.Helper()
	ctx, anon := context.Background(), g.Client()
	id, err := client.Call[string](ctx, anon, "user.auth.registration", userwire.RegistrationParams{Email: email, Password: password})
	if err != nil {
		tb.Fatalf("register %s: %v", email, err)
	}
	u, err := client.Call[*userwire.Object](ctx, anon, "user.auth.verify", userwire.VerifyParams{UserID: id, EmailCode: g.Code(tb, strings.ToLower(email))})
	if err != nil || u.Session == nil {
		tb.Fatalf("verify %s: %v", email, err)
	}
	return id, u.Session.Token
}

// Login logs in through user.auth.login (login is an email or a phone)
// and returns the new session's token.
func (g *Gateway) Login(tb testing.TB, login, password string) (token string) {
	tb.Helper()
	u, err := client.Call[*userwire.Object](context.Background(), g.Client(), "user.auth.login", userwire.LoginParams{Login: login, Password: password})
	if err != nil || u.Session == nil {
		tb.Fatalf("login %s: %v", login, err)
	}
	return u.Session.Token
}
