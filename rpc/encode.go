package rpc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// Replies are written as json.Marshal would write them, byte for byte, but
// the fixed shell of a response and its envelope is appended by hand: only
// the method's data, and anything unusual (fields, a message that needs
// escaping, an error response), goes through encoding/json. Marshal spent
// most of its time on the shell's reflection and returned a fresh copy of
// every reply; the encoder here writes into a pooled buffer.

type replyBuf struct {
	b   bytes.Buffer
	enc *json.Encoder
}

var replyBufs = sync.Pool{New: func() any {
	rb := &replyBuf{}
	rb.enc = json.NewEncoder(&rb.b)
	return rb
}}

// maxPooledReply keeps one large reply from pinning its buffer in the pool.
const maxPooledReply = 64 << 10

func getReplyBuf() *replyBuf { return replyBufs.Get().(*replyBuf) }

func putReplyBuf(rb *replyBuf) {
	if rb.b.Cap() > maxPooledReply {
		return
	}
	rb.b.Reset()
	replyBufs.Put(rb)
}

// encodeReply appends the JSON of v, one of writeJSON's values.
func (rb *replyBuf) encodeReply(v any) error {
	switch v := v.(type) {
	case response:
		return rb.response(&v)
	case []response:
		if v == nil {
			break
		}
		rb.b.WriteByte('[')
		for i := range v {
			if i > 0 {
				rb.b.WriteByte(',')
			}
			if err := rb.response(&v[i]); err != nil {
				return err
			}
		}
		rb.b.WriteByte(']')
		return nil
	case *Envelope:
		if v != nil {
			return rb.envelope(v)
		}
	case Envelope:
		return rb.envelope(&v)
	}
	return rb.value(v)
}

// value appends v as json.Marshal writes it (Encode's output but its newline).
func (rb *replyBuf) value(v any) error {
	if err := rb.enc.Encode(v); err != nil {
		return err
	}
	rb.b.Truncate(rb.b.Len() - 1)
	return nil
}

func (rb *replyBuf) response(r *response) error {
	if r.JSONRPC != "2.0" || r.Error != nil {
		// A copy, so that r itself does not escape on the common path.
		return rb.value(*r)
	}
	rb.b.WriteString(`{"jsonrpc":"2.0"`)
	if r.Result != nil {
		rb.b.WriteString(`,"result":`)
		if err := rb.envelope(r.Result); err != nil {
			return err
		}
	}
	rb.b.WriteString(`,"id":`)
	if len(r.ID) == 0 {
		rb.b.WriteString("null")
	} else {
		// Marshal compacts a RawMessage with HTML escaping; the id, a
		// number, a string or null from a valid body, has no space to
		// remove, so escaping is all that is left to do.
		json.HTMLEscape(&rb.b, r.ID)
	}
	rb.b.WriteByte('}')
	return nil
}

func (rb *replyBuf) envelope(e *Envelope) error {
	ee := &e.Error
	if len(ee.Fields) > 0 || !plainString(ee.Message) {
		return rb.value(*e)
	}
	rb.b.WriteString(`{"data":`)
	if e.Data == nil {
		rb.b.WriteString("null")
	} else if err := rb.value(e.Data); err != nil {
		return err
	}
	if ee.Status {
		rb.b.WriteString(`,"error":{"status":true,"code":`)
	} else {
		rb.b.WriteString(`,"error":{"status":false,"code":`)
	}
	rb.b.Write(strconv.AppendInt(rb.b.AvailableBuffer(), int64(ee.Code), 10))
	rb.b.WriteString(`,"message":"`)
	rb.b.WriteString(ee.Message)
	rb.b.WriteByte('"')
	if ee.RetryAfter != 0 {
		rb.b.WriteString(`,"retryAfter":`)
		rb.b.Write(strconv.AppendInt(rb.b.AvailableBuffer(), int64(ee.RetryAfter), 10))
	}
	rb.b.WriteString("}}")
	return nil
}

// plainString reports whether encoding/json writes s between quotes as it
// is: printable ASCII with nothing it escapes.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
