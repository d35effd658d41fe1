package access

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"

	"partnergate/core/fault"
)

// MaxBasicHeader bounds an Authorization: Basic header before decoding: a
// 32-character username and a 1024-byte password fit with room to spare.
const MaxBasicHeader = 1536

// ParseBasic reads an Authorization header of the Basic scheme (RFC 7617,
// charset UTF-8) into a username and a password, or returns
// fault.BasicMalformed. It only parses: it is not a credential the
// Authenticator accepts, so a Basic header counts only where a method (seed
// 003's users.login) calls ParseBasic and checks the password through the
// throttled login core.
func ParseBasic(header string) (username, password string, err error) {
	bad := func() (string, string, error) { return "", "", fault.New(fault.BasicMalformed) }
	if len(header) > MaxBasicHeader {
		return bad()
	}
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return bad()
	}
	// RFC 7235's token68 is one run of characters; tolerate the extra
	// spaces some clients put around it, nothing else.
	token := strings.Trim(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return bad()
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil {
		return bad()
	}
	s := string(raw)
	if !utf8.ValidString(s) {
		return bad()
	}
	// The user-id cannot hold a colon (RFC 7617 2), so the first one splits;
	// the password may hold more.
	username, password, ok = strings.Cut(s, ":")
	if !ok || username == "" {
		return bad()
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return bad()
	}
	return username, password, nil
}
