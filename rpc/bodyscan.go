package rpc

import "sync"

// One pass over a request body before dispatch: it checks that the body is
// JSON (the grammar json.Valid accepts), that its nesting stays within the
// depth limit, and records what the transport needs next: the calls (the
// top-level value, or each element of a batch) and, for every call that is
// an object, its members' key and value spans. parseRequest then reads the
// members from those spans instead of walking the call again.
//
// Before it, the transport walked the body four times (maxDepth,
// json.Valid, the batch split, each call's members): see
// BenchmarkScanBody for what one pass saves. Only an error path walks
// again: a body that is not JSON, or too deep, is measured with maxDepth so
// that the reply is exactly what it was (depth is judged first, over the
// whole body, and the message gives the deepest nesting).

// member is one object member: b[k0:k1] is the key, quoted; b[v0:v1] the
// value.
type member struct{ k0, k1, v0, v1 int }

// callSpan is one call: b[start:end]; members[m0:m1] when it is an object
// (obj), none otherwise.
type callSpan struct {
	start, end int
	m0, m1     int
	obj        bool
}

// bodyScan is one body's pass. Passes are pooled (getScan, putScan), so
// their slices' room is reused and a pass allocates nothing once warm.
type bodyScan struct {
	b       []byte
	limit   int
	depth   int
	deep    bool
	batch   bool
	calls   []callSpan
	members []member
}

var scanPool = sync.Pool{New: func() any { return new(bodyScan) }}

func getScan() *bodyScan { return scanPool.Get().(*bodyScan) }

// putScan returns s to the pool; a pass grown past a large batch's room is
// dropped instead, so one huge body does not pin its slices.
func putScan(s *bodyScan) {
	if cap(s.members) > 4096 {
		return
	}
	s.b = nil
	scanPool.Put(s)
}

// scanResult says how a body failed the pass.
type scanResult int

const (
	scanOK    scanResult = iota
	scanEmpty            // nothing but whitespace
	scanDeep             // nesting past the limit
	scanBad              // not JSON
)

// scan runs the pass over b with the depth limit.
func (s *bodyScan) scan(b []byte, limit int) scanResult {
	s.b, s.limit, s.depth, s.deep, s.batch = b, limit, 0, false, false
	s.calls, s.members = s.calls[:0], s.members[:0]
	i := skipSpace(b, 0)
	if i == len(b) {
		return scanEmpty
	}
	var end int
	var ok bool
	if b[i] == '[' {
		s.batch = true
		end, ok = s.array(i, true)
	} else {
		end, ok = s.value(i, true)
	}
	if ok && skipSpace(b, end) != len(b) {
		ok = false
	}
	switch {
	case ok:
		return scanOK
	case s.deep || maxDepth(b) > limit:
		// Depth first, as the transport always judged it: over the whole
		// body, valid or not.
		return scanDeep
	}
	return scanBad
}

// value scans the value at b[i]; a call's (call) span is recorded.
func (s *bodyScan) value(i int, call bool) (int, bool) {
	b := s.b
	if i >= len(b) {
		return i, false
	}
	if call {
		s.calls = append(s.calls, callSpan{start: i})
	}
	var end int
	var ok bool
	switch c := b[i]; {
	case c == '{':
		end, ok = s.object(i, call)
	case c == '[':
		end, ok = s.array(i, false)
	case c == '"':
		end, ok = s.str(i)
	case c == '-' || c >= '0' && c <= '9':
		end, ok = s.number(i)
	case c == 't':
		end, ok = s.literal(i, "true")
	case c == 'f':
		end, ok = s.literal(i, "false")
	case c == 'n':
		end, ok = s.literal(i, "null")
	default:
		return i, false
	}
	if call && ok {
		s.calls[len(s.calls)-1].end = end
	}
	return end, ok
}

// jsonMaxNesting is encoding/json's own limit: past it json.Valid calls a
// body invalid, and so does the pass (which also bounds its recursion when
// the configured limit is higher).
const jsonMaxNesting = 10000

func (s *bodyScan) enter() bool {
	s.depth++
	if s.depth > s.limit {
		s.deep = true
		return false
	}
	return s.depth <= jsonMaxNesting
}

// object scans the object at b[i] == '{'; a call's members are recorded.
func (s *bodyScan) object(i int, call bool) (int, bool) {
	if !s.enter() {
		return i, false
	}
	b := s.b
	m0 := len(s.members)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			k0 := i
			k1, ok := s.str(i)
			if !ok {
				return k1, false
			}
			i = skipSpace(b, k1)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			v0 := skipSpace(b, i+1)
			v1, ok := s.value(v0, false)
			if !ok {
				return v1, false
			}
			if call {
				s.members = append(s.members, member{k0, k1, v0, v1})
			}
			i = skipSpace(b, v1)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return i, false
		}
	}
	s.depth--
	if call {
		c := &s.calls[len(s.calls)-1]
		c.obj, c.m0, c.m1 = true, m0, len(s.members)
	}
	return i, true
}

// array scans the array at b[i] == '['; a batch's (calls) elements are calls.
func (s *bodyScan) array(i int, calls bool) (int, bool) {
	if !s.enter() {
		return i, false
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		s.depth--
		return i + 1, true
	}
	for {
		end, ok := s.value(i, calls)
		if !ok {
			return end, false
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			s.depth--
			return i + 1, true
		}
		return i, false
	}
}

// str scans the string at b[i] == '"' as encoding/json does: no control
// characters, only its escapes; bytes are not checked for UTF-8 here (the
// transport's unquote does that where a string is read).
func (s *bodyScan) str(i int) (int, bool) {
	b := s.b
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return len(b), false
				}
				for k := 1; k <= 4; k++ {
					if !isHex(b[i+k]) {
						return i + k, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// number scans -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *bodyScan) number(i int) (int, bool) {
	b := s.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func (s *bodyScan) literal(i int, lit string) (int, bool) {
	if len(s.b)-i < len(lit) || string(s.b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}
