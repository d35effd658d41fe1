package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"partnergate/store"
)

func recoveryHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func totpUser(t *testing.T, s store.Store, id string) {
	t.Helper()
	mustCreate(t, s, store.NewUser{User: store.User{ID: id, Created: base, Updated: base, State: store.StateActive},
		Identifiers: []store.Identifier{email(id)}})
}

func mustUserTOTP(t *testing.T, s store.Store, id string, want bool) {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if u.TOTP != want {
		t.Fatalf("UserByID(%s).TOTP = %v, want %v", id, u.TOTP, want)
	}
	if len(u.Identifiers) != 1 {
		t.Fatalf("the TOTP column changed the identifier rows: %+v", u.Identifiers)
	}
	for _, id2 := range u.Identifiers {
		if byIdent, err := s.UserByIdentifier(t.Context(), id2.Kind, id2.Norm); err != nil || byIdent.TOTP != want {
			t.Fatalf("UserByIdentifier: TOTP = %v, %v; want %v", byIdent.TOTP, err, want)
		}
	}
}

func testTOTP(t *testing.T, s store.Store) {
	ctx := t.Context()
	totpUser(t, s, "u-totp")
	if _, err := s.TOTP(ctx, "u-totp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TOTP before any: %v, want ErrNotFound", err)
	}
	wantErr(t, "PutTOTPSecret for an unknown user", s.PutTOTPSecret(ctx, "nobody", "sealed"), store.ErrNotFound)
	if err := s.PutTOTPSecret(ctx, "u-totp", ""); err == nil {
		t.Fatal("PutTOTPSecret with an empty secret: nil error")
	}
	wantErr(t, "DisableTOTP with none", s.DisableTOTP(ctx, "u-totp"), store.ErrNotFound)
	if ok, err := s.AcceptTOTPStep(ctx, "u-totp", 5); ok || err != nil {
		t.Fatalf("AcceptTOTPStep with no secret: %v, %v", ok, err)
	}

	// Pending: replaceable, not yet enabled, the user's flag off.
	if err := s.PutTOTPSecret(ctx, "u-totp", "sealed-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTOTPSecret(ctx, "u-totp", "sealed-2"); err != nil {
		t.Fatalf("replace a pending secret: %v", err)
	}
	got, err := s.TOTP(ctx, "u-totp")
	if err != nil || got.SecretSealed != "sealed-2" || got.Enabled != nil || got.LastStep != 0 || got.UserID != "u-totp" || got.Created.IsZero() {
		t.Fatalf("pending secret: %+v, %v", got, err)
	}
	mustUserTOTP(t, s, "u-totp", false)
	if ok, err := s.AcceptTOTPStep(ctx, "u-totp", 5); ok || err != nil {
		t.Fatalf("AcceptTOTPStep on a pending secret: %v, %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "u-totp", recoveryHash("r0")); ok || err != nil {
		t.Fatalf("UseRecoveryCode before enable: %v, %v", ok, err)
	}

	// Enable: the step becomes used, codes are stored, the flag is on.
	var hashes []string
	for i := range 10 {
		hashes = append(hashes, recoveryHash(fmt.Sprint("r", i)))
	}
	if _, err := s.EnableTOTP(ctx, "u-totp", 100, []string{"short"}); err == nil {
		t.Fatal("EnableTOTP with a malformed hash: nil error")
	}
	if ok, err := s.EnableTOTP(ctx, "nobody", 100, hashes); ok || err != nil {
		t.Fatalf("EnableTOTP for no secret: %v, %v", ok, err)
	}
	if ok, err := s.EnableTOTP(ctx, "u-totp", 100, hashes); !ok || err != nil {
		t.Fatalf("EnableTOTP: %v, %v", ok, err)
	}
	if ok, err := s.EnableTOTP(ctx, "u-totp", 101, hashes); ok || err != nil {
		t.Fatalf("EnableTOTP twice: %v, %v", ok, err)
	}
	got, err = s.TOTP(ctx, "u-totp")
	if err != nil || got.Enabled == nil || got.LastStep != 100 || got.SecretSealed != "sealed-2" {
		t.Fatalf("enabled secret: %+v, %v", got, err)
	}
	mustUserTOTP(t, s, "u-totp", true)
	wantErr(t, "PutTOTPSecret while enabled", s.PutTOTPSecret(ctx, "u-totp", "sealed-3"), store.ErrAlreadyExists)
	if got, _ := s.TOTP(ctx, "u-totp"); got.SecretSealed != "sealed-2" || got.Enabled == nil {
		t.Fatalf("a refused PutTOTPSecret changed the secret: %+v", got)
	}
	// UpdateUser leaves the flag alone whatever fn returns.
	if _, err := s.UpdateUser(ctx, "u-totp", func(u store.User) (store.User, error) { u.TOTP = false; return u, nil }); err != nil {
		t.Fatal(err)
	}
	mustUserTOTP(t, s, "u-totp", true)

	// Steps: only a newer one is accepted.
	for _, tc := range []struct {
		step int64
		want bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		if ok, err := s.AcceptTOTPStep(ctx, "u-totp", tc.step); ok != tc.want || err != nil {
			t.Fatalf("AcceptTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}

	// Recovery codes: each once, only the user's own.
	totpUser(t, s, "u-other")
	if ok, err := s.UseRecoveryCode(ctx, "u-other", hashes[0]); ok || err != nil {
		t.Fatalf("another user's code: %v, %v", ok, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u-totp"); n != 10 || err != nil {
		t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "u-totp", hashes[3]); !ok || err != nil {
		t.Fatalf("UseRecoveryCode: %v, %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "u-totp", hashes[3]); ok || err != nil {
		t.Fatalf("UseRecoveryCode twice: %v, %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "u-totp", recoveryHash("unknown")); ok || err != nil {
		t.Fatalf("unknown code: %v, %v", ok, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u-totp"); n != 9 || err != nil {
		t.Fatalf("RecoveryCodesLeft after one use = %d, %v", n, err)
	}

	// Disable: secret and codes gone, flag off, a new enrolment possible.
	if err := s.DisableTOTP(ctx, "u-totp"); err != nil {
		t.Fatal(err)
	}
	mustUserTOTP(t, s, "u-totp", false)
	if _, err := s.TOTP(ctx, "u-totp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TOTP after disable: %v", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u-totp"); n != 0 || err != nil {
		t.Fatalf("RecoveryCodesLeft after disable = %d, %v", n, err)
	}
	if ok, _ := s.UseRecoveryCode(ctx, "u-totp", hashes[4]); ok {
		t.Fatal("a recovery code outlived disable")
	}
	if err := s.PutTOTPSecret(ctx, "u-totp", "sealed-4"); err != nil {
		t.Fatalf("enrol again: %v", err)
	}
	if got, _ := s.TOTP(ctx, "u-totp"); got.LastStep != 0 || got.Enabled != nil {
		t.Fatalf("a new enrolment kept old state: %+v", got)
	}

	// Deleting the user takes the secret and its codes.
	if ok, err := s.EnableTOTP(ctx, "u-totp", 200, hashes); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.DeleteUser(ctx, "u-totp"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TOTP(ctx, "u-totp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TOTP after DeleteUser: %v", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, "u-totp"); n != 0 {
		t.Fatalf("recovery codes after DeleteUser: %d", n)
	}
}

// testTOTPParallel: 20 parallel acceptances of one step and 20 parallel
// uses of one recovery code each succeed once.
func testTOTPParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	totpUser(t, s, "u-par")
	if err := s.PutTOTPSecret(ctx, "u-par", "sealed"); err != nil {
		t.Fatal(err)
	}
	h := recoveryHash("only")
	if ok, err := s.EnableTOTP(ctx, "u-par", 10, []string{h}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	var steps, codes atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Go(func() {
			ok, err := s.AcceptTOTPStep(ctx, "u-par", 11)
			if err != nil {
				errs <- err
			}
			if ok {
				steps.Add(1)
			}
		})
		wg.Go(func() {
			ok, err := s.UseRecoveryCode(ctx, "u-par", h)
			if err != nil {
				errs <- err
			}
			if ok {
				codes.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if steps.Load() != 1 || codes.Load() != 1 {
		t.Fatalf("parallel: %d steps and %d recovery codes accepted, want 1 and 1", steps.Load(), codes.Load())
	}
}
