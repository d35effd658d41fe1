package rpc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"partnergate/core/fault"
)

// TestEncodeReplyIsMarshal: the hand-written shell gives json.Marshal's bytes
// and fails where it fails.
func TestEncodeReplyIsMarshal(t *testing.T) {
	type pong struct {
		Pong bool   `json:"pong"`
		Note string `json:"note,omitempty"`
	}
	fe := fault.New(fault.NotFound)
	withFields := faultEnvelope(&fault.Error{Code: fault.NotFound, Message: "bad", Fields: map[string]string{"b": "x<y", "a": "é"}})
	retry := faultEnvelope(&fault.Error{Code: fault.NotFound, Message: "slow down", RetryAfter: 1500 * time.Millisecond})
	ok := &Envelope{Data: &pong{Pong: true, Note: "<b>&\u2028"}}
	ids := []json.RawMessage{nil, nullID, json.RawMessage(`1`), json.RawMessage(`-1.5e+3`),
		json.RawMessage(`"a<b>&c\u2028\u2029"`), json.RawMessage("\"raw \u2028 and \u2029 and \xe2\x80\"")}
	var values []any
	for _, id := range ids {
		values = append(values,
			response{JSONRPC: "2.0", Result: ok, ID: id},
			response{JSONRPC: "2.0", Result: &Envelope{}, ID: id},
			response{JSONRPC: "2.0", Error: protoErr(CodeInvalidParams, `field "x" <bad>`), ID: id},
			response{JSONRPC: "1.0", Result: ok, ID: id},
			response{JSONRPC: "2.0", ID: id},
		)
	}
	for _, e := range []Envelope{faultEnvelope(fe), withFields, retry,
		{Data: json.RawMessage(`{ "spaced" : [1, 2] }`)},
		{Data: []any{"hello", 5, nil, 1.5, map[string]any{"z": 1, "a": "<"}}},
		{Error: EnvelopeError{Status: true, Code: -32601, Message: `Method not found: "quoted"`}},
		{Error: EnvelopeError{Status: true, Code: 7, Message: "caf\u00e9"}},
		{Error: EnvelopeError{Status: true, Code: 7, Message: "tab\there"}},
		{Error: EnvelopeError{Status: true, Code: 7, RetryAfter: -1}},
	} {
		e := e
		values = append(values, e, &e, response{JSONRPC: "2.0", Result: &e, ID: json.RawMessage(`"x"`)})
	}
	values = append(values, (*Envelope)(nil), protoEnvelope(protoErr(CodeParse, "")),
		[]response{{JSONRPC: "2.0", Result: ok, ID: json.RawMessage(`1`)}, {JSONRPC: "2.0", Error: protoErr(CodeInternal, ""), ID: nullID}},
		[]response{}, []response(nil))

	for _, v := range values {
		want, werr := json.Marshal(v)
		rb := getReplyBuf()
		gerr := rb.encodeReply(v)
		got := append([]byte(nil), rb.b.Bytes()...)
		putReplyBuf(rb)
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%#v: error %v, Marshal's %v", v, gerr, werr)
			continue
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Errorf("encodeReply differs from Marshal\n got: %s\nwant: %s", got, want)
		}
	}

	for _, bad := range []any{
		response{JSONRPC: "2.0", Result: &Envelope{Data: math.NaN()}, ID: nullID},
		&Envelope{Data: make(chan int)},
		[]response{{JSONRPC: "2.0", Result: ok, ID: nullID}, {JSONRPC: "2.0", Result: &Envelope{Data: math.Inf(1)}, ID: nullID}},
	} {
		_, werr := json.Marshal(bad)
		rb := getReplyBuf()
		gerr := rb.encodeReply(bad)
		putReplyBuf(rb)
		if werr == nil || gerr == nil || gerr.Error() != werr.Error() {
			t.Errorf("%#v: error %v, Marshal's %v", bad, gerr, werr)
		}
	}
}

// FuzzEncodeReplyIsMarshal checks string ids and messages of every shape.
func FuzzEncodeReplyIsMarshal(f *testing.F) {
	f.Add("a<b", "Not found.", 3)
	f.Add("\u2028\xe2\x80", "quote\"d", 0)
	f.Fuzz(func(t *testing.T, id, msg string, code int) {
		q, _ := json.Marshal(id)
		v := response{JSONRPC: "2.0", ID: q, Result: &Envelope{Data: id,
			Error: EnvelopeError{Status: code%2 == 0, Code: code, Message: msg, RetryAfter: code / 3}}}
		want, err := json.Marshal(v)
		if err != nil {
			t.Skip()
		}
		rb := getReplyBuf()
		defer putReplyBuf(rb)
		if err := rb.encodeReply(v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rb.b.Bytes(), want) {
			t.Errorf("got  %s\nwant %s", rb.b.Bytes(), want)
		}
	})
}
