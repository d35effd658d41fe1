// Package otp is partnergate's second factor, the same for every namespace:
// TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, ±1 step) with a secret
// made here and sealed by the key ring, and ten single-use recovery codes
// handed out once when 2FA is enabled and stored as hashes.
//
// A code is accepted once: the step it belongs to is recorded by one
// conditional UPDATE (store.TOTPs.AcceptTOTPStep), so of any number of
// gateways and parallel calls one wins. Every guess counts against the
// user's failure counter through Guard (the login limits of core/accounts)
// and a correct code clears it.
//
// core/accounts calls Verify after a correct password, so that once 2FA is
// on no login in any namespace opens without the code; other packages
// needing a fresh code (API keys) call Verify too.
package otp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// RFC 6238 parameters (SECURITY.md 14).
const (
	Period        = 30 // seconds per step
	Digits        = 6
	Skew          = 1  // steps accepted either side of the current one
	SecretBytes   = 20 // 160 bits
	RecoveryCodes = 10
	// QRSize is the QR code's width and height in pixels (Barong's 300).
	QRSize = 300
	// DefaultIssuer names the service in authenticator apps.
	DefaultIssuer = "partnergate"
)

// Guard throttles guesses at a code per subject; core/accounts' Service is
// one, with the login failure counters and limits (5 free failures, then
// exponential backoff capped at 15 minutes, at most 100 an hour).
type Guard interface {
	// AdmitGuess counts one guess for subject before it is checked and
	// refuses it with fault.Throttled (retryAfter) while backed off.
	AdmitGuess(ctx context.Context, subject string) error
	// ClearGuesses clears the count after a correct code.
	ClearGuesses(ctx context.Context, subject string) error
}

// Sessions ends a user's sessions but one; core/accounts' Service is one.
type Sessions interface {
	EndUserSessions(ctx context.Context, userID, keepHash string) (int, error)
}

// Service is the second factor. Store, Ring and Guard are required.
type Service struct {
	Store store.TOTPs
	Ring  *keyring.Ring
	Guard Guard
	// Sessions, when set, ends every other session of a user who enables
	// 2FA: they were opened with one factor (Barong does the same).
	Sessions Sessions
	// Issuer is the otpauth issuer shown in apps; DefaultIssuer when empty.
	Issuer string
	Now    func() time.Time
	Log    zerolog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) issuer() string {
	if s.Issuer != "" {
		return s.Issuer
	}
	return DefaultIssuer
}

// guessSubject is the failure counter code guesses share, apart from the
// password's so that one cannot spend the other's budget.
func guessSubject(userID string) string { return "totp:" + userID }

func sealContext(userID string) string { return "totp:" + userID }

func (s *Service) ready() error {
	if s.Store == nil || s.Ring == nil || s.Guard == nil {
		return errors.New("otp: service not configured (store, ring and guard are required)")
	}
	return nil
}

// Enrolment is what Generate hands the user once: the otpauth URL (with the
// secret in it) and the same as a PNG QR code.
type Enrolment struct {
	URL string
	PNG []byte
}

// Enabled reports whether 2FA is on for userID.
func (s *Service) Enabled(ctx context.Context, userID string) (bool, error) {
	rec, err := s.Store.TOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, core.StoreError("otp: read secret", err)
	}
	return rec.Enabled != nil, nil
}

// accountName is the label an app shows for u: its email, else phone, else
// username, else its id.
func accountName(u store.User) string {
	for _, kind := range []string{store.KindEmail, store.KindPhone, store.KindUsername} {
		if id, ok := u.Identifier(kind); ok {
			return id.Value
		}
	}
	return u.ID
}

// Generate makes a new secret for u, replacing one not yet enabled, and
// returns it as an otpauth URL and a QR code. fault.OTPAlreadyEnabled when
// 2FA is on: an enabled secret is only replaced after Disable.
func (s *Service) Generate(ctx context.Context, u store.User) (Enrolment, error) {
	if err := s.ready(); err != nil {
		return Enrolment{}, err
	}
	if on, err := s.Enabled(ctx, u.ID); err != nil {
		return Enrolment{}, err
	} else if on {
		return Enrolment{}, fault.New(fault.OTPAlreadyEnabled)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.issuer(), AccountName: accountName(u), Period: Period, SecretSize: SecretBytes,
		Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1, Rand: rand.Reader,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("otp: generate: %w", err)
	}
	sealed, err := s.Ring.Seal([]byte(key.Secret()), sealContext(u.ID))
	if err != nil {
		return Enrolment{}, err
	}
	err = s.Store.PutTOTPSecret(ctx, u.ID, sealed)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return Enrolment{}, fault.New(fault.OTPAlreadyEnabled)
	case errors.Is(err, store.ErrNotFound):
		return Enrolment{}, fault.New(fault.NotFound)
	case err != nil:
		return Enrolment{}, core.StoreError("otp: store secret", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return Enrolment{}, fmt.Errorf("otp: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("otp: qr code: %w", err)
	}
	s.audit(ctx, "otp.generated", u.ID)
	return Enrolment{URL: key.URL(), PNG: buf.Bytes()}, nil
}

// codeAt is the code of secret (base32) for counter, with digits digits.
func codeAt(secret string, counter uint64, digits potp.Digits) (string, error) {
	return hotp.GenerateCodeCustom(secret, counter, hotp.ValidateOpts{Digits: digits, Algorithm: potp.AlgorithmSHA1})
}

// matchStep returns the earliest step within ±Skew of now, after lastStep,
// whose code is code. Every candidate is computed and compared in constant
// time, so the answer's time does not say which step matched. replayed is
// true when the code matched only steps already used.
func matchStep(secret, code string, now time.Time, lastStep int64) (step int64, ok, replayed bool, err error) {
	cur := now.Unix() / Period
	for d := int64(-Skew); d <= Skew; d++ {
		c := cur + d
		if c < 1 {
			continue
		}
		want, err := codeAt(secret, uint64(c), potp.DigitsSix)
		if err != nil {
			return 0, false, false, fmt.Errorf("otp: code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if c <= lastStep {
			replayed = true
			continue
		}
		if !ok {
			step, ok = c, true
		}
	}
	return step, ok, replayed && !ok, nil
}

func (s *Service) secret(rec store.TOTP) (string, error) {
	plain, err := s.Ring.Open(rec.SecretSealed, sealContext(rec.UserID))
	if err != nil {
		return "", fmt.Errorf("otp: open secret of %s: %w", rec.UserID, err)
	}
	return string(plain), nil
}

// Enable turns 2FA on for userID with a code from the secret Generate made
// and returns the ten recovery codes, the only time they are shown. Only a
// 6-digit code enables. Every other session of the user but keepSession
// (a session token hash, or "jwt:<sid>") is ended. Faults:
// fault.OTPNotGenerated, OTPAlreadyEnabled, OTPRequired, OTPMalformed,
// OTPInvalid, Throttled.
func (s *Service) Enable(ctx context.Context, userID, keepSession, code string) ([]string, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	c, err := ParseCode(code)
	if err != nil {
		return nil, err
	}
	if c.Kind != KindTOTP {
		return nil, fault.New(fault.OTPMalformed)
	}
	rec, err := s.Store.TOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.OTPNotGenerated)
	}
	if err != nil {
		return nil, core.StoreError("otp: read secret", err)
	}
	if rec.Enabled != nil {
		return nil, fault.New(fault.OTPAlreadyEnabled)
	}
	if err := s.Guard.AdmitGuess(ctx, guessSubject(userID)); err != nil {
		return nil, err
	}
	secret, err := s.secret(rec)
	if err != nil {
		return nil, err
	}
	step, ok, _, err := matchStep(secret, c.Canon, s.now(), rec.LastStep)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.audit(ctx, "otp.failed", userID, "action", "enable")
		return nil, fault.New(fault.OTPInvalid)
	}
	codes := make([]string, RecoveryCodes)
	hashes := make([]string, RecoveryCodes)
	for i := range codes {
		if codes[i], err = newRecoveryCode(); err != nil {
			return nil, err
		}
		pc, _ := ParseCode(codes[i])
		hashes[i] = recoveryHash(userID, pc.Canon)
	}
	done, err := s.Store.EnableTOTP(ctx, userID, step, hashes)
	if err != nil {
		return nil, core.StoreError("otp: enable", err)
	}
	if !done {
		// Another call won: enabled meanwhile, or took this step.
		if on, err := s.Enabled(ctx, userID); err != nil {
			return nil, err
		} else if on {
			return nil, fault.New(fault.OTPAlreadyEnabled)
		}
		return nil, fault.New(fault.OTPInvalid)
	}
	s.clear(ctx, userID)
	s.audit(ctx, "otp.enabled", userID)
	if s.Sessions != nil {
		if _, err := s.Sessions.EndUserSessions(ctx, userID, keepSession); err != nil {
			return nil, fmt.Errorf("otp: end other sessions: %w", err)
		}
	}
	return codes, nil
}

// Verify checks a second-factor code of userID, a 6-digit TOTP code or an
// unused recovery code, and uses it up: a TOTP code's step (and every
// earlier one) is never accepted again, a recovery code never again.
// Faults: fault.OTPRequired (empty), OTPMalformed, OTPNotEnabled,
// OTPInvalid (wrong or used), Throttled.
func (s *Service) Verify(ctx context.Context, userID, code string) error {
	if err := s.ready(); err != nil {
		return err
	}
	c, err := ParseCode(code)
	if err != nil {
		return err
	}
	rec, err := s.Store.TOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Enabled == nil) {
		return fault.New(fault.OTPNotEnabled)
	}
	if err != nil {
		return core.StoreError("otp: read secret", err)
	}
	if err := s.Guard.AdmitGuess(ctx, guessSubject(userID)); err != nil {
		return err
	}
	ok, err := s.use(ctx, rec, c)
	if err != nil {
		return err
	}
	if !ok {
		s.audit(ctx, "otp.failed", userID, "kind", c.Kind)
		return fault.New(fault.OTPInvalid)
	}
	s.clear(ctx, userID)
	s.audit(ctx, "otp.verified", userID, "kind", c.Kind)
	return nil
}

// use checks c against rec and, when it matches, takes it atomically.
func (s *Service) use(ctx context.Context, rec store.TOTP, c Code) (bool, error) {
	if c.Kind == KindRecovery {
		ok, err := s.Store.UseRecoveryCode(ctx, rec.UserID, recoveryHash(rec.UserID, c.Canon))
		if err != nil {
			return false, core.StoreError("otp: use recovery code", err)
		}
		return ok, nil
	}
	secret, err := s.secret(rec)
	if err != nil {
		return false, err
	}
	step, ok, _, err := matchStep(secret, c.Canon, s.now(), rec.LastStep)
	if err != nil || !ok {
		return false, err
	}
	// The conditional UPDATE decides between parallel calls with this code.
	taken, err := s.Store.AcceptTOTPStep(ctx, rec.UserID, step)
	if err != nil {
		return false, core.StoreError("otp: accept step", err)
	}
	return taken, nil
}

// Disable turns 2FA off after a valid code (TOTP or recovery), removing the
// secret and every recovery code. Faults as Verify.
func (s *Service) Disable(ctx context.Context, userID, code string) error {
	if err := s.Verify(ctx, userID, code); err != nil {
		return err
	}
	if err := s.Store.DisableTOTP(ctx, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return core.StoreError("otp: disable", err)
	}
	s.audit(ctx, "otp.disabled", userID)
	return nil
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	n, err := s.Store.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return 0, core.StoreError("otp: count recovery codes", err)
	}
	return n, nil
}

func (s *Service) clear(ctx context.Context, userID string) {
	if err := s.Guard.ClearGuesses(ctx, guessSubject(userID)); err != nil {
		s.Log.Warn().Err(err).Str("user", userID).Msg("otp: clear guess counter")
	}
}

// audit writes one audit event, as core/accounts does. Never a code or a
// secret: events name users by id.
func (s *Service) audit(ctx context.Context, event, userID string, extra ...string) {
	ev := s.Log.Info()
	if ev == nil {
		return
	}
	c := core.CallFrom(ctx)
	ev = ev.Str("event", event).Str("user", userID).Str("actor", c.Actor()).
		Str("ip", c.IP).Str("rid", c.RequestID)
	for i := 0; i+1 < len(extra); i += 2 {
		ev = ev.Str(extra[i], extra[i+1])
	}
	ev.Msg("audit")
}
