package user

import (
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Auth serves user.auth.* except block and websocket.
type Auth struct {
	Accounts *accounts.Service
}

// Methods declares them.
func (a *Auth) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.auth.registration", Go: "Registration", Access: rpc.Public, RateClass: "register",
			Doc: "Registers a user by email and/or phone and sends a code to each; returns the user id."},
		{Name: "user.auth.verify", Go: "Verify", Access: rpc.Public, RateClass: "code", OpensSession: true,
			Doc: "Checks registration codes (user_id with email_code/phone_code) or, with a session, the code of a changed email or phone; returns the user and a session."},
		{Name: "user.auth.resend", Go: "Resend", Access: rpc.Public, RateClass: "code",
			Doc: "Sends a code again: registration (user_id, type), recovery_token, deletion_token, or with a session the pending change."},
		{Name: "user.auth.login", Go: "Login", Access: rpc.Public, RateClass: "login", OpensSession: true, Positional: []string{"login", "password", "otp_code"},
			Doc: "Logs in by email, phone or username and password (otp_code when 2FA is on); returns the user and a session."},
		{Name: "user.auth.check", Go: "Check", Access: rpc.SessionUser, RateClass: rpc.NoLimit,
			Doc: "Returns the user of the current session, or the state that stops it."},
		{Name: "user.auth.recovery", Go: "Recovery", Access: rpc.Public, RateClass: "code", Positional: []string{"login"},
			Doc: "Sends an access recovery code; returns the recovery token and the channel used."},
		{Name: "user.auth.recovery_done", Go: "RecoveryDone", Access: rpc.Public, RateClass: "code", OpensSession: true, Positional: []string{"token", "code"},
			Doc: "Completes recovery with the token and code; returns the user and a session."},
		{Name: "user.auth.delete", Go: "Delete", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Requests deletion of the own account: sends a confirmation code."},
		{Name: "user.auth.delete_done", Go: "DeleteDone", Access: rpc.SessionUser, RateClass: "code", Positional: []string{"code"},
			Doc: "Confirms deletion with the code: deletes the account and everything tied to it."},
	}
}

// Registration is user.auth.registration.
func (a *Auth) Registration(r *http.Request, p *userwire.RegistrationParams, res *string) error {
	ctx := r.Context()
	if p.Lang != "" && !validLang(p.Lang) {
		return fault.Field(fault.Invalid, "lang", "not in the language dictionary")
	}
	u, err := a.Accounts.Register(ctx, accounts.Registration{
		Email: p.Email, Phone: p.Phone, Password: p.Password, FirstName: p.Name, LastName: p.Surname, Lang: p.Lang,
	})
	if err != nil {
		return err
	}
	// The user exists now, whatever happens to its codes: failing the call
	// would leave the client without the user_id that user.auth.resend
	// needs. A code that could not be sent (the 90-second hold of an
	// address just used, the outbox down) is sent again by resend.
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		if _, ok := u.Identifier(kind); ok {
			if err := a.Accounts.SendVerification(ctx, u, kind); err != nil {
				a.Accounts.Log.Warn().Err(err).Str("user", u.ID).Str("channel", kind).Msg("registration code not sent; resend will")
			}
		}
	}
	*res = u.ID
	return nil
}

// Verify is user.auth.verify.
func (a *Auth) Verify(r *http.Request, p *userwire.VerifyParams, res **userwire.Object) error {
	ctx := r.Context()
	c := rpc.CallerFrom(ctx)
	if p.Code != "" {
		if c.Kind != rpc.CallerUser {
			return fault.New(fault.Unauthenticated)
		}
		u, err := a.Accounts.ConfirmChange(ctx, c.UserID, p.Code)
		if err != nil {
			return err
		}
		pr, err := a.Accounts.Profile(ctx, u.ID)
		if err != nil {
			return err
		}
		*res = object(u, pr)
		return nil
	}
	if p.UserID == "" || (p.EmailCode == "" && p.PhoneCode == "") {
		return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(),
			Fields: map[string]string{"user_id": "required with email_code and/or phone_code"}}
	}
	u, err := a.Accounts.Verify(ctx, p.UserID, map[string]string{store.KindEmail: p.EmailCode, store.KindPhone: p.PhoneCode})
	if err != nil {
		return err
	}
	// The codes proved the channels (that stands); the session they come
	// with needs the second factor too once the user has turned it on.
	if err := a.Accounts.RequireSecondFactor(ctx, u, p.OTPCode); err != nil {
		return err
	}
	return a.logIn(r, u, res)
}

// logIn ends every flow that hands out a session: the state check, then a
// fresh token.
func (a *Auth) logIn(r *http.Request, u store.User, res **userwire.Object) error {
	if err := accounts.LoginState(u); err != nil {
		return err
	}
	pr, err := a.Accounts.Profile(r.Context(), u.ID)
	if err != nil {
		return err
	}
	c := rpc.CallerFrom(r.Context())
	s, err := a.Accounts.NewSession(r.Context(), u.ID, c.IP, c.UserAgent)
	if err != nil {
		return err
	}
	o := object(u, pr)
	o.Session = &userwire.Session{Token: s.Token, ExpiresAt: s.ExpiresAt}
	*res = o
	return nil
}

// Resend is user.auth.resend.
func (a *Auth) Resend(r *http.Request, p *userwire.ResendParams, res *bool) error {
	ctx := r.Context()
	var err error
	switch {
	case p.UserID != "":
		if p.Type != store.KindEmail && p.Type != store.KindPhone {
			return fault.Field(fault.Invalid, "type", `"email" or "phone"`)
		}
		u, uerr := a.Accounts.User(ctx, p.UserID)
		if uerr != nil {
			return uerr
		}
		err = a.Accounts.SendVerification(ctx, u, p.Type)
	case p.RecoveryToken != "":
		err = a.Accounts.ResendFor(ctx, codes.Recovery, p.RecoveryToken)
	case p.DeletionToken != "":
		err = a.Accounts.ResendFor(ctx, codes.Deletion, p.DeletionToken)
	default:
		c := rpc.CallerFrom(ctx)
		if c.Kind != rpc.CallerUser {
			return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(),
				Fields: map[string]string{"user_id": "user_id and type, recovery_token, deletion_token, or a session"}}
		}
		err = a.Accounts.ResendChange(ctx, c.UserID)
	}
	if err != nil {
		return err
	}
	*res = true
	return nil
}

// Login is user.auth.login: the same core check as every login.
func (a *Auth) Login(r *http.Request, p *userwire.LoginParams, res **userwire.Object) error {
	ctx := r.Context()
	kind, norm := accounts.ParseLogin(p.Login)
	u, err := a.Accounts.CheckPassword(ctx, accounts.Login{Kind: kind, Norm: norm, Password: p.Password, IP: rpc.CallerFrom(ctx).IP, Code: p.OTPCode})
	if err != nil {
		return err
	}
	return a.logIn(r, u, res)
}

// Check is user.auth.check.
func (a *Auth) Check(r *http.Request, _ *userwire.Empty, res **userwire.Object) error {
	u, pr, err := a.Accounts.SessionUser(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	if err := accounts.LoginState(u); err != nil {
		return err
	}
	*res = object(u, pr)
	return nil
}

// Recovery is user.auth.recovery.
func (a *Auth) Recovery(r *http.Request, p *userwire.RecoveryParams, res *userwire.RecoveryResult) error {
	token, ch, err := a.Accounts.StartRecovery(r.Context(), p.Login)
	if err != nil {
		return err
	}
	res.Token, res.Type = token, ch
	return nil
}

// RecoveryDone is user.auth.recovery_done.
func (a *Auth) RecoveryDone(r *http.Request, p *userwire.RecoveryDoneParams, res **userwire.Object) error {
	u, err := a.Accounts.RecoverSession(r.Context(), p.Token, p.Code, p.OTPCode)
	if err != nil {
		return err
	}
	return a.logIn(r, u, res)
}

// Delete is user.auth.delete.
func (a *Auth) Delete(r *http.Request, _ *userwire.Empty, res *userwire.DeleteResult) error {
	token, ch, err := a.Accounts.StartDeletion(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	res.Type, res.Token = ch, token
	return nil
}

// DeleteDone is user.auth.delete_done.
func (a *Auth) DeleteDone(r *http.Request, p *userwire.DeleteDoneParams, res *bool) error {
	if err := a.Accounts.FinishDeletion(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Code); err != nil {
		return err
	}
	*res = true
	return nil
}
