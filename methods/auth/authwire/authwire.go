// Package authwire holds seed 001's params and result types: what goes over
// the wire for auth.*. It imports only the standard library so that an SDK
// can name these types without linking the server; methods/auth serves them.
// The rpc tags are the server's limits, read by rpc when it decodes params.
package authwire

import (
	"encoding/json"
	"time"
)

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

// GetUserParams is seed 001's request.
type GetUserParams struct {
	Email    string `json:"email" rpc:"required,max=254"`
	Password string `json:"password" rpc:"required,max=1024"`
	// OTPCode is not in the seed: the 2FA code (6 digits or a recovery
	// code), required once the user turned 2FA on.
	OTPCode string `json:"otpCode" rpc:"max=64"`
}

// GetUserResult is seed 001's data.
type GetUserResult struct {
	User User `json:"user"`
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
