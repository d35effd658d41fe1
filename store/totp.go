package store

import (
	"context"
	"time"
)

// This file holds the contract for a user's second factor (core/otp): one
// TOTP secret per user, sealed by the key ring, and the hashes of the
// single-use recovery codes handed out when it was enabled. Both go when the
// user is deleted (ON DELETE CASCADE); the recovery codes go with the
// secret.

// TOTP is a user's time-based one-time password secret.
type TOTP struct {
	UserID string
	// SecretSealed is the secret sealed by the key ring; the secret itself
	// is never stored.
	SecretSealed string
	// Enabled is when two-factor authentication was turned on; nil while
	// the secret waits for its first code (enrolment).
	Enabled *time.Time
	// LastStep is the last 30-second time step whose code was accepted
	// (RFC 6238's T); a code of that step or an earlier one is refused.
	LastStep int64
	Created  time.Time
}

// TOTPs keeps TOTP secrets and recovery codes. Every decision that must hold
// across gateways (a code's step accepted once, a recovery code used once)
// is a single conditional statement, so two processes can never both win.
type TOTPs interface {
	// PutTOTPSecret stores a new pending secret for userID, replacing a
	// pending one (LastStep starts over at 0). ErrAlreadyExists when 2FA is
	// already enabled for the user; ErrNotFound when the user does not
	// exist; a plain error for an empty sealed secret.
	PutTOTPSecret(ctx context.Context, userID, sealed string) error
	// TOTP returns the user's secret, pending or enabled. ErrNotFound.
	TOTP(ctx context.Context, userID string) (TOTP, error)
	// EnableTOTP turns a pending secret on, records step as its last
	// accepted step and stores the recovery code hashes, in one
	// transaction, only if the secret is pending and its LastStep is below
	// step. false (and nothing changed) when it is not: no secret, already
	// enabled, or the step was used.
	EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) (bool, error)
	// AcceptTOTPStep records step as the last accepted step of an enabled
	// secret if its LastStep is below step. false when it is not (a replay,
	// a code older than one already accepted, or 2FA not enabled).
	AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error)
	// UseRecoveryCode marks the user's unused recovery code of hash used.
	// false when there is none such (unknown, already used, or 2FA off).
	UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error)
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// DisableTOTP removes the user's secret, pending or enabled, and every
	// recovery code. ErrNotFound when there is no secret.
	DisableTOTP(ctx context.Context, userID string) error
}
