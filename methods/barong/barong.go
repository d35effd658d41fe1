// Package barong holds what seed 002's (Barong 2.4's) three namespaces,
// identity.*, resource.* and admin.*, present alike: Barong's error keys in
// the message where its clients look for them, its uid and its user object.
// It is the one package a dialect may share with another, and only seed
// 002's namespaces may import it (internal/layering).
package barong

import (
	"strings"

	"partnergate/core/fault"
	"partnergate/methods/barong/barongwire"
	"partnergate/store"
)

// Err gives a catalogue fault Barong's error key as its message, where
// Barong's clients look for it; the code stays the catalogue's. An error
// that is not a fault, or whose code keys has no entry for, is returned as is.
func Err(err error, keys map[fault.Code]string) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	key, ok := keys[fe.Code]
	if !ok {
		return err
	}
	out := *fe
	out.Message = key
	return &out
}

// UID is the user's Barong uid: the one the core gave it at registration
// (store.User.UID). A user stored without one (made by a test fixture, not
// by accounts.Register) is shown the uid the 0008 migration would have
// given it, from its UUID's last ten hex digits.
func UID(u store.User) string {
	if u.UID != "" {
		return u.UID
	}
	h := strings.ToUpper(strings.ReplaceAll(u.ID, "-", ""))
	if len(h) < 10 {
		return "ID" + h
	}
	return "ID" + h[len(h)-10:]
}

// Present is Barong's user object for u.
func Present(u store.User, p store.Profile) barongwire.User {
	out := barongwire.User{
		UID: UID(u), Role: u.Role, State: "pending", Data: p.Params, OTP: u.TOTP,
		CreatedAt: u.Created.UTC(), UpdatedAt: u.Updated.UTC(),
	}
	if u.ReferralUID != "" {
		ref := u.ReferralUID
		out.ReferralUID = &ref
	}
	if out.Role == "" {
		out.Role = "member"
	}
	if out.Data == "" {
		out.Data = "{}"
	}
	if e, ok := u.Identifier(store.KindEmail); ok {
		out.Email = e.Value
		if e.Verified {
			out.Level = 1
		}
	}
	switch {
	case u.State == store.StateDisabled:
		out.State = "banned"
	case out.Level > 0:
		out.State = "active"
	}
	return out
}
