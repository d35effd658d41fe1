package identity

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/methods/barong"
	"partnergate/methods/identity/identitywire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the identity.* namespace.
type Service struct {
	Accounts *accounts.Service
	Release  string
	Commit   string
	Now      func() time.Time
}

// Methods declares the namespace for the registry.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "identity.sessions.create", Go: "SessionsCreate", Access: rpc.Public, RateClass: "login", OpensSession: true,
			Doc: "Starts a session by email and password (otp_code when 2FA is on); returns Barong's user object and a bearer token."},
		{Name: "identity.sessions.delete", Go: "SessionsDelete", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Ends the current session."},
		{Name: "identity.users.create", Go: "UsersCreate", Access: rpc.Public, RateClass: "register",
			Doc: "Registers a user by email and password (refid, data as a JSON object string, lang); sends an email code; returns the user object (pending until the email is confirmed)."},
		{Name: "identity.configs", Go: "Configs", Access: rpc.Public, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Returns the settings a Barong client reads: session lifetime, captcha type, password policy."},
		{Name: "identity.version", Go: "Version", Access: rpc.Public, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Returns the server's version."},
		{Name: "identity.time", Go: "Time", Access: rpc.Public, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Returns the server's Unix time in seconds."},
		{Name: "identity.ping", Go: "Ping", Access: rpc.Public, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Answers pong."},
		{Name: "identity.password.validate", Go: "PasswordValidate", Access: rpc.Public, RateClass: "login", Positional: []string{"password"},
			Doc: "Scores a password by the registration policy (zxcvbn 0-4) and says whether registration would accept it."},
	}
}

var sessionKeys = map[fault.Code]string{
	fault.WrongCredentials: "identity.session.invalid_params",
	fault.UserDisabled:     "identity.session.not_active",
	fault.EmailNotVerified: "identity.session.not_active",
	fault.NotVerified:      "identity.session.not_active",
	fault.Invalid:          "identity.session.invalid_login_params",
	fault.OTPRequired:      "identity.session.missing_otp",
	fault.OTPInvalid:       "identity.session.invalid_otp",
	fault.OTPMalformed:     "identity.session.invalid_otp",
}

var userKeys = map[fault.Code]string{
	fault.AlreadyExists:    "email.taken",
	fault.EmailInvalid:     "email.invalid",
	fault.PasswordTooShort: "password.requirements",
	fault.PasswordTooLong:  "password.requirements",
	fault.PasswordWeak:     "password.weak",
	fault.ReferralUnknown:  "identity.user.referral_doesnt_exist",
}

// SessionsCreate is identity.sessions.create: the same core check as every
// login, throttles included.
func (s *Service) SessionsCreate(r *http.Request, p *identitywire.SessionCreateParams, res *identitywire.Session) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	login := accounts.Login{Kind: store.KindEmail, Norm: accounts.EmailLogin(p.Email), Password: p.Password, IP: c.IP, Code: p.OTPCode}
	u, err := s.Accounts.LogIn(ctx, login)
	if err != nil {
		return barong.Err(err, sessionKeys)
	}
	sess, err := s.Accounts.NewSession(ctx, u.ID, c.IP, c.UserAgent)
	if err != nil {
		return err
	}
	prof, err := s.Accounts.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	res.User = barong.Present(u, prof)
	res.Token, res.ExpiresAt = sess.Token, sess.ExpiresAt.UTC()
	return nil
}

// SessionsDelete is identity.sessions.delete.
func (s *Service) SessionsDelete(r *http.Request, _ *identitywire.Empty, res *bool) error {
	if err := s.Accounts.EndSession(r.Context(), rpc.CallerFrom(r.Context()).SessionHash); err != nil {
		return err
	}
	*res = true
	return nil
}

// UsersCreate is identity.users.create.
// It answers the user object without a session: the email is unverified
// and every dialect refuses a session until it is (accounts.LoginState).
func (s *Service) UsersCreate(r *http.Request, p *identitywire.UserCreateParams, res *identitywire.User) error {
	ctx := r.Context()
	if p.Lang != "" && !validLang(p.Lang) {
		return fault.Field(fault.Invalid, "lang", "two lowercase letters (ISO 639-1)")
	}
	data, err := ParseData(p.Data)
	if err != nil {
		return err
	}
	if p.RefID != "" {
		if !accounts.ValidUID(p.RefID) {
			e := fault.Field(fault.Invalid, "refid", "ID and 10 uppercase hex digits")
			e.Message = "identity.user.invalid_referral_format"
			return e
		}
		if _, err := s.Accounts.UserByUID(ctx, p.RefID); err != nil {
			if fault.CodeOf(err) == fault.NotFound {
				return barong.Err(fault.Field(fault.ReferralUnknown, "refid", "no such user"), userKeys)
			}
			return err
		}
	}
	u, err := s.Accounts.Register(ctx, accounts.Registration{Email: p.Email, Password: p.Password, RequirePassword: true, Lang: p.Lang,
		ReferralUID: p.RefID})
	if err != nil {
		return barong.Err(err, userKeys)
	}
	prof, err := s.Accounts.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	if data != "" {
		// Barong's data is free key/value pairs, the same thing as seed 001's
		// params: one document, so every dialect sees the same pairs.
		if prof, err = s.Accounts.UpdateProfile(ctx, u.ID, nil, func(pr *store.Profile) error {
			pr.Params = data
			return nil
		}); err != nil {
			return err
		}
	}
	// The user exists whatever happens to its code: a code that could not be
	// sent (the 90-second hold, the outbox down) is sent again on request.
	if err := s.Accounts.SendVerification(ctx, u, store.KindEmail); err != nil {
		s.Accounts.Log.Warn().Err(err).Str("user", u.ID).Msg("registration code not sent")
	}
	*res = barong.Present(u, prof)
	return nil
}

// MaxDataKeys bounds the members of a data document.
const MaxDataKeys = 64

// ParseData checks Barong's data param: empty, or a JSON object of at most
// MaxDataKeys members whose values are strings, numbers, booleans or null
// (nesting would let one field hide an unbounded tree). It returns the
// compacted document.
func ParseData(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	bad := fault.Field(fault.Invalid, "data", "a JSON object of at most 64 flat members")
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() || len(m) > MaxDataKeys {
		return "", bad
	}
	for k, v := range m {
		if k == "" || len(k) > 64 {
			return "", bad
		}
		switch t := bytes.TrimSpace(v); {
		case len(t) == 0, t[0] == '{', t[0] == '[':
			return "", bad
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", bad
	}
	return string(out), nil
}

func validLang(l string) bool {
	return len(l) == 2 && l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z'
}

// Configs is identity.configs.
func (s *Service) Configs(_ *http.Request, _ *identitywire.Empty, res *identitywire.ConfigsResult) error {
	res.SessionExpiresIn = int(s.Accounts.Sessions.Idle / time.Second)
	res.CaptchaType = "none"
	res.PasswordMinScore = password.MinScore
	return nil
}

// Version is identity.version.
func (s *Service) Version(_ *http.Request, _ *identitywire.Empty, res *identitywire.VersionResult) error {
	res.Version, res.Git, res.Commit = s.Release, s.Release, s.Commit
	return nil
}

// Time is identity.time.
func (s *Service) Time(_ *http.Request, _ *identitywire.Empty, res *identitywire.TimeResult) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	res.Time = now().Unix()
	return nil
}

// Ping is identity.ping.
func (s *Service) Ping(_ *http.Request, _ *identitywire.Empty, res *identitywire.PingResult) error {
	res.Ping = "pong"
	return nil
}

// PasswordValidate is identity.password.validate: the registration rules
// themselves, so the answer cannot drift from what registration does.
func (s *Service) PasswordValidate(_ *http.Request, p *identitywire.PasswordValidateParams, res *identitywire.PasswordValidateResult) error {
	res.Accepted = password.Check(p.Password) == nil
	if len(p.Password) <= password.MaxBytes {
		res.Score = password.Score(password.Normalize(p.Password))
	}
	return nil
}
