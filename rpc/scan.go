package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// The scanner walks JSON that json.Valid has already accepted, so it only
// tracks strings and brackets: it never has to report a syntax error. It lets
// the transport split batches and check objects member by member without
// building a generic tree, which is what makes strict decoding cheap.

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// endOfString returns the index just past the string starting at b[i] == '"'.
func endOfString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// endOfValue returns the index just past the value starting at b[i].
func endOfValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = endOfString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default:
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i
			}
		}
		return len(b)
	}
}

// maxDepth returns the deepest bracket nesting in b, valid JSON or not:
// it counts brackets outside strings, which is all the limit needs.
func maxDepth(b []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = endOfString(b, i) - 1
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// eachMember calls fn for every member of the object b (valid JSON, starting
// with '{'), with the key still quoted and the value's raw bytes.
func eachMember(b []byte, fn func(key, val []byte) error) error {
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		ke := endOfString(b, i)
		key := b[i:ke]
		i = skipSpace(b, ke)
		i = skipSpace(b, i+1) // ':'
		ve := endOfValue(b, i)
		if err := fn(key, b[i:ve]); err != nil {
			return err
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

// eachElem calls fn for every element of the array b (valid JSON, '[').
func eachElem(b []byte, fn func(val []byte) error) error {
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != ']' {
		ve := endOfValue(b, i)
		if err := fn(b[i:ve]); err != nil {
			return err
		}
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

var errBadString = errors.New("invalid string")

// unquote decodes a quoted JSON string. Strings without escapes, the common
// case, are converted without going through encoding/json.
func unquote(q []byte) (string, error) {
	body := q[1 : len(q)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if !utf8.Valid(body) {
			return "", errBadString
		}
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", err
	}
	// encoding/json turns a lone surrogate escape into U+FFFD; refuse it
	// unless the sender wrote U+FFFD itself. NUL is refused outright: no
	// field needs it and PostgreSQL text cannot hold it.
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 ||
		(strings.ContainsRune(s, utf8.RuneError) &&
			!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) && !bytes.Contains(body, []byte("\xef\xbf\xbd"))) {
		return "", errBadString
	}
	return s, nil
}
