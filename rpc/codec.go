package rpc

import (
	"context"
	"encoding/json"
	"net/http"

	grpc "github.com/gorilla/rpc/v2"
	"partnergate/rpc/fault"
)

// The codec plugs partnergate's own decoding into gorilla's registry. The
// outer handler has already parsed and checked the call; the codec only hands
// gorilla the method's registry name, decodes params strictly into the args
// gorilla allocates, and catches the reply or error instead of writing it.

type callState struct {
	m      *Method
	params []byte // an object, or nil when absent
	reply  any
	err    error
}

type stateKey struct{}

type codec struct{}

func (codec) NewRequest(r *http.Request) grpc.CodecRequest {
	st, _ := r.Context().Value(stateKey{}).(*callState)
	return codecRequest{st}
}

type codecRequest struct{ st *callState }

func (c codecRequest) Method() (string, error) { return c.st.m.gorilla, nil }

func (c codecRequest) ReadRequest(args any) error {
	if c.st.params == nil {
		return checkAbsent(args)
	}
	return decodeParams(c.st.params, args)
}

func (c codecRequest) WriteResponse(_ http.ResponseWriter, reply any) { c.st.reply = reply }

func (c codecRequest) WriteError(_ http.ResponseWriter, _ int, err error) { c.st.err = err }

// sink is the ResponseWriter gorilla writes to; everything it writes is
// dropped because the codec has already kept the reply.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header {
	if s.h == nil {
		s.h = http.Header{}
	}
	return s.h
}
func (*sink) Write(b []byte) (int, error) { return len(b), nil }
func (*sink) WriteHeader(int)             {}

// Envelope is every method's outcome, the JSON-RPC result.
type Envelope struct {
	Data  any           `json:"data"`
	Error EnvelopeError `json:"error"`
}

// EnvelopeError is the envelope's error member. Status is true on failure.
type EnvelopeError struct {
	Status     bool              `json:"status"`
	Code       int               `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	RetryAfter int               `json:"retryAfter,omitempty"`
}

func faultEnvelope(fe *fault.Error) Envelope {
	ee := EnvelopeError{Status: true, Code: int(fe.Code), Message: fe.Message, Fields: fe.Fields}
	if fe.RetryAfter > 0 {
		// Round up so a client that waits retryAfter seconds is never early.
		ee.RetryAfter = int((fe.RetryAfter + 999_999_999) / 1_000_000_000)
	}
	return Envelope{Error: ee}
}

// ProtocolError is a JSON-RPC error object (-32700 … -32603).
type ProtocolError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *ProtocolError) Error() string { return e.Message }

// JSON-RPC 2.0 codes.
const (
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
)

func protoErr(code int, data string) *ProtocolError {
	var msg string
	switch code {
	case CodeParse:
		msg = "Parse error"
	case CodeInvalidRequest:
		msg = "Invalid Request"
	case CodeMethodNotFound:
		msg = "Method not found"
	case CodeInvalidParams:
		msg = "Invalid params"
	default:
		msg = "Internal error"
	}
	pe := &ProtocolError{Code: code, Message: msg}
	if data != "" {
		pe.Data = data
	}
	return pe
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  *Envelope       `json:"result,omitempty"`
	Error   *ProtocolError  `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

var nullID = json.RawMessage("null")

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}
