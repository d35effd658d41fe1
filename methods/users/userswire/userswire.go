// Package userswire holds seed 003's (the chat users API's) params and
// result types for users.*. It imports only the standard library so that
// an SDK can name them without linking the server; methods/users serves
// them. The seed shows DeviceInfo, UserInfo and DeviceSession by name
// only (and DeviceSession.accessToken); their members are partnergate's,
// documented in docs/api.md, and keep the seed's spelling where the seed
// has one (deviceName, deviceToken).
package userswire

import "time"

// DeviceInfo is what a client says about the device it runs on. DeviceID
// is the client's own stable id for the install (a UUID it generates once
// and keeps); logging in again with the same DeviceID replaces that
// device's session. DeviceToken is an optional push token: an APNS device
// token (64 hex digits) or an FCM registration token.
type DeviceInfo struct {
	DeviceID    string `json:"deviceId" rpc:"required,max=64"`
	DeviceName  string `json:"deviceName" rpc:"max=256"`
	DeviceModel string `json:"deviceModel" rpc:"max=256"`
	DeviceToken string `json:"deviceToken" rpc:"max=4096"`
}

// DeviceSession is one device's session. AccessToken is set only in the
// answer that opened the session (users.register, users.login); send it
// as Authorization: Bearer. The push token itself is never returned:
// DeviceTokenType says which kind is set ("apns", "fcm" or "").
type DeviceSession struct {
	DeviceID        string    `json:"deviceId"`
	DeviceName      string    `json:"deviceName"`
	DeviceModel     string    `json:"deviceModel"`
	DeviceTokenType string    `json:"deviceTokenType"`
	AccessToken     string    `json:"accessToken,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	LastSeenAt      time.Time `json:"lastSeenAt"`
	ExpiresAt       time.Time `json:"expiresAt"`
	// Current is true for the session the call was made with.
	Current bool `json:"current"`
}

// Photo is one of a user's photos; URL is where the gateway serves it.
type Photo struct {
	ID       string `json:"id"`
	FileType string `json:"fileType"`
	FileSize int64  `json:"fileSize"`
	URL      string `json:"url"`
}

// UserInfo is a user as seed 003 shows one. users.me fills every member;
// users.get and users.search only the public ones (id, name, username,
// about, photos), and for a user with privacy mode on only id and
// username. DeviceSession is set by users.register, users.login (with the
// access token) and users.me (the current session, without it).
type UserInfo struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Username      string         `json:"username"`
	About         string         `json:"about"`
	Photos        []Photo        `json:"photos"`
	CreatedAt     *time.Time     `json:"createdAt,omitempty"`
	DeviceSession *DeviceSession `json:"deviceSession,omitempty"`
}

// RegisterParams is users.register's request.
type RegisterParams struct {
	Name       string     `json:"name" rpc:"required,max=256"`
	Username   string     `json:"username" rpc:"required,max=256"`
	Password   string     `json:"password" rpc:"required,max=1024"`
	DeviceInfo DeviceInfo `json:"deviceInfo" rpc:"required"`
}

// LoginParams is users.login's request; the username and password are in
// Authorization: Basic.
type LoginParams struct {
	DeviceInfo DeviceInfo `json:"deviceInfo" rpc:"required"`
	// OTPCode is not in the seed: the second-factor code (6 digits or a
	// recovery code) of a user with 2FA on, as every namespace's login
	// takes one.
	OTPCode string `json:"otpCode" rpc:"max=64"`
}

// DeleteParams is users.me.delete's request: the username and password
// are in Authorization: Basic; OTPCode as in LoginParams.
type DeleteParams struct {
	OTPCode string `json:"otpCode" rpc:"max=64"`
}

// Empty is a method without params.
type Empty struct{}

// ChangePasswordParams is users.me.changePassword's request.
type ChangePasswordParams struct {
	OldPassword string `json:"oldPassword" rpc:"required,max=1024"`
	NewPassword string `json:"newPassword" rpc:"required,max=1024"`
}

// SetAccountKeyParams is users.me.setAccountKey's request.
type SetAccountKeyParams struct {
	Password   string `json:"password" rpc:"required,max=1024"`
	AccountKey string `json:"accountKey" rpc:"required,max=1024"`
}

// ResetPasswordParams is users.resetPassword's request. UserID is the
// user's id as UserInfo.id gives it: a string (the seed's Int is not
// used; see docs/seed-map.md).
type ResetPasswordParams struct {
	UserID      string `json:"userId" rpc:"required,max=64"`
	AccountKey  string `json:"accountKey" rpc:"required,max=1024"`
	NewPassword string `json:"newPassword" rpc:"required,max=1024"`
}

// UpdateParams is users.me.update's request; an absent member is kept.
type UpdateParams struct {
	Name  *string `json:"name" rpc:"max=256"`
	About *string `json:"about" rpc:"max=4096"`
}

// DeviceUpdateParams is users.me.device.update's request; an absent
// member is kept, an empty deviceToken removes the push token.
type DeviceUpdateParams struct {
	DeviceName  *string `json:"deviceName" rpc:"max=256"`
	DeviceToken *string `json:"deviceToken" rpc:"max=4096"`
}

// GetParams is users.get's request.
type GetParams struct {
	ID string `json:"id" rpc:"required,max=64"`
}

// SearchParams is users.search's request: s is the query (2 to 64
// characters), limit 1 to 50 (default 20), offset 0 to 1000.
type SearchParams struct {
	S      string `json:"s" rpc:"required,max=256"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// DevicesDeleteParams is users.me.devices.delete's request.
type DevicesDeleteParams struct {
	DeviceID string `json:"deviceId" rpc:"required,max=64"`
}

// PhotoRef names an upload (files.create) to add as a photo, in the seed's
// shape. FileType and FileSize are optional; when given they must match
// the upload.
type PhotoRef struct {
	ID       string `json:"id" rpc:"required,max=64"`
	FileType string `json:"fileType" rpc:"max=16"`
	FileSize int64  `json:"fileSize"`
}

// PhotosAddParams is users.me.photos.add's request.
type PhotosAddParams struct {
	Photo PhotoRef `json:"photo" rpc:"required"`
}

// PhotosDeleteParams is users.me.photos.delete's request.
type PhotosDeleteParams struct {
	ID string `json:"id" rpc:"required,max=64"`
}
