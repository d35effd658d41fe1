// Package auth serves seed 001, the partner Auth API: auth.registerUser and
// auth.getUserByEmailAndPassword, with the seed's member names and user
// object. It only translates; the rules live in package account.
package auth

import (
	"encoding/json"
	"net/http"

	"partnergate/core/accounts"
	"partnergate/methods/auth/authwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the auth.* namespace.
type Service struct {
	Accounts *accounts.Service
}

// Methods declares the namespace for the registry.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "auth.registerUser", Go: "RegisterUser", Access: rpc.PartnerScope, RateClass: "register",
			Positional: []string{"email", "password", "firstName", "lastName"},
			Doc:        "Registers a user by email and password and returns its id."},
		{Name: "auth.getUserByEmailAndPassword", Go: "GetUserByEmailAndPassword", Access: rpc.PartnerScope, RateClass: "login",
			Positional: []string{"email", "password", "otpCode"},
			Doc:        "Checks an email and password (otpCode when 2FA is on) and returns the user."},
	}
}

// RegisterUser is auth.registerUser.
func (s *Service) RegisterUser(r *http.Request, p *authwire.RegisterUserParams, res *authwire.RegisterUserResult) error {
	u, err := s.Accounts.Register(r.Context(), accounts.Registration{
		Email: p.Email, Password: p.Password, RequirePassword: true, FirstName: p.FirstName, LastName: p.LastName,
	})
	if err != nil {
		return err
	}
	res.UserID = u.ID
	return nil
}

// GetUserByEmailAndPassword is auth.getUserByEmailAndPassword. It checks the
// password through the same core as every login, throttles included.
func (s *Service) GetUserByEmailAndPassword(r *http.Request, p *authwire.GetUserParams, res *authwire.GetUserResult) error {
	ctx := r.Context()
	login := accounts.Login{Kind: store.KindEmail, Norm: accounts.EmailLogin(p.Email), Password: p.Password, Code: p.OTPCode}
	// A partner's socket address is its backend, shared by all its users:
	// counting failures per IP there would let one user's typos back off a
	// whole partner. Partners are rate-limited per key instead, and their
	// failures count against the key's own budget.
	if c := rpc.CallerFrom(ctx); c.Kind != rpc.CallerPartner {
		login.IP = c.IP
	} else {
		login.Key = c.PartnerKID
	}
	u, err := s.Accounts.CheckPassword(ctx, login)
	if err != nil {
		return err
	}
	prof, err := s.Accounts.Profile(ctx, u.ID)
	if err != nil {
		return err
	}
	res.User = present(u, prof)
	return nil
}

func present(u store.User, p store.Profile) authwire.User {
	out := authwire.User{
		ID: u.ID, Created: u.Created.UTC(), Updated: u.Updated.UTC(),
		CompanyName: p.CompanyName, CompanyTitle: p.CompanyTitle, FirstName: p.FirstName, LastName: p.LastName,
		Birthday: p.Birthday, Hometown: p.Hometown, Education: p.Education, ZipCode: p.ZipCode,
		Description: p.Description, LinkURL: p.LinkURL, PrivacyMode: p.PrivacyMode, Avatar: p.Avatar,
		IdentityType: p.IdentityType, IdentityName: p.IdentityName, ZAddress: p.ZAddress,
		PublicRoomCount: p.PublicRoomCount, ContactCount: p.ContactCount, PendingContactCount: p.PendingContactCount,
		NewInvitationsCount: p.NewInvitationsCount, PendingRequestCount: p.PendingRequestCount,
		NewNotificationsCount: p.NewNotificationsCount, IdealMatchCount: p.IdealMatchCount,
		IsDisabled: u.State == store.StateDisabled, IsNew: u.IsNew,
		Avatar3D: authwire.Avatar3D{AssetSkins: map[string]string{}},
		Params:   map[string]json.RawMessage{},
	}
	// Stored JSON documents were validated on write; a bad one reads as unset
	// rather than failing the login.
	if p.Avatar3D != "" {
		_ = json.Unmarshal([]byte(p.Avatar3D), &out.Avatar3D)
		if out.Avatar3D.AssetSkins == nil {
			out.Avatar3D.AssetSkins = map[string]string{}
		}
	}
	if p.Params != "" {
		_ = json.Unmarshal([]byte(p.Params), &out.Params)
		if out.Params == nil {
			out.Params = map[string]json.RawMessage{}
		}
	}
	if e, ok := u.Identifier(store.KindEmail); ok {
		out.Email, out.EmailVerified = e.Value, e.Verified
	}
	if ph, ok := u.Identifier(store.KindPhone); ok {
		out.PhoneNumber = ph.Value
	}
	return out
}
