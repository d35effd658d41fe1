// Package auth serves seed 001, the partner Auth API: auth.registerUser and
// auth.getUserByEmailAndPassword, with the seed's member names and user
// object. It only translates; the rules live in package account.
package auth

import (
	"encoding/json"
	"net/http"
	"time"

	"partnergate/core/accounts"
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
			Positional: []string{"email", "password"},
			Doc:        "Checks an email and password and returns the user."},
	}
}

// RegisterUserParams is seed 001's request.
type RegisterUserParams struct {
	Email     string `json:"email" rpc:"required,max=254"`
	Password  string `json:"password" rpc:"required,max=1024"`
	FirstName string `json:"firstName" rpc:"max=100"`
	LastName  string `json:"lastName" rpc:"max=100"`
}

// RegisterUserResult is seed 001's data.
type RegisterUserResult struct {
	UserID string `json:"userId"`
}

// RegisterUser is auth.registerUser.
func (s *Service) RegisterUser(r *http.Request, p *RegisterUserParams, res *RegisterUserResult) error {
	u, err := s.Accounts.Register(r.Context(), accounts.Registration{
		Email: p.Email, Password: p.Password, RequirePassword: true, FirstName: p.FirstName, LastName: p.LastName,
	})
	if err != nil {
		return err
	}
	res.UserID = u.ID
	return nil
}

// GetUserParams is seed 001's request.
type GetUserParams struct {
	Email    string `json:"email" rpc:"required,max=254"`
	Password string `json:"password" rpc:"required,max=1024"`
}

// GetUserResult is seed 001's data.
type GetUserResult struct {
	User User `json:"user"`
}

// GetUserByEmailAndPassword is auth.getUserByEmailAndPassword. It checks the
// password through the same core as every login, throttles included.
func (s *Service) GetUserByEmailAndPassword(r *http.Request, p *GetUserParams, res *GetUserResult) error {
	ctx := r.Context()
	login := accounts.Login{Kind: store.KindEmail, Password: p.Password}
	// A partner's socket address is its backend, shared by all its users:
	// counting failures per IP there would let one user's typos back off a
	// whole partner. Partners are rate-limited per key instead, and their
	// failures count against the key's own budget.
	if c := rpc.CallerFrom(ctx); c.Kind != rpc.CallerPartner {
		login.IP = c.IP
	} else {
		login.Key = c.PartnerKID
	}
	// A malformed email cannot belong to anyone; it still goes through the
	// same path so it costs and answers like an unknown one.
	if e, err := accounts.ParseEmail(p.Email); err == nil {
		login.Norm = e.Norm
	} else {
		login.Norm = "invalid:" + p.Email
	}
	u, err := s.Accounts.CheckPassword(ctx, login)
	if err != nil {
		return err
	}
	res.User = present(u)
	return nil
}

// User is seed 001's user object: every member, zero values where unset.
type User struct {
	ID                    string                     `json:"id"`
	Created               time.Time                  `json:"created"`
	Updated               time.Time                  `json:"updated"`
	CompanyName           string                     `json:"companyName"`
	CompanyTitle          string                     `json:"companyTitle"`
	FirstName             string                     `json:"firstName"`
	LastName              string                     `json:"lastName"`
	Birthday              string                     `json:"birthday"`
	Hometown              string                     `json:"hometown"`
	Education             string                     `json:"education"`
	ZipCode               string                     `json:"zipCode"`
	Description           string                     `json:"description"`
	LinkURL               string                     `json:"linkUrl"`
	PrivacyMode           int                        `json:"privacyMode"`
	Avatar                string                     `json:"avatar"`
	Avatar3D              Avatar3D                   `json:"avatar3D"`
	Params                map[string]json.RawMessage `json:"params"`
	IdentityType          int                        `json:"identityType"`
	IdentityName          string                     `json:"identityName"`
	ZAddress              string                     `json:"zAddress"`
	PublicRoomCount       int                        `json:"publicRoomCount"`
	ContactCount          int                        `json:"contactCount"`
	PendingContactCount   int                        `json:"pendingContactCount"`
	NewInvitationsCount   int                        `json:"newInvitationsCount"`
	PendingRequestCount   int                        `json:"pendingRequestCount"`
	NewNotificationsCount int                        `json:"newNotificationsCount"`
	IdealMatchCount       int                        `json:"idealMatchCount"`
	IsDisabled            bool                       `json:"isDisabled"`
	IsNew                 bool                       `json:"isNew"`
	Email                 string                     `json:"email"`
	EmailVerified         bool                       `json:"emailVerified"`
	PhoneNumber           string                     `json:"phoneNumber"`
}

// Avatar3D is the user's 3D avatar asset.
type Avatar3D struct {
	AssetID      string            `json:"assetId"`
	AssetSkins   map[string]string `json:"assetSkins"`
	AvatarURL    string            `json:"avatarUrl"`
	AvatarUserID string            `json:"avatarUserId"`
}

func present(u store.User) User {
	out := User{
		ID: u.ID, Created: u.Created.UTC(), Updated: u.Updated.UTC(),
		CompanyName: u.CompanyName, CompanyTitle: u.CompanyTitle, FirstName: u.FirstName, LastName: u.LastName,
		Birthday: u.Birthday, Hometown: u.Hometown, Education: u.Education, ZipCode: u.ZipCode,
		Description: u.Description, LinkURL: u.LinkURL, PrivacyMode: u.PrivacyMode, Avatar: u.Avatar,
		IdentityType: u.IdentityType, IdentityName: u.IdentityName, ZAddress: u.ZAddress,
		PublicRoomCount: u.PublicRoomCount, ContactCount: u.ContactCount, PendingContactCount: u.PendingContactCount,
		NewInvitationsCount: u.NewInvitationsCount, PendingRequestCount: u.PendingRequestCount,
		NewNotificationsCount: u.NewNotificationsCount, IdealMatchCount: u.IdealMatchCount,
		IsDisabled: u.State == store.StateDisabled, IsNew: u.IsNew,
		Avatar3D: Avatar3D{AssetSkins: map[string]string{}},
		Params:   map[string]json.RawMessage{},
	}
	// Stored JSON documents were validated on write; a bad one reads as unset
	// rather than failing the login.
	if u.Avatar3D != "" {
		_ = json.Unmarshal([]byte(u.Avatar3D), &out.Avatar3D)
		if out.Avatar3D.AssetSkins == nil {
			out.Avatar3D.AssetSkins = map[string]string{}
		}
	}
	if u.Params != "" {
		_ = json.Unmarshal([]byte(u.Params), &out.Params)
		if out.Params == nil {
			out.Params = map[string]json.RawMessage{}
		}
	}
	if e, ok := u.Identifier(store.KindEmail); ok {
		out.Email, out.EmailVerified = e.Value, e.Verified
	}
	if p, ok := u.Identifier(store.KindPhone); ok {
		out.PhoneNumber = p.Value
	}
	return out
}
