package accounts_test

import (
	"testing"

	"partnergate/core/accounts"
	"partnergate/core/fault"
)

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	const email, pw, next = "change@example.com", "correct horse battery staple", "another fine passphrase 7"
	u := e.register(t, email, pw)
	e.secret(next)
	for _, tc := range []struct {
		name     string
		old, new string
		code     fault.Code
		field    string
	}{
		{"old missing", "", next, fault.Invalid, accounts.FieldOldPassword},
		{"new missing", pw, "", fault.Invalid, accounts.FieldNewPassword},
		{"wrong old", "wrong password!!", next, fault.WrongCredentials, accounts.FieldOldPassword},
		{"new too short", pw, "short", fault.PasswordTooShort, accounts.FieldNewPassword},
		{"new is the email", pw, email, fault.PasswordWeak, accounts.FieldNewPassword},
		{"same", pw, pw, fault.Invalid, accounts.FieldNewPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.ChangePassword(t.Context(), accounts.PasswordChange{UserID: u.ID, Old: tc.old, New: tc.new})
			wantCode(t, tc.name, err, tc.code)
			if fe, _ := fault.As(err); fe.Fields[tc.field] == "" {
				t.Errorf("no field %q in %v", tc.field, fe.Fields)
			}
		})
	}
	// Nothing changed: the old password still logs in.
	if _, err := e.login(t, email, pw, ""); err != nil {
		t.Fatalf("old password after refusals: %v", err)
	}
	wantCode(t, "unknown user", e.svc.ChangePassword(t.Context(), accounts.PasswordChange{UserID: "nobody", Old: pw, New: next}), fault.NotFound)
	wantCode(t, "change", e.svc.ChangePassword(t.Context(), accounts.PasswordChange{UserID: u.ID, Old: pw, New: next}), 0)
	wantCode(t, "old after change", func() error { _, err := e.login(t, email, pw, ""); return err }(), fault.WrongCredentials)
	if _, err := e.login(t, email, next, ""); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

// TestChangePasswordThrottled: wrong current passwords count against the
// account like failed logins, so a stolen session cannot guess freely.
func TestChangePasswordThrottled(t *testing.T) {
	e := newEnv(t)
	const email, pw = "guess@example.com", "correct horse battery staple"
	u := e.register(t, email, pw)
	c := accounts.PasswordChange{UserID: u.ID, Old: "wrong password!!", New: "another fine passphrase 7"}
	for range accounts.DefaultThrottle.FreeFailures {
		wantCode(t, "wrong old", e.svc.ChangePassword(t.Context(), c), fault.WrongCredentials)
	}
	wantThrottled(t, "past the free failures", e.svc.ChangePassword(t.Context(), c))
	_, err := e.login(t, email, pw, "")
	wantThrottled(t, "login shares the count", err)
}

func TestValidateRegistration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reg    accounts.Registration
		fields []string
	}{
		{"ok", accounts.Registration{Email: "a@example.com", Password: "correct horse battery staple", RequirePassword: true}, nil},
		{"nothing", accounts.Registration{}, []string{"email", "phone"}},
		{"all bad", accounts.Registration{Email: "nope", Phone: "+1", Password: "x", RequirePassword: true}, []string{"email", "phone", "password"}},
		{"password required", accounts.Registration{Phone: "+442071838750", RequirePassword: true}, []string{"password"}},
		{"password optional", accounts.Registration{Phone: "+442071838750"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := accounts.ValidateRegistration(tc.reg)
			if tc.fields == nil {
				wantCode(t, tc.name, err, 0)
				return
			}
			wantCode(t, tc.name, err, fault.Invalid)
			fe, _ := fault.As(err)
			if len(fe.Fields) != len(tc.fields) {
				t.Fatalf("fields %v, want %v", fe.Fields, tc.fields)
			}
			for _, f := range tc.fields {
				if fe.Fields[f] == "" {
					t.Errorf("no field %q in %v", f, fe.Fields)
				}
			}
		})
	}
}
