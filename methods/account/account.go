// Package account serves seed 004's (the IoT account API's) account.*
// namespace: login with signed access JWTs and rotating refresh tokens.
// The rules live in core/accounts and core/tokens; this is only the
// dialect, which keeps the seed's member names (WAVIOT_JWT, rt, sessid).
package account

import (
	"net/http"
	"strconv"

	"partnergate/core/accounts"
	"partnergate/core/tokens"
	"partnergate/methods/account/accountwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the account.* namespace.
type Service struct {
	Accounts *accounts.Service
	Tokens   *tokens.Refresher
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
	*res = shape(pair)
	return nil
}

// Refresh is account.refresh.
func (s *Service) Refresh(r *http.Request, p *accountwire.RefreshParams, res *accountwire.Tokens) error {
	pair, err := s.Tokens.Refresh(r.Context(), p.RT)
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
	if err := s.Tokens.EndByRefresh(r.Context(), uid, p.RT); err != nil {
		return err
	}
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
