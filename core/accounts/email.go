package accounts

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"partnergate/core/fault"
)

// Email limits (SECURITY.md 18).
const (
	MaxEmail      = 254
	MaxEmailLocal = 64
)

// Email is a parsed address: Value keeps the local part as given with the
// domain lower-cased; Norm is fully case-folded, what uniqueness compares.
type Email struct {
	Value string
	Norm  string
}

// ParseEmail accepts a bare address (no display name, no surrounding space)
// or returns fault.EmailInvalid naming the problem in its fields.
func ParseEmail(s string) (Email, error) {
	bad := func(problem string) (Email, error) {
		return Email{}, fault.Field(fault.EmailInvalid, "email", problem)
	}
	switch {
	case s == "":
		return bad("required")
	case len(s) > MaxEmail || utf8.RuneCountInString(s) > MaxEmail:
		return bad("longer than 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad("not a valid address")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > MaxEmailLocal {
		return bad("local part longer than 64 characters")
	}
	// A domain literal ("[192.168.0.1]") names a host by address, not by
	// name: mail would go wherever the caller points it.
	if strings.HasPrefix(domain, "[") || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return bad("domain is not a valid host name")
	}
	if problem := identifierProblem(local); problem != "" {
		return bad(problem)
	}
	for _, label := range strings.Split(domain, ".") {
		if problem := identifierProblem(label); problem != "" {
			return bad(problem)
		}
	}
	domain = foldIdentifier(domain)
	v := local + "@" + domain
	return Email{Value: v, Norm: foldIdentifier(local) + "@" + domain}, nil
}
