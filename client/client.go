// Package client calls partnergate over HTTP: it signs requests as a partner
// (or sends a bearer session), posts single calls and batches, and decodes
// the envelope. Call[R] is the typed call for every method; the params and
// result types are each dialect's wire package (methods/auth/authwire,
// methods/user/userwire, ...). The package links nothing of the server and no
// third-party module, so an SDK user pulls in only the standard library; a
// test holds it to that. The end-to-end tests and `partnergate call` use it.
package client

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client posts JSON-RPC to one gateway.
type Client struct {
	URL    string // base URL, e.g. http://127.0.0.1:8080
	KID    string // partner key id; empty sends no signature
	Secret string
	Token  string // bearer session token, used when KID is empty
	HTTP   *http.Client
	Now    func() time.Time
}

// New returns a client for baseURL.
func New(baseURL string) *Client {
	return &Client{URL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// WithPartner returns a copy that signs as the partner key.
func (c *Client) WithPartner(kid, secret string) *Client {
	cp := *c
	cp.KID, cp.Secret, cp.Token = kid, secret, ""
	return &cp
}

// WithToken returns a copy that sends a bearer session.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.KID, cp.Secret, cp.Token = "", "", token
	return &cp
}

// Error is a failure reported in the envelope. Code is the catalogue's
// number (docs/errors.md, core/fault on the server) as a plain int, so that
// the client needs nothing of the server to compare it.
type Error struct {
	Code       int               `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	RetryAfter int               `json:"retryAfter,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("partnergate error %d: %s", e.Code, e.Message) }

// ProtocolError is a JSON-RPC error object.
type ProtocolError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *ProtocolError) Error() string {
	if len(e.Data) > 0 {
		return fmt.Sprintf("json-rpc error %d: %s: %s", e.Code, e.Message, e.Data)
	}
	return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message)
}

// Response is one JSON-RPC response.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *ProtocolError  `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error struct {
		Status bool `json:"status"`
		Error
	} `json:"error"`
}

// Decode unpacks a response: a protocol error, an envelope error, or the
// envelope's data into out (which may be nil).
func (r *Response) Decode(out any) error {
	if r.Error != nil {
		return r.Error
	}
	var env envelope
	if err := json.Unmarshal(r.Result, &env); err != nil {
		return fmt.Errorf("client: decode envelope: %w", err)
	}
	if env.Error.Status {
		e := env.Error.Error
		return &e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("client: decode data: %w", err)
	}
	return nil
}

// Post sends body to path with the client's credentials and returns the
// status and raw reply.
func (c *Client) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.sign(req, body)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("client: post: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("client: read reply: %w", err)
	}
	return resp.StatusCode, b, nil
}

func (c *Client) sign(req *http.Request, body []byte) {
	if c.KID == "" {
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		return
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := strconv.FormatInt(now().UnixMilli(), 10)
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	req.Header.Set("X-Api-Key", c.KID)
	req.Header.Set("X-Api-Timestamp", ts)
	req.Header.Set("X-Api-Nonce", nonce)
	req.Header.Set("X-Api-Signature", Sign(c.Secret, ts, nonce, c.KID, req.URL.Path, body))
}

// Sign returns the X-Api-Signature of a partner call to path (the URL path
// as the gateway routes it: /rpc, or /api/v0/partnerRpc/{method}):
// hex(HMAC-SHA256(secret, timestamp + "." + nonce + "." + kid + "." + path + "." + hex(sha256(body)))).
// The server has its own copy (core/partners.Sign); the client keeps one so it
// links none of the server, and TestSignMatchesServer holds the two equal.
func Sign(secret, timestamp, nonce, kid, path string, body []byte) string {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "." + nonce + "." + kid + "." + path + "." + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(m.Sum(nil))
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
	ID      *int   `json:"id,omitempty"`
}

// Call posts one call to /rpc and returns its data decoded into R: an
// envelope failure is an *Error, a JSON-RPC error object a *ProtocolError.
// It is the typed call for every method, e.g.
//
//	u, err := client.Call[authwire.GetUserResult](ctx, c, "auth.getUserByEmailAndPassword", authwire.GetUserParams{...})
//
// A generic function rather than a method because Go methods cannot take
// type parameters.
func Call[R any](ctx context.Context, c *Client, method string, params any) (R, error) {
	var r R
	err := c.Call(ctx, method, params, &r)
	return r, err
}

// Call posts one call to /rpc and decodes its data into out (nil discards
// it); for callers that only need the error or fill a value they hold.
func (c *Client) Call(ctx context.Context, method string, params, out any) error {
	resp, err := c.CallRaw(ctx, method, params)
	if err != nil {
		return err
	}
	return resp.Decode(out)
}

// CallRaw posts one call and returns its response undecoded.
func (c *Client) CallRaw(ctx context.Context, method string, params any) (*Response, error) {
	id := 1
	body, err := json.Marshal(request{JSONRPC: "2.0", Method: method, Params: params, ID: &id})
	if err != nil {
		return nil, fmt.Errorf("client: encode: %w", err)
	}
	status, b, err := c.Post(ctx, "/rpc", body)
	if err != nil {
		return nil, err
	}
	var resp Response
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("client: HTTP %d: reply is not a JSON-RPC response: %w", status, err)
	}
	return &resp, nil
}

// BatchCall is one call of a batch. Notify sends it without an id.
type BatchCall struct {
	Method string
	Params any
	Notify bool
}

// Batch posts calls as one batch and returns the responses in request order
// (notifications have none).
func (c *Client) Batch(ctx context.Context, calls []BatchCall) ([]Response, error) {
	reqs := make([]request, len(calls))
	for i, bc := range calls {
		reqs[i] = request{JSONRPC: "2.0", Method: bc.Method, Params: bc.Params}
		if !bc.Notify {
			id := i + 1
			reqs[i].ID = &id
		}
	}
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("client: encode: %w", err)
	}
	status, b, err := c.Post(ctx, "/rpc", body)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent {
		return nil, nil
	}
	var out []Response
	if err := json.Unmarshal(b, &out); err != nil {
		var single Response
		if json.Unmarshal(b, &single) == nil && single.Error != nil {
			return nil, single.Error
		}
		return nil, fmt.Errorf("client: HTTP %d: batch reply: %w", status, err)
	}
	return out, nil
}

// IsCode reports whether err is an envelope error with code.
func IsCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
