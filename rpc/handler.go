package rpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"partnergate/core/fault"
)

// Limits bound what one HTTP request may ask of the server.
type Limits struct {
	MaxBody  int64 // bytes
	MaxBatch int   // calls
	MaxDepth int   // JSON nesting
}

// DefaultLimits are the documented defaults.
var DefaultLimits = Limits{MaxBody: 1 << 20, MaxBatch: 100, MaxDepth: 32}

// Config is what a Handler is built from.
type Config struct {
	Registry *Registry
	Auth     Authenticator // nil: every caller is CallerNone
	// Gate decides each call's access; nil admits Public methods only, so
	// a handler built without one denies by default.
	Gate    Gate
	Limiter Limiter // nil: no rate limits
	// Bind, when set, runs once per request after authentication and
	// returns the context every call of the request runs under: the layer
	// above carries there what it needs of the caller, in its own types.
	Bind func(ctx context.Context, c *Caller) context.Context
	Log  zerolog.Logger
	// LogOut, when set, is Log's writer: the lines of a batch's calls are
	// then collected and written to it at once, one write per batch.
	LogOut         io.Writer
	Limits         Limits
	TrustedProxies []netip.Prefix
	// Audit, when set, is told of every admitted call once it has run:
	// its params as received and its outcome code (0, an envelope code,
	// or a JSON-RPC code). It decides itself what to record.
	Audit func(ctx context.Context, m *Method, c *Caller, params []byte, code int)
}

// Handler serves POST /rpc (JSON-RPC 2.0, single calls and batches) and the
// path style POST /api/v0/partnerRpc/{method}.
type Handler struct {
	cfg    Config
	reg    *Registry
	prefix string
	seq    atomic.Uint64
}

// NewHandler returns the transport over cfg.Registry.
func NewHandler(cfg Config) *Handler {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Gate == nil {
		cfg.Gate = publicOnly{}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Handler{cfg: cfg, reg: cfg.Registry, prefix: hex.EncodeToString(b[:])}
}

// PathPrefix is where the path style serves.
const PathPrefix = "/api/v0/partnerRpc/"

func (h *Handler) requestID() string {
	// Built in a stack buffer so the id costs one allocation, the string.
	var b [32]byte
	id := append(b[:0], h.prefix...)
	id = append(id, '-')
	return string(strconv.AppendUint(id, h.seq.Add(1), 16))
}

// ServeHTTP answers both styles; it picks by path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := h.requestID()
	// Canonical keys assigned directly: Header().Set would canonicalise
	// them again on every call.
	w.Header()["X-Request-Id"] = []string{rid}
	pathStyle := strings.HasPrefix(r.URL.Path, PathPrefix)

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.transportError(w, pathStyle, http.StatusMethodNotAllowed, CodeInvalidRequest, "HTTP method must be POST")
		return
	}
	// The exact media type, what every client sends, needs no parsing.
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			h.transportError(w, pathStyle, http.StatusUnsupportedMediaType, CodeInvalidRequest, "Content-Type must be application/json")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.Limits.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.transportError(w, pathStyle, http.StatusRequestEntityTooLarge, CodeInvalidRequest,
				fmt.Sprintf("request body exceeds %d bytes", h.cfg.Limits.MaxBody))
			return
		}
		h.transportError(w, pathStyle, http.StatusBadRequest, CodeInvalidRequest, "could not read request body")
		return
	}

	// The caller lives in the exchange: one allocation for both.
	x := &exchange{h: h}
	x.callerBuf = Caller{
		Kind:      CallerNone,
		IP:        ClientIP(r, h.cfg.TrustedProxies),
		UserAgent: r.UserAgent(),
		RequestID: rid,
	}
	x.caller = &x.callerBuf
	ctx := WithCaller(r.Context(), x.caller)
	if h.cfg.Auth != nil {
		x.authErr = h.cfg.Auth.Authenticate(ctx, r, body, x.caller)
	}
	if h.cfg.Bind != nil {
		ctx = h.cfg.Bind(ctx, x.caller)
	}
	x.r = r.WithContext(ctx)

	if pathStyle {
		h.servePath(w, x, strings.TrimPrefix(r.URL.Path, PathPrefix), body)
		return
	}
	h.serveRPC(w, x, body)
}

// exchange is one HTTP request's state, shared by the calls of a batch.
type exchange struct {
	h       *Handler
	r       *http.Request
	caller  *Caller
	authErr error
	// callerBuf is where ServeHTTP's caller is kept; caller points to it.
	callerBuf Caller
	// log is where the calls' lines go: the handler's logger, or for a
	// batch one that collects them so the batch costs one write.
	log *zerolog.Logger
}

func (h *Handler) serveRPC(w http.ResponseWriter, x *exchange, body []byte) {
	i := skipSpace(body, 0)
	// encoding/json refuses nesting beyond 10,000 as invalid: depth is
	// looked at first so an over-deep body is the documented -32600 at any
	// depth, not a parse error past the decoder's own limit.
	if d := maxDepth(body); d > h.cfg.Limits.MaxDepth {
		h.writeJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: nullID,
			Error: protoErr(CodeInvalidRequest, fmt.Sprintf("JSON nesting depth %d exceeds %d", d, h.cfg.Limits.MaxDepth))})
		return
	}
	if i == len(body) || !json.Valid(body) {
		h.writeJSON(w, http.StatusOK, response{JSONRPC: "2.0", Error: protoErr(CodeParse, ""), ID: nullID})
		return
	}
	if body[i] != '[' {
		resp, ok := x.call(body[i:endOfValue(body, i)])
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// Not through writeJSON's any, which would copy resp to the heap.
		rb := getReplyBuf()
		defer putReplyBuf(rb)
		h.writeEncoded(w, http.StatusOK, rb, rb.response(&resp))
		return
	}

	var calls [][]byte
	_ = eachElem(body[i:], func(v []byte) error { calls = append(calls, v); return nil })
	if len(calls) == 0 {
		h.writeJSON(w, http.StatusOK, response{JSONRPC: "2.0", Error: protoErr(CodeInvalidRequest, "empty batch"), ID: nullID})
		return
	}
	if len(calls) > h.cfg.Limits.MaxBatch {
		h.writeJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: nullID,
			Error: protoErr(CodeInvalidRequest, fmt.Sprintf("batch of %d calls exceeds %d", len(calls), h.cfg.Limits.MaxBatch))})
		return
	}
	out := make([]response, 0, len(calls))
	if h.cfg.LogOut != nil && len(calls) > 1 {
		var buf bytes.Buffer
		l := h.cfg.Log.Output(&buf)
		x.log = &l
		defer func() { _, _ = h.cfg.LogOut.Write(buf.Bytes()) }()
	}
	for _, c := range calls {
		if resp, ok := x.call(c); ok {
			out = append(out, resp)
		}
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.writeJSON(w, http.StatusOK, out)
}

// request is one call as parsed from the wire.
type request struct {
	method    string
	params    []byte
	id        json.RawMessage
	hasID     bool
	positions bool
}

// parseRequest checks a request object member by member. On failure it still
// returns the id when the id itself was well-formed, so the error can echo it.
func parseRequest(raw []byte) (request, *ProtocolError) {
	var req request
	if raw[0] != '{' {
		return req, protoErr(CodeInvalidRequest, "a call must be a JSON object")
	}
	var version, method []byte
	var seen [4]bool
	var bad *ProtocolError
	// Read every member even after a fault, so the error can echo the id.
	_ = eachMember(raw, func(q, v []byte) error {
		// The four members spelled without escapes, the common case, are
		// matched on the raw bytes; anything else is unquoted first.
		slot := memberSlot(string(q))
		key := ""
		if slot >= 0 {
			key = memberNames[slot]
		} else {
			var err error
			if key, err = unquote(q); err != nil {
				if bad == nil {
					bad = protoErr(CodeInvalidRequest, "member name is not valid UTF-8")
				}
				return nil
			}
			if slot = memberSlot(`"` + key + `"`); slot < 0 {
				if bad == nil {
					bad = protoErr(CodeInvalidRequest, fmt.Sprintf("unknown member %q", key))
				}
				return nil
			}
		}
		if seen[slot] {
			if bad == nil {
				bad = protoErr(CodeInvalidRequest, fmt.Sprintf("member %q appears twice", key))
			}
			return nil
		}
		seen[slot] = true
		switch slot {
		case 0:
			version = v
		case 1:
			method = v
		case 2:
			req.params = v
		case 3:
			req.id, req.hasID = v, true
		}
		return nil
	})
	if req.hasID {
		switch req.id[0] {
		case '"':
			if _, err := unquote(req.id); err != nil {
				req.id, req.hasID = nil, false
				return req, protoErr(CodeInvalidRequest, "id is not valid UTF-8")
			}
		case '{', '[', 't', 'f':
			req.id = nil
			return req, protoErr(CodeInvalidRequest, "id must be a string, a number or null")
		}
	}
	if bad != nil {
		return req, bad
	}
	if string(version) != `"2.0"` {
		return req, protoErr(CodeInvalidRequest, `jsonrpc must be "2.0"`)
	}
	if method == nil || method[0] != '"' {
		return req, protoErr(CodeInvalidRequest, "method must be a string")
	}
	m, err := unquote(method)
	if err != nil {
		return req, protoErr(CodeInvalidRequest, "method is not valid UTF-8")
	}
	req.method = m
	if req.params != nil {
		switch req.params[0] {
		case '{':
		case '[':
			req.positions = true
		default:
			return req, protoErr(CodeInvalidRequest, "params must be an object or an array")
		}
	}
	return req, nil
}

var memberNames = [4]string{"jsonrpc", "method", "params", "id"}

// memberSlot numbers a request member by its quoted name, -1 if unknown.
func memberSlot(quoted string) int {
	switch quoted {
	case `"jsonrpc"`:
		return 0
	case `"method"`:
		return 1
	case `"params"`:
		return 2
	case `"id"`:
		return 3
	}
	return -1
}

// call runs one call of the body and returns its response; ok is false for a
// notification, which gets no answer.
func (x *exchange) call(raw []byte) (resp response, ok bool) {
	start := time.Now()
	req, perr := parseRequest(raw)
	id := nullID
	if req.hasID {
		id = req.id
	}
	if perr != nil {
		x.h.reg.metrics.unknown.Inc()
		x.finish(nil, "", perr.Code, start, nil)
		return response{JSONRPC: "2.0", Error: perr, ID: id}, true
	}
	env, perr := x.dispatch(req, start)
	if !req.hasID {
		return response{}, false
	}
	if perr != nil {
		return response{JSONRPC: "2.0", Error: perr, ID: id}, true
	}
	return response{JSONRPC: "2.0", Result: env, ID: id}, true
}

// dispatch runs a parsed call through access checks, limits and the method,
// and logs and counts it once. Exactly one of the results is non-nil.
func (x *exchange) dispatch(req request, start time.Time) (env *Envelope, perr *ProtocolError) {
	m, found := x.h.reg.Lookup(req.method)
	if !found {
		x.h.reg.metrics.unknown.Inc()
		perr = protoErr(CodeMethodNotFound, "")
		x.finish(nil, req.method, perr.Code, start, nil)
		return nil, perr
	}
	m.calls.Inc()
	params := req.params
	if req.positions {
		var pe *ParamsError
		if params, pe = positional(m, params); pe != nil {
			perr = protoErr(CodeInvalidParams, pe.Detail)
			x.finish(m, "", perr.Code, start, nil)
			return nil, perr
		}
	}
	if err := x.admit(m); err != nil {
		fe, coded := fault.As(err)
		if !coded {
			// An uncoded refusal is a fault of ours (a misspelled rate
			// class, a broken gate), not a reason to tell callers to retry.
			perr = protoErr(CodeInternal, "")
			x.finish(m, "", perr.Code, start, err)
			return nil, perr
		}
		e := faultEnvelope(fe)
		x.finish(m, "", int(fe.Code), start, fe.Cause)
		return &e, nil
	}

	if audit := x.h.cfg.Audit; audit != nil {
		defer func() {
			code := 0
			switch {
			case perr != nil:
				code = perr.Code
			case env != nil:
				code = env.Error.Code
			}
			audit(x.r.Context(), m, x.caller, params, code)
		}()
	}
	st := &callState{m: m, params: params}
	if perr, cause := x.invoke(st); perr != nil {
		x.finish(m, "", perr.Code, start, cause)
		return nil, perr
	}
	if st.err != nil {
		var pe *ParamsError
		if errors.As(st.err, &pe) {
			perr = protoErr(CodeInvalidParams, pe.Detail)
			x.finish(m, "", perr.Code, start, nil)
			return nil, perr
		}
		fe, coded := fault.As(st.err)
		if !coded {
			perr = protoErr(CodeInternal, "")
			x.finish(m, "", perr.Code, start, st.err)
			return nil, perr
		}
		e := faultEnvelope(fe)
		x.finish(m, "", int(fe.Code), start, fe.Cause)
		return &e, nil
	}
	x.finish(m, "", 0, start, nil)
	return &Envelope{Data: st.reply}, nil
}

// invoke decodes the params and calls the method, turning a panic into
// -32603 for this call alone. It calls the method itself rather than through
// gorilla's ServeHTTP, which per call copied the request to carry the state
// in its context, split the name and took a lock to find the method, set a
// header nobody reads and allocated its bookkeeping.
func (x *exchange) invoke(st *callState) (perr *ProtocolError, cause error) {
	defer func() {
		if p := recover(); p != nil {
			perr = protoErr(CodeInternal, "")
			cause = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	m := st.m
	args := reflect.New(m.params)
	if st.params == nil {
		st.err = checkAbsent(args.Interface())
	} else {
		st.err = decodeParams(st.params, args.Interface())
	}
	if st.err != nil {
		return nil, nil
	}
	reply := reflect.New(m.result)
	in := [4]reflect.Value{m.rcvr, reflect.ValueOf(x.r), args, reply}
	if e := m.fn.Call(in[:])[0].Interface(); e != nil {
		st.err = e.(error)
		return nil, nil
	}
	st.reply = reply.Interface()
	return nil, nil
}

// admit applies the method's access policy and rate-limit class. A
// refusal is a *fault.Error; any other error is internal.
func (x *exchange) admit(m *Method) error {
	if x.authErr != nil {
		return x.authErr
	}
	ctx := x.r.Context()
	if err := x.h.cfg.Gate.Admit(ctx, m, x.caller); err != nil {
		return err
	}
	if m.RateClass != NoLimit && x.h.cfg.Limiter != nil {
		return x.h.cfg.Limiter.Allow(ctx, m.RateClass, x.caller)
	}
	return nil
}

// publicOnly is the gate of a handler configured without one.
type publicOnly struct{}

func (publicOnly) Admit(_ context.Context, m *Method, c *Caller) error {
	if m.Access == Public {
		return nil
	}
	if c.Kind == CallerNone {
		return fault.New(fault.Unauthenticated)
	}
	return fault.New(fault.Forbidden)
}

// positional turns an array of params into the object the method's natural
// order describes.
func positional(m *Method, arr []byte) ([]byte, *ParamsError) {
	// [] is "no params" for every method, by position or by name.
	if i := skipSpace(arr, 1); i < len(arr) && arr[i] == ']' {
		return []byte("{}"), nil
	}
	if m.Positional == nil {
		return nil, &ParamsError{Detail: "this method takes params by name (an object), not by position"}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	var pe *ParamsError
	_ = eachElem(arr, func(v []byte) error {
		if n >= len(m.Positional) {
			pe = paramsErrorf("at most %d positional params (%s)", len(m.Positional), strings.Join(m.Positional, ", "))
			return errBadString
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m.Positional[n] + `":`)
		b.Write(v)
		n++
		return nil
	})
	if pe != nil {
		return nil, pe
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// finish logs and counts a call once. Secrets never reach the log: only the
// request id, method, caller kind, outcome code and duration, and for internal
// failures the error, which never carries params.
func (x *exchange) finish(m *Method, unknownName string, code int, start time.Time, cause error) {
	d := time.Since(start)
	name := unknownMethod
	errs := x.h.reg.metrics.unknownErrs
	if m != nil {
		name, errs = m.Name, m.errs
		m.latency.Observe(d.Seconds())
	}
	if code != 0 {
		errs.inc(code)
	}
	lvl := zerolog.InfoLevel
	if code == CodeInternal {
		lvl = zerolog.ErrorLevel
	}
	log := &x.h.cfg.Log
	if x.log != nil {
		log = x.log
	}
	ev := log.WithLevel(lvl)
	if ev == nil {
		return
	}
	ev = ev.Str("rid", x.caller.RequestID).Str("method", name).Str("caller", string(x.caller.Kind)).
		Int("code", code).Dur("dur", d)
	if unknownName != "" {
		ev = ev.Int("unknownLen", utf8.RuneCountInString(unknownName))
	}
	if cause != nil {
		ev = ev.AnErr("cause", cause)
	}
	ev.Msg("call")
}

func (h *Handler) servePath(w http.ResponseWriter, x *exchange, name string, body []byte) {
	start := time.Now()
	i := skipSpace(body, 0)
	var params []byte
	switch {
	case i == len(body):
	case maxDepth(body) > h.cfg.Limits.MaxDepth:
		// Before validity, as on /rpc: past 10,000 levels encoding/json
		// calls the body invalid.
		h.pathFault(w, x, start, http.StatusBadRequest,
			protoErr(CodeInvalidRequest, fmt.Sprintf("JSON nesting depth exceeds %d", h.cfg.Limits.MaxDepth)))
		return
	case !json.Valid(body):
		h.pathFault(w, x, start, http.StatusBadRequest, protoErr(CodeParse, ""))
		return
	case body[i] != '{':
		h.pathFault(w, x, start, http.StatusBadRequest, protoErr(CodeInvalidRequest, "body must be the params object"))
		return
	default:
		params = body[i:endOfValue(body, i)]
	}
	if !utf8.ValidString(name) {
		h.pathFault(w, x, start, http.StatusNotFound, protoErr(CodeMethodNotFound, ""))
		return
	}
	env, perr := x.dispatch(request{method: name, params: params, hasID: true}, start)
	if perr != nil {
		status := http.StatusBadRequest
		switch perr.Code {
		case CodeMethodNotFound:
			status = http.StatusNotFound
		case CodeInternal:
			status = http.StatusInternalServerError
		}
		h.writeJSON(w, status, protoEnvelope(perr))
		return
	}
	h.writeJSON(w, http.StatusOK, env)
}

func (h *Handler) pathFault(w http.ResponseWriter, x *exchange, start time.Time, status int, perr *ProtocolError) {
	x.h.reg.metrics.unknown.Inc()
	x.finish(nil, "", perr.Code, start, nil)
	h.writeJSON(w, status, protoEnvelope(perr))
}

// protoEnvelope states a protocol fault in the path style, where the reply is
// always the envelope: the JSON-RPC code and message, with the detail after.
func protoEnvelope(perr *ProtocolError) Envelope {
	msg := perr.Message
	if s, ok := perr.Data.(string); ok {
		msg += ": " + s
	}
	return Envelope{Error: EnvelopeError{Status: true, Code: perr.Code, Message: msg}}
}

// transportError answers faults found before any call was read.
func (h *Handler) transportError(w http.ResponseWriter, pathStyle bool, status, code int, detail string) {
	perr := protoErr(code, detail)
	h.reg.metrics.unknown.Inc()
	h.reg.metrics.unknownErrs.inc(code)
	if pathStyle {
		h.writeJSON(w, status, protoEnvelope(perr))
		return
	}
	h.writeJSON(w, status, response{JSONRPC: "2.0", Error: perr, ID: nullID})
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	rb := getReplyBuf()
	defer putReplyBuf(rb)
	h.writeEncoded(w, status, rb, rb.encodeReply(v))
}

// writeEncoded sends the reply encoded in rb, or when encoding failed with
// err, an internal error.
func (h *Handler) writeEncoded(w http.ResponseWriter, status int, rb *replyBuf, err error) {
	var b []byte
	if err != nil {
		h.cfg.Log.Error().Err(err).Msg("encode response")
		b = []byte(`{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":null}`)
		status = http.StatusInternalServerError
	} else {
		b = rb.b.Bytes()
	}
	// One backing array for both values, each capped so an append by a
	// later writer cannot run into the other.
	vals := make([]string, 2)
	vals[0], vals[1] = "application/json", "nosniff"
	hd := w.Header()
	hd["Content-Type"] = vals[0:1:1]
	hd["X-Content-Type-Options"] = vals[1:2:2]
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Call runs one method outside HTTP (the CLI and tests use it) with the given
// caller, returning the envelope or a protocol error.
func (h *Handler) Call(ctx context.Context, c *Caller, method string, params []byte) (*Envelope, *ProtocolError) {
	r, _ := http.NewRequestWithContext(WithCaller(ctx, c), http.MethodPost, "/rpc", nil)
	r.Header.Set("Content-Type", "application/json")
	x := &exchange{h: h, r: r, caller: c}
	req := request{method: method, params: params, hasID: true}
	if len(params) > 0 && params[0] == '[' {
		req.positions = true
	}
	return x.dispatch(req, time.Now())
}
