package accounts

import (
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"partnergate/core/fault"
	"partnergate/store"
)

// Phone is a parsed number: Value and Norm are both E.164.
type Phone struct {
	Value string
	Norm  string
}

// MaxPhone bounds what is handed to the parser.
const MaxPhone = 32

// ParsePhone accepts an international number ("+" and country code; spaces,
// dashes and brackets allowed) that the numbering plan says can exist, or
// returns fault.PhoneInvalid.
func ParsePhone(s string) (Phone, error) {
	bad := func(problem string) (Phone, error) {
		return Phone{}, fault.Field(fault.PhoneInvalid, "phone", problem)
	}
	if s == "" {
		return bad("required")
	}
	if len(s) > MaxPhone || !strings.HasPrefix(strings.TrimSpace(s), "+") {
		return bad("want an international number starting with +")
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return bad("not a valid phone number")
	}
	e := phonenumbers.Format(n, phonenumbers.E164)
	return Phone{Value: e, Norm: e}, nil
}

// Username limits (SECURITY.md 18).
const (
	MinUsername = 3
	MaxUsername = 32
)

// NormalizeUsername returns a username's comparison form (lower-cased) or
// fault.Invalid when it holds anything but letters, digits, '.', '_', '-',
// or breaks the identifier rule that emails follow too.
func NormalizeUsername(s string) (string, error) {
	if problem := identifierProblem(s); problem != "" {
		return "", fault.Field(fault.Invalid, "username", problem)
	}
	n := foldIdentifier(s)
	l := len([]rune(n))
	if l < MinUsername || l > MaxUsername {
		return "", fault.Field(fault.Invalid, "username", "3 to 32 characters")
	}
	for _, r := range n {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			return "", fault.Field(fault.Invalid, "username", "letters, digits, '.', '_' and '-' only")
		}
	}
	if reservedUsername(n) {
		return "", fault.Field(fault.Invalid, "username", "reserved")
	}
	return n, nil
}

// reservedUsernames are names a chat client would take for the service
// speaking, refused so that no user can pose as staff or the system.
var reservedUsernames = map[string]bool{
	"admin": true, "administrator": true, "root": true, "support": true, "system": true,
	"sysadmin": true, "staff": true, "moderator": true, "mod": true, "help": true,
	"helpdesk": true, "security": true, "official": true, "partnergate": true,
	"postmaster": true, "hostmaster": true, "webmaster": true, "abuse": true,
	"noreply": true, "info": true, "me": true, "null": true, "nil": true,
	"undefined": true, "anonymous": true, "everyone": true, "here": true, "api": true,
	"login": true, "register": true, "users": true, "owner": true, "superuser": true,
}

// reservedUsername compares the folded name with the separators '.', '_'
// and '-' taken out, so "Ad-min" and "s.u.p.p.o.r.t" are refused like the
// words they spell.
func reservedUsername(norm string) bool {
	bare := strings.NewReplacer(".", "", "_", "", "-", "").Replace(norm)
	return reservedUsernames[norm] || reservedUsernames[bare]
}

// ParseLogin reads "login, email or phone" as the seeds allow: an '@' makes
// it an email, a leading '+' a phone, anything else a username. A login that
// cannot be parsed still yields a kind and a norm that matches nobody, so
// the caller goes through the same path as for an unknown user.
func ParseLogin(s string) (kind, normalized string) {
	switch {
	case strings.Contains(s, "@"):
		return store.KindEmail, EmailLogin(s)
	case strings.HasPrefix(strings.TrimSpace(s), "+"):
		if p, err := ParsePhone(s); err == nil {
			return store.KindPhone, p.Norm
		}
		return store.KindPhone, "invalid:" + s
	default:
		if u, err := NormalizeUsername(s); err == nil {
			return store.KindUsername, u
		}
		return store.KindUsername, "invalid:" + s
	}
}

// EmailLogin is the norm to look up for a login a seed says is an email. A
// malformed email cannot belong to anyone; it yields a norm that matches
// nobody, so it costs and answers like an unknown one.
func EmailLogin(s string) string {
	if e, err := ParseEmail(s); err == nil {
		return e.Norm
	}
	return "invalid:" + s
}

// LoginState is what a seed reports about an account after a correct
// password or a valid session: nil when the user may proceed, else
// fault.UserDisabled or the verification still missing.
func LoginState(u store.User) error {
	if u.State == store.StateDisabled {
		return fault.New(fault.UserDisabled)
	}
	e, hasEmail := u.Identifier(store.KindEmail)
	p, hasPhone := u.Identifier(store.KindPhone)
	emailMissing := hasEmail && !e.Verified
	phoneMissing := hasPhone && !p.Verified
	switch {
	case emailMissing && phoneMissing:
		return fault.New(fault.NotVerified)
	case emailMissing:
		return fault.New(fault.EmailNotVerified)
	case phoneMissing:
		return fault.New(fault.PhoneNotVerified)
	}
	return nil
}
