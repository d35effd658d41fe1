// Package account serves seed 004's (the IoT account API's) account.*
// namespace: login with signed access JWTs and rotating refresh tokens.
// The rules live in core/accounts and core/tokens; this is only the
// dialect, which keeps the seed's member names (WAVIOT_JWT, rt, sessid).
package account

import (
	"net/http"
	"strconv"

	"partnergate/core/accounts"
	"partnergate/core/activity"
	"partnergate/core/settings"
	"partnergate/core/tokens"
	"partnergate/methods/account/accountwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the account.* namespace.
type Service struct {
	Accounts *accounts.Service
	Tokens   *tokens.Refresher
	Settings *settings.Service
	Activity *activity.Recorder
	// ResetURL returns the base of the links account.recoverPassword
	// sends (built from PARTNERGATE_PUBLIC_URL, never the request's Host);
	// "" refuses to send one.
	ResetURL func() string
}

// Methods declares the namespace for the registry.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "account.login", Go: "Login", Access: rpc.Public, RateClass: "login", OpensSession: true,
			Doc: "Checks a login (email or phone) and password (otpCode when 2FA is on) and returns an access JWT, a refresh token and the session id."},
		{Name: "account.refresh", Go: "Refresh", Access: rpc.Public, RateClass: "login", OpensSession: true,
			Doc: "Exchanges a refresh token, once, for a new access JWT and refresh token."},
		{Name: "account.logout", Go: "Logout", Access: rpc.Public, RateClass: "default",
			Doc: "Ends the session of a refresh token: its refresh tokens and access JWTs stop working."},
		{Name: "account.whoAmI", Go: "WhoAmI", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Returns the caller's main user data with the seed's members."},
		{Name: "account.signup", Go: "Signup", Access: rpc.Public, RateClass: "register",
			Doc: "Registers a user by email and/or phone with a password and sends a confirmation code to each; per-field errors in fields."},
		{Name: "account.signup.confirm", Go: "Confirm", Access: rpc.Public, RateClass: "code",
			Doc: "Confirms the email or phone of a sign-up with the code sent to it (login is that email or phone)."},
		{Name: "account.signup.resend", Go: "Resend", Access: rpc.Public, RateClass: "code",
			Doc: "Sends the sign-up confirmation code for an email or phone again; the same answer for every login."},
		{Name: "account.update", Go: "Update", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Edits the caller's names at once; a new email or phone waits for account.update.confirm with the code sent to it."},
		{Name: "account.update.confirm", Go: "UpdateConfirm", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Applies a new email or phone of account.update with the code sent to it."},
		{Name: "account.password.change", Go: "PasswordChange", Access: rpc.SessionUser, RateClass: "login",
			Doc: "Changes the caller's password (password_old, password_new); every other session ends."},
		{Name: "account.recoverPassword", Go: "RecoverPassword", Access: rpc.Public, RateClass: "code",
			Doc: "Sends a password reset link to an email; the same answer whether an account has it or not."},
		{Name: "account.resetPassword", Go: "ResetPassword", Access: rpc.Public, RateClass: "code",
			Doc: "Sets a new password with the token of an account.recoverPassword link; every session ends."},
		{Name: "account.settings.get", Go: "SettingsGet", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Returns the caller's key-value settings with their createdTS."},
		{Name: "account.settings.set", Go: "SettingsSet", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Sets key-value settings (string, number or bool; null removes); names like notifications-meters__email."},
		{Name: "account.authHistory", Go: "AuthHistory", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Lists the caller's logins and token refreshes, newest first, with browser, OS, device and place."},
	}
}

func shape(p tokens.Pair) accountwire.Tokens {
	return accountwire.Tokens{SC: strconv.FormatInt(p.AccessExp.Unix(), 10), RT: p.Refresh, WaviotJWT: p.Access, SessID: p.SessionID}
}

// Login is account.login.
func (s *Service) Login(r *http.Request, p *accountwire.LoginParams, res *accountwire.Tokens) error {
	ctx := r.Context()
	kind, norm := accounts.ParseLogin(p.Login)
	u, err := s.Accounts.LogIn(ctx, accounts.Login{Kind: kind, Norm: norm, Password: p.Password, IP: rpc.CallerFrom(ctx).IP, Code: p.OTPCode})
	if err != nil {
		return err
	}
	pair, err := s.Tokens.Start(ctx, u.ID)
	if err != nil {
		return err
	}
	s.setCookies(ctx, pair)
	*res = shape(pair)
	return nil
}

// Refresh is account.refresh.
func (s *Service) Refresh(r *http.Request, p *accountwire.RefreshParams, res *accountwire.Tokens) error {
	rt, err := refreshToken(r, p.RT)
	if err != nil {
		return err
	}
	pair, err := s.Tokens.Refresh(r.Context(), rt)
	if err != nil {
		return err
	}
	// A user deactivated since the login gets no new tokens.
	u, err := s.Accounts.User(r.Context(), pair.UserID)
	if err == nil {
		err = accounts.LoginState(u)
	}
	if err != nil {
		_ = s.Tokens.EndSession(r.Context(), pair.UserID, pair.SessionID)
		return err
	}
	s.setCookies(r.Context(), pair)
	*res = shape(pair)
	return nil
}

// Logout is account.logout. A user caller may end only its own sessions.
func (s *Service) Logout(r *http.Request, p *accountwire.LogoutParams, res *accountwire.Success) error {
	c := rpc.CallerFrom(r.Context())
	uid := ""
	if c.Kind == rpc.CallerUser {
		uid = c.UserID
	}
	rt, err := refreshToken(r, p.RT)
	if err != nil {
		return err
	}
	if err := s.Tokens.EndByRefresh(r.Context(), uid, rt); err != nil {
		return err
	}
	clearCookies(r.Context())
	res.Success = true
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// WhoAmI is account.whoAmI.
func (s *Service) WhoAmI(r *http.Request, _ *accountwire.Empty, res *accountwire.WhoAmI) error {
	u, p, err := s.Accounts.SessionUser(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	e, _ := u.Identifier(store.KindEmail)
	ph, _ := u.Identifier(store.KindPhone)
	*res = accountwire.WhoAmI{
		AccountID: u.ID, LastName: p.LastName, FirstName: p.FirstName,
		HeadEmail: opt(e.Value), EmailConfirmed: flag(e.Verified),
		CreatedTS: strconv.FormatInt(u.Created.Unix(), 10), Birthday: opt(p.Birthday),
		Phone: opt(ph.Value), PhoneConfirmed: flag(ph.Verified), Balance: "0",
		Language: u.Lang, Activity: flag(u.State != store.StateDisabled),
	}
	return nil
}
