// Package account is partnergate's domain core for accounts: registering a
// user, checking a login with its brute-force throttles, and sessions. Every
// seed namespace calls these functions; none re-implements them.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/codes"
	"partnergate/core/events"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
)

// Throttle settings for logins (SECURITY.md 5).
type Throttle struct {
	// FreeFailures is how many failures an account may have before backoff.
	FreeFailures int64
	// IPFreeFailures is the same for one client IP over every account.
	IPFreeFailures int64
	// MaxBackoff caps the exponential backoff.
	MaxBackoff time.Duration
	// HourlyAttempts caps failed attempts per account within Window.
	HourlyAttempts int64
	// Window is how long failures are remembered after the last one.
	Window time.Duration
	// KeyFailures is how many failed logins one partner key may make in
	// each KeyWindow before its logins are refused until the window ends.
	// A partner's calls carry its backend's address, not its users', so
	// this budget stands in for the per-IP counter there.
	KeyFailures int64
	KeyWindow   time.Duration
}

// DefaultThrottle is the documented default.
var DefaultThrottle = Throttle{FreeFailures: 5, IPFreeFailures: 20, MaxBackoff: 15 * time.Minute, HourlyAttempts: 100, Window: time.Hour,
	KeyFailures: 1000, KeyWindow: 10 * time.Minute}

// SessionPolicy sets session lifetimes (SECURITY.md 11).
type SessionPolicy struct {
	Idle     time.Duration
	Absolute time.Duration
}

// DefaultSessionPolicy is the documented default.
var DefaultSessionPolicy = SessionPolicy{Idle: 14 * 24 * time.Hour, Absolute: 30 * 24 * time.Hour}

// State is the short-lived state the account core keeps: sessions, login
// failure counters, resend holds and pending identifier changes. It is a
// union of store's interfaces so the contract stays in one place.
type State interface {
	store.Sessions
	store.FailureCounters
	store.Holds
	store.PendingChanges
}

// Service is the account core. Its fields are its dependencies, set in cmd.
type Service struct {
	Store    store.Store
	KV       State
	Hasher   *password.Hasher
	Throttle Throttle
	Sessions SessionPolicy
	Codes    *codes.Service
	Events   events.Publisher
	// Tokens, when set, ends token sessions along with opaque ones.
	Tokens TokenSessions
	// Activity, when set, receives the user-bound audit events (logins,
	// resets, changes) as the activity trail every dialect reads.
	Activity *activity.Recorder
	Now      func() time.Time
	Log      zerolog.Logger

	// SecondFactor checks the code of a user with 2FA on (core/otp). A
	// login of such a user fails closed while it is unset.
	SecondFactor SecondFactor

	// uids makes uids; nil is NewUID (tests make collisions with it).
	uids func() (string, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Registration is what Register needs: an email, a phone, or both; the
// password may be left out where a seed allows (the user then logs in with
// codes) unless RequirePassword is set.
type Registration struct {
	Email           string
	Phone           string
	Password        string
	RequirePassword bool
	FirstName       string
	LastName        string
	Lang            string
	// ReferralUID is the uid of the user who referred this one (seed 002's
	// refid), already checked by the caller; "" for none.
	ReferralUID string
}

// Register validates, hashes and stores a new user. It returns fault.Invalid
// when neither email nor phone is given, fault.EmailInvalid or
// fault.PhoneInvalid, a password policy fault, or fault.AlreadyExists when an
// identifier is taken (emails compared case-insensitively).
func (s *Service) Register(ctx context.Context, reg Registration) (store.User, error) {
	if reg.Email == "" && reg.Phone == "" {
		return store.User{}, &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(),
			Fields: map[string]string{"email": "email or phone required", "phone": "email or phone required"}}
	}
	var idents []store.Identifier
	var inputs []string
	if reg.Email != "" {
		email, err := ParseEmail(reg.Email)
		if err != nil {
			return store.User{}, err
		}
		idents = append(idents, store.Identifier{Kind: store.KindEmail, Value: email.Value, Norm: email.Norm})
		inputs = append(inputs, email.Value)
	}
	if reg.Phone != "" {
		phone, err := ParsePhone(reg.Phone)
		if err != nil {
			return store.User{}, err
		}
		idents = append(idents, store.Identifier{Kind: store.KindPhone, Value: phone.Value, Norm: phone.Norm})
		inputs = append(inputs, phone.Value)
	}
	if reg.Password != "" || reg.RequirePassword {
		if err := password.Check(reg.Password, append(inputs, reg.FirstName, reg.LastName)...); err != nil {
			return store.User{}, err
		}
	}
	// Reserve a hash before the round trips below: an overloaded hasher
	// refuses now rather than after them and the whole slot wait.
	release := func() {}
	if reg.Password != "" {
		r, err := s.Hasher.Reserve(ctx)
		if err != nil {
			return store.User{}, err
		}
		release = r
		defer r()
	}
	// Look before hashing: a taken identifier costs no argon2 time. The
	// unique index still decides races.
	for _, id := range idents {
		if _, err := s.Store.UserByIdentifier(ctx, id.Kind, id.Norm); err == nil {
			return store.User{}, fault.New(fault.AlreadyExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.User{}, core.StoreError("accounts: look up "+id.Kind, err)
		}
	}
	var hash string
	if reg.Password != "" {
		h, err := s.Hasher.Hash(ctx, reg.Password)
		release()
		if err != nil {
			return store.User{}, err
		}
		hash = h
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.User{}, fmt.Errorf("account: new id: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	lang := reg.Lang
	if lang == "" {
		lang = "en"
	}
	u := store.User{ID: id.String(), Created: now, Updated: now, State: store.StateActive, IsNew: true, Lang: lang,
		ReferralUID: reg.ReferralUID}
	p := store.Profile{FirstName: reg.FirstName, LastName: reg.LastName, Sex: -1}
	for i := range idents {
		idents[i].UserID = u.ID
	}
	// Every user gets a Barong uid, whichever namespace registers it. A
	// taken uid (the store only says "already exists") is told apart from a
	// taken identifier by looking it up, and retried with a fresh one.
	for attempt := 1; ; attempt++ {
		newUID := NewUID
		if s.uids != nil {
			newUID = s.uids
		}
		if u.UID, err = newUID(); err != nil {
			return store.User{}, err
		}
		err = s.Store.CreateUser(ctx, store.NewUser{User: u, Profile: p, Identifiers: idents, PasswordHash: hash})
		if !errors.Is(err, store.ErrAlreadyExists) {
			break
		}
		taken, lerr := s.uidTaken(ctx, u.UID)
		if lerr != nil {
			return store.User{}, lerr
		}
		if !taken || attempt == uidAttempts {
			return store.User{}, fault.New(fault.AlreadyExists)
		}
	}
	if err != nil {
		return store.User{}, core.StoreError("accounts: create user", err)
	}
	u.Identifiers = idents
	s.audit(ctx, "user.registered", u.ID)
	return u, nil
}

// Login is a login attempt: an identifier of some kind and a password.
type Login struct {
	Kind     string // store.KindEmail, KindPhone or KindUsername
	Norm     string // normalised identifier
	Password string
	IP       string
	// Key is the partner key making the check, if any: its failures count
	// against the key's budget (Throttle.KeyFailures).
	Key string
	// Code is the second-factor code (TOTP or recovery code); required,
	// after a correct password, when the user has 2FA on, ignored when not.
	Code string
}

// LogIn is what every dialect that opens a session calls: the password
// check and the second factor (CheckPassword), then the account's state
// (LoginState).
func (s *Service) LogIn(ctx context.Context, l Login) (store.User, error) {
	u, err := s.CheckPassword(ctx, l)
	if err != nil {
		return store.User{}, err
	}
	if err := LoginState(u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// CheckPassword is every login's core: throttles, the argon2id verify (a
// dummy one for unknown users), failure counting, the second factor and the
// user's state, in an order that tells an attacker nothing. Unknown user and
// wrong password are the same fault.WrongCredentials; whether 2FA is on
// (fault.OTPRequired, OTPInvalid for l.Code) and a disabled user are
// revealed only after a correct password. Every path that logs a user in
// by password, in any namespace, goes through here, so once 2FA is on no
// dialect is a bypass.
func (s *Service) CheckPassword(ctx context.Context, l Login) (store.User, error) {
	// Admission to hashing comes first, before any store round trip and any
	// per-user work, so an overloaded hasher refuses at once and alike for
	// every login, known or not.
	release, err := s.Hasher.Reserve(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer release()
	u, err := s.Store.UserByIdentifier(ctx, l.Kind, l.Norm)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, core.StoreError("accounts: look up login", err)
	}
	// Unknown logins get counters of their own name so they throttle exactly
	// like known ones.
	subject := "u:" + u.ID
	if !known {
		subject = "x:" + l.Kind + ":" + l.Norm
	}
	keyBudget := ""
	if l.Key != "" && s.Throttle.KeyFailures > 0 && s.Throttle.KeyWindow > 0 {
		// Fixed windows: a key's count never carries over, so a busy
		// partner's steady typos cannot build up into a lockout.
		now := s.now()
		start := now.Truncate(s.Throttle.KeyWindow)
		keyBudget = "key:" + l.Key + ":" + strconv.FormatInt(start.Unix(), 10)
		f, err := s.KV.Failures(ctx, keyBudget)
		if err != nil {
			return store.User{}, core.StoreError("accounts: read key failures", err)
		}
		if f.Count >= s.Throttle.KeyFailures {
			s.audit(ctx, "login.key_budget", "", "key", l.Key)
			return store.User{}, fault.Throttle(start.Add(s.Throttle.KeyWindow).Sub(now))
		}
	}
	if err := s.admitLogin(ctx, subject, l.IP); err != nil {
		return store.User{}, err
	}
	// Unknown logins read a credential too (u.ID is empty, so none is
	// found): the round trip a known login pays must not tell them apart.
	var hash string
	c, err := s.Store.Credential(ctx, u.ID)
	switch {
	case err == nil:
		hash = c.PasswordHash
	case !errors.Is(err, store.ErrNotFound):
		return store.User{}, core.StoreError("accounts: read credential", err)
	}
	ok, rehash, err := s.Hasher.Verify(ctx, l.Password, hash)
	release() // the reserved hash is done; the rest is round trips
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		// The account's counter already holds this attempt (admitLogin).
		if err := s.recordIPFailure(ctx, l.IP); err != nil {
			return store.User{}, err
		}
		if keyBudget != "" {
			if _, err := s.KV.AddFailure(ctx, keyBudget, s.Throttle.KeyWindow); err != nil {
				return store.User{}, core.StoreError("accounts: count key failure", err)
			}
		}
		s.audit(ctx, "login.failed", u.ID)
		return store.User{}, fault.New(fault.WrongCredentials)
	}
	if err := s.KV.ResetFailures(ctx, subject); err != nil {
		return store.User{}, core.StoreError("accounts: reset failures", err)
	}
	if rehash {
		// Not reserved: a rehash follows a verify of old parameters, rare,
		// and still waits for a slot like any hash.
		if h, err := s.Hasher.Hash(ctx, l.Password); err == nil {
			if err := s.Store.SetPasswordHash(ctx, u.ID, h); err != nil {
				s.Log.Warn().Err(err).Str("user", u.ID).Msg("rehash password")
			}
		}
	}
	// The password was right, so its counter is clear; code guesses count
	// against a counter of their own (AdmitGuess).
	if err := s.RequireSecondFactor(ctx, u, l.Code); err != nil {
		return store.User{}, err
	}
	if u.State == store.StateDisabled {
		return store.User{}, fault.New(fault.UserDisabled)
	}
	s.audit(ctx, "login.succeeded", u.ID)
	return u, nil
}

// admitLogin refuses a login that is backed off, per account or per IP, or
// over the hourly cap. It fails closed when Redis is down.
func (s *Service) admitLogin(ctx context.Context, subject, ip string) error {
	t := s.Throttle
	now := s.now()
	f, err := s.KV.Failures(ctx, subject)
	if err != nil {
		return core.StoreError("accounts: read failures", err)
	}
	if wait := backoff(f, t.FreeFailures, t.MaxBackoff, now); wait > 0 {
		s.audit(ctx, "login.backoff", subjectUser(subject))
		return fault.Throttle(wait)
	}
	if ip != "" {
		fi, err := s.KV.Failures(ctx, "ip:"+ip)
		if err != nil {
			return core.StoreError("accounts: read ip failures", err)
		}
		if wait := backoff(fi, t.IPFreeFailures, t.MaxBackoff, now); wait > 0 {
			return fault.Throttle(wait)
		}
	}
	// Backoff alone already keeps an account far below the hourly cap; the
	// cap holds even if the backoff settings are loosened.
	if f.Count >= t.HourlyAttempts {
		return fault.Throttle(f.Last.Add(t.Window).Sub(now))
	}
	// Count the attempt before its password is checked (a success clears
	// the count again). The checks above read the counter, and concurrent
	// attempts would all read the same value: 100 at once would all pass a
	// backoff meant to stop the sixth. The increment is atomic, so each
	// attempt gets a count of its own; past the free failures (or the
	// hourly cap) only an attempt whose reading was still current, with no
	// other attempt counted in between, may go on. One refused this way
	// stays counted: it was an attempt, made during a burst.
	n, err := s.KV.AddFailure(ctx, subject, t.Window)
	if err != nil {
		return core.StoreError("accounts: count attempt", err)
	}
	if n.Count-1 != f.Count && (n.Count > t.FreeFailures || n.Count > t.HourlyAttempts) {
		s.audit(ctx, "login.backoff", subjectUser(subject))
		return fault.Throttle(max(backoff(n, t.FreeFailures, t.MaxBackoff, now), time.Second))
	}
	return nil
}

// recordIPFailure counts a failed password against the client IP. Unlike
// the account's, the IP's count is taken after the check: a success must
// not count against an address many users may share.
func (s *Service) recordIPFailure(ctx context.Context, ip string) error {
	if ip != "" {
		if _, err := s.KV.AddFailure(ctx, "ip:"+ip, s.Throttle.Window); err != nil {
			return core.StoreError("accounts: count ip failure", err)
		}
	}
	return nil
}

func subjectUser(subject string) string {
	if len(subject) > 2 && subject[:2] == "u:" {
		return subject[2:]
	}
	return ""
}

// backoff is how long to wait after f's last failure: nothing up to free
// failures, then 1 s doubling with each further failure, capped.
func backoff(f store.Failures, free int64, max time.Duration, now time.Time) time.Duration {
	if f.Count < free {
		return 0
	}
	d := max
	if shift := f.Count - free; shift < 30 {
		d = min(time.Second<<shift, max)
	}
	if wait := f.Last.Add(d).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

// User returns a user by id, or fault.NotFound.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	return readUser(ctx, id, s.Store.UserByID)
}

// readUser reads a user through read and maps the store's errors.
func readUser(ctx context.Context, id string, read func(context.Context, string) (store.User, error)) (store.User, error) {
	u, err := read(ctx, id)
	if err != nil {
		return store.User{}, userFault(err)
	}
	return u, nil
}

// userFault maps a store error of a user read to its fault.
func userFault(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound)
	}
	return core.StoreError("accounts: read user", err)
}

// Profile returns a user's profile, or fault.NotFound.
func (s *Service) Profile(ctx context.Context, userID string) (store.Profile, error) {
	p, err := s.Store.Profile(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Profile{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.Profile{}, core.StoreError("accounts: read profile", err)
	}
	return p, nil
}

// userCache is what a Store offers when it keeps short-lived copies of users
// (store/usercache): the same store's writes clear them, which is why the
// copy is found on Store rather than configured beside it.
type userCache interface {
	CachedUser(ctx context.Context, id string) (store.User, store.Profile, error)
}

// SessionUser is User and Profile for the hot path of session checks: it
// reads through the store's cached copy when it keeps one. Never use it for
// permission decisions; those read the row.
func (s *Service) SessionUser(ctx context.Context, id string) (store.User, store.Profile, error) {
	if c, ok := s.Store.(userCache); ok {
		u, p, err := c.CachedUser(ctx, id)
		if err != nil {
			return store.User{}, store.Profile{}, userFault(err)
		}
		return u, p, nil
	}
	u, err := s.User(ctx, id)
	if err != nil {
		return store.User{}, store.Profile{}, err
	}
	p, err := s.Profile(ctx, id)
	if err != nil {
		return store.User{}, store.Profile{}, err
	}
	return u, p, nil
}
