// Package console serves the admin console at /console/: embedded static
// files (plain HTML, CSS and JavaScript modules, no build step, nothing
// fetched from elsewhere) and four small routes that put a browser in
// front of the JSON-RPC transport without giving the page a token.
//
//	POST /console/api/session   sign in: identity.sessions.create, the token into an HttpOnly cookie
//	GET  /console/api/session   the current cookie's CSRF token
//	POST /console/api/rpc       a JSON-RPC body of admin.* calls, run as the cookie's session
//	POST /console/api/logout    identity.sessions.delete, and the cookie cleared
//
// Every route forwards to the normal /rpc handler with the cookie's token
// as the bearer, so the authenticator, gate, rate limits, logs and audit
// treat a console call exactly as any other call of that session. The
// console adds only refusals: a call from another origin, a mutating call
// without the session's CSRF token, and any method but admin.* and
// identity.sessions.delete.
package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"partnergate/core/fault"
	"partnergate/rpc"
)

//go:embed web
var webFS embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// CookieName is the console's session cookie. It holds the session token
// itself (HttpOnly: the page's script never sees it).
const CookieName = "partnergate_console"

// CSRFHeader carries the CSRF token on every mutating console call.
const CSRFHeader = "X-CSRF-Token"

// Policy is the Content-Security-Policy of every console response: no
// inline script or style, nothing from another origin, never framed.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// maxSignIn bounds the sign-in body (email, password, code).
const maxSignIn = 8 << 10

// Config is what a Handler is built from.
type Config struct {
	// RPC is the JSON-RPC handler (what serves POST /rpc).
	RPC http.Handler
	// Secure sets the cookie's Secure attribute; only a loopback dev
	// gateway, reached over plain HTTP, goes without.
	Secure bool
	// MaxBody bounds a forwarded JSON-RPC body; 0 means 1 MiB.
	MaxBody int64
	// Methods are the registered methods the console may call, told to the
	// page so that it shows only the pages whose methods are served.
	Methods []string
}

// Handler serves everything under Prefix.
type Handler struct {
	cfg    Config
	static http.Handler
}

// New returns the console over cfg.RPC.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return &Handler{cfg: cfg, static: http.FileServerFS(sub)}
}

// ServeHTTP routes a console request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", Policy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")

	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	if api, ok := strings.CutPrefix(rest, "api/"); ok {
		hd.Set("Cache-Control", "no-store")
		h.serveAPI(w, r, api)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		writeFault(w, http.StatusMethodNotAllowed, fault.Errorf(fault.Forbidden, "The console's pages are read with GET."))
		return
	}
	// Directories other than the root are not listed; unknown files 404.
	clean := path.Clean("/" + rest)
	if clean != "/" {
		if _, err := fs.Stat(webFS, "web"+clean); err != nil || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
	}
	hd.Set("Cache-Control", "no-cache")
	r2 := r.Clone(r.Context())
	r2.URL.Path = clean
	h.static.ServeHTTP(w, r2)
}

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, route string) {
	switch {
	case route == "session" && r.Method == http.MethodGet:
		h.session(w, r)
	case route == "session" && r.Method == http.MethodPost:
		h.signIn(w, r)
	case route == "rpc" && r.Method == http.MethodPost:
		h.forward(w, r)
	case route == "logout" && r.Method == http.MethodPost:
		h.logout(w, r)
	case route == "session" || route == "rpc" || route == "logout":
		w.Header().Set("Allow", "POST")
		writeFault(w, http.StatusMethodNotAllowed, fault.Errorf(fault.Forbidden, "Wrong HTTP method for this console route."))
	default:
		writeFault(w, http.StatusNotFound, fault.New(fault.NotFound))
	}
}

// session answers the CSRF token of the cookie's session, for a page that
// was reloaded. It does not check the session: the next call does.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	tok, ok := cookieToken(r)
	if !ok {
		writeFault(w, http.StatusUnauthorized, fault.New(fault.ConsoleSignedOut))
		return
	}
	writeEnvelope(w, http.StatusOK, sessionInfo{CSRF: CSRFToken(tok), Methods: h.methods()})
}

type sessionInfo struct {
	CSRF    string   `json:"csrf"`
	Methods []string `json:"methods"`
}

func (h *Handler) methods() []string {
	out := []string{}
	for _, m := range h.cfg.Methods {
		if ConsoleMethod(m) {
			out = append(out, m)
		}
	}
	return out
}

type signInParams struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	OTPCode  string `json:"otp_code"`
}

// signIn runs identity.sessions.create and keeps its token in the cookie.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSignIn))
	if err != nil {
		writeFault(w, http.StatusRequestEntityTooLarge, fault.Errorf(fault.Invalid, "Sign-in body too large."))
		return
	}
	var p signInParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		writeFault(w, http.StatusBadRequest, fault.Errorf(fault.Invalid, "Send {\"email\", \"password\", \"otp_code\"} as JSON."))
		return
	}
	// Empty members are left out, so the method's own "required" check
	// names the missing field.
	params := map[string]string{}
	for k, v := range map[string]string{"email": p.Email, "password": p.Password, "otp_code": p.OTPCode} {
		if v != "" {
			params[k] = v
		}
	}
	res, err := h.call(r, "", "identity.sessions.create", params)
	if err != nil {
		writeFault(w, http.StatusBadGateway, fault.New(fault.Unavailable))
		return
	}
	if res.env == nil {
		// A protocol error (a too-long email, say) reaches the page as one.
		writeRaw(w, http.StatusOK, res.raw)
		return
	}
	if res.env.Error.Status {
		writeRaw(w, http.StatusOK, res.envRaw)
		return
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(res.env.Data, &data); err != nil {
		writeFault(w, http.StatusBadGateway, fault.New(fault.Unavailable))
		return
	}
	var tok string
	var exp time.Time
	if json.Unmarshal(data["token"], &tok) != nil || !validToken(tok) || json.Unmarshal(data["expires_at"], &exp) != nil {
		writeFault(w, http.StatusBadGateway, fault.New(fault.Unavailable))
		return
	}
	delete(data, "token")
	http.SetCookie(w, h.cookie(tok, exp))
	csrf, _ := json.Marshal(CSRFToken(tok))
	data["csrf"] = csrf
	ms, _ := json.Marshal(h.methods())
	data["methods"] = ms
	writeEnvelope(w, http.StatusOK, data)
}

// logout ends the cookie's session and clears the cookie, whatever the
// session's state: a page that signs out is signed out.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.mutating(w, r)
	if !ok {
		return
	}
	http.SetCookie(w, h.cookie("", time.Time{}))
	res, err := h.call(r, tok, "identity.sessions.delete", nil)
	if err != nil || res.env == nil {
		writeEnvelope(w, http.StatusOK, true)
		return
	}
	writeRaw(w, http.StatusOK, res.envRaw)
}

// forward runs a JSON-RPC body of admin calls as the cookie's session.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.mutating(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		writeFault(w, http.StatusRequestEntityTooLarge, fault.Errorf(fault.Invalid, "Request body too large."))
		return
	}
	if err := Allowed(body); err != nil {
		writeFault(w, http.StatusForbidden, err)
		return
	}
	h.cfg.RPC.ServeHTTP(w, h.rpcRequest(r, tok, body))
}

// mutating checks what every mutating route needs: the same origin, the
// cookie, and the cookie's CSRF token in the header.
func (h *Handler) mutating(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !sameOrigin(w, r) {
		return "", false
	}
	tok, ok := cookieToken(r)
	if !ok {
		writeFault(w, http.StatusUnauthorized, fault.New(fault.ConsoleSignedOut))
		return "", false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || !hmac.Equal([]byte(got), []byte(CSRFToken(tok))) {
		writeFault(w, http.StatusForbidden, fault.New(fault.ConsoleCSRF))
		return "", false
	}
	return tok, true
}

// CSRFToken is the synchronizer token of a session: an HMAC keyed by the
// session token, so it is bound to that session, needs no storage, is the
// same on every gateway process, and cannot be made without the token.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("partnergate console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin refuses a POST from another site: a JSON content type (which
// a cross-site form cannot send without a CORS preflight), Sec-Fetch-Site
// same-origin when the browser sends it, and an Origin naming this host.
func sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	ok := true
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		ok = false
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		ok = false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			ok = false
		}
	}
	if !ok {
		writeFault(w, http.StatusForbidden, fault.New(fault.ConsoleCrossSite))
	}
	return ok
}

func (h *Handler) cookie(tok string, exp time.Time) *http.Cookie {
	c := &http.Cookie{Name: CookieName, Value: tok, Path: Prefix, HttpOnly: true, Secure: h.cfg.Secure,
		SameSite: http.SameSiteStrictMode}
	if tok == "" {
		c.MaxAge = -1
	} else if !exp.IsZero() {
		c.Expires = exp.UTC()
	}
	return c
}

func cookieToken(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || !validToken(c.Value) {
		return "", false
	}
	return c.Value, true
}

// validToken accepts what can be a bearer token: printable ASCII without
// spaces, of a sane length. Anything else never reaches a header.
func validToken(t string) bool {
	if len(t) < 16 || len(t) > 4096 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f || t[i] == ';' || t[i] == ',' || t[i] == '"' || t[i] == '\\' {
			return false
		}
	}
	return true
}

// rpcRequest is r made into a POST /rpc of body, the bearer tok (none when
// empty), and none of the browser's own credentials.
func (h *Handler) rpcRequest(r *http.Request, tok string, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: "/rpc"}
	r2.RequestURI = "/rpc"
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	for k := range r2.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-api-") {
			delete(r2.Header, k)
		}
	}
	r2.Header.Del("Cookie")
	r2.Header.Del("Authorization")
	r2.Header.Del(CSRFHeader)
	r2.Header.Set("Content-Type", "application/json")
	if tok != "" {
		r2.Header.Set("Authorization", "Bearer "+tok)
	}
	return r2
}

// result is one call's outcome as the transport answered it.
type result struct {
	raw    []byte // the whole response
	envRaw []byte // its result member, when there is one
	env    *envelope
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error struct {
		Status bool `json:"status"`
	} `json:"error"`
}

// call runs one method through the transport, as the session tok.
func (h *Handler) call(r *http.Request, tok, method string, params any) (result, error) {
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": 1}
	if params != nil {
		req["params"] = params
	}
	body, err := json.Marshal(req)
	if err != nil {
		return result{}, err
	}
	rec := &recorder{header: http.Header{}}
	h.cfg.RPC.ServeHTTP(rec, h.rpcRequest(r, tok, body))
	res := result{raw: rec.body.Bytes()}
	var resp struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(res.raw, &resp); err != nil {
		return res, err
	}
	if len(resp.Result) > 0 {
		var e envelope
		if err := json.Unmarshal(resp.Result, &e); err != nil {
			return res, err
		}
		res.env, res.envRaw = &e, resp.Result
	}
	return res, nil
}

// recorder keeps an in-process response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rc *recorder) Header() http.Header         { return rc.header }
func (rc *recorder) Write(b []byte) (int, error) { return rc.body.Write(b) }
func (rc *recorder) WriteHeader(s int)           { rc.status = s }

// Allowed reports whether a JSON-RPC body (one call or a batch) calls only
// what the console may: admin.* and identity.sessions.delete. A body it
// cannot read is refused; the transport then never sees it.
func Allowed(body []byte) *fault.Error {
	refuse := fault.New(fault.ConsoleMethod)
	body = bytes.TrimSpace(body)
	var calls []json.RawMessage
	if len(body) > 0 && body[0] == '[' {
		if err := json.Unmarshal(body, &calls); err != nil || len(calls) == 0 {
			return refuse
		}
	} else {
		calls = []json.RawMessage{body}
	}
	for _, c := range calls {
		m, ok := members(c)
		if !ok {
			return refuse
		}
		var name string
		if err := json.Unmarshal(m["method"], &name); err != nil || !ConsoleMethod(name) {
			return refuse
		}
	}
	return nil
}

// members reads a JSON object's members, refusing a repeated name (which
// encoding/json would settle by keeping the last, and the transport
// refuses), so the method checked is the one the transport would run.
func members(obj []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		m[k] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return m, true
}

// ConsoleMethod reports whether the console route forwards a method.
// identity.sessions.create is left out: it answers a token, and the
// console's sign-in route keeps that from the page.
func ConsoleMethod(name string) bool {
	return (strings.HasPrefix(name, "admin.") && len(name) > len("admin.")) || name == "identity.sessions.delete"
}

func writeFault(w http.ResponseWriter, status int, fe *fault.Error) {
	ee := rpc.EnvelopeError{Status: true, Code: int(fe.Code), Message: fe.Message, Fields: fe.Fields}
	b, _ := json.Marshal(rpc.Envelope{Error: ee})
	writeRaw(w, status, b)
}

func writeEnvelope(w http.ResponseWriter, status int, data any) {
	b, err := json.Marshal(rpc.Envelope{Data: data})
	if err != nil {
		writeFault(w, http.StatusInternalServerError, fault.New(fault.Unavailable))
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
