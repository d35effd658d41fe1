package resource

import (
	"context"
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/kyc"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/store"
)

// Users serves resource.users.me, .me.delete and .password.update.
type Users struct {
	Accounts *accounts.Service
	KYC      *kyc.Service
}

// Methods declares them.
func (s *Users) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.users.me", Go: "Me", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Returns the signed-in user's Barong user object, its level from its labels."},
		{Name: "resource.users.me.delete", Go: "MeDelete", Access: rpc.SessionUser, RateClass: "login",
			Doc: "Deletes the signed-in user's account, confirmed by its password; ends every session."},
		{Name: "resource.users.password.update", Go: "PasswordUpdate", Access: rpc.SessionUser, RateClass: "login",
			Doc: "Changes the password (old_password, new_password, confirm_password); ends every other session."},
	}
}

// present is Barong's user object with the level its labels give.
func present(ctx context.Context, a *accounts.Service, k *kyc.Service, u store.User) (resourcewire.User, error) {
	p, err := a.Profile(ctx, u.ID)
	if err != nil {
		return resourcewire.User{}, err
	}
	level, err := k.Level(ctx, u)
	if err != nil {
		return resourcewire.User{}, err
	}
	return barong.PresentLevel(u, p, level), nil
}

// Me is resource.users.me.
func (s *Users) Me(r *http.Request, _ *resourcewire.Empty, res *resourcewire.User) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	*res, err = present(ctx, s.Accounts, s.KYC, u)
	return err
}

var meDeleteKeys = map[fault.Code]string{
	fault.WrongCredentials: "resource.user.invalid_password",
}

// MeDelete is resource.users.me.delete: the account and everything tied to
// it go, as seed 000's user.auth.delete_done deletes.
func (s *Users) MeDelete(r *http.Request, p *resourcewire.MeDeleteParams, res *bool) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	if err := s.Accounts.DeleteWithPassword(ctx, c.UserID, p.Password, c.IP); err != nil {
		return barong.Err(err, meDeleteKeys)
	}
	*res = true
	return nil
}

var passwordKeys = map[fault.Code]string{
	fault.WrongCredentials: "resource.password.prev_pass_not_correct",
	fault.PasswordTooShort: "password.requirements",
	fault.PasswordTooLong:  "password.requirements",
	fault.PasswordWeak:     "password.weak",
}

// PasswordUpdate is resource.users.password.update.
func (s *Users) PasswordUpdate(r *http.Request, p *resourcewire.PasswordUpdateParams, res *bool) error {
	ctx := r.Context()
	if p.Lang != "" && !validLang(p.Lang) {
		return fault.Field(fault.Invalid, "lang", "two lowercase letters (ISO 639-1)")
	}
	if p.NewPassword != p.ConfirmPassword {
		e := fault.Field(fault.Invalid, "confirm_password", "does not match new_password")
		e.Message = "resource.password.doesnt_match"
		return e
	}
	if p.NewPassword == p.OldPassword {
		e := fault.Field(fault.Invalid, "new_password", "the same as old_password")
		e.Message = "resource.password.no_change_provided"
		return e
	}
	c := rpc.CallerFrom(ctx)
	if err := s.Accounts.ChangePassword(ctx, accounts.PasswordChange{UserID: c.UserID, Old: p.OldPassword, New: p.NewPassword, KeepSession: c.SessionHash, IP: c.IP}); err != nil {
		return barong.Err(err, passwordKeys)
	}
	*res = true
	return nil
}

func validLang(l string) bool {
	return len(l) == 2 && l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z'
}
