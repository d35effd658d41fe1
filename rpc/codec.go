package rpc

import (
	"encoding/json"

	"partnergate/core/fault"
)

// callState is one call's method, params and outcome as invoke leaves it.
type callState struct {
	m      *Method
	params []byte // an object, or nil when absent
	reply  any
	err    error
}

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
