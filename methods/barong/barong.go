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

// UID is Barong's ID + 10 uppercase hex digits, taken from the user's UUID
// so that it is stable without a column of its own. The digits are the
// UUID's last ten, its random part: the first ones of a UUIDv7 are its
// timestamp, shared by users registered in the same quarter second. Forty
// random bits are not unique at scale, which is why no lookup uses them yet.
func UID(id string) string {
	h := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	if len(h) < 10 {
		return "ID" + h
	}
	return "ID" + h[len(h)-10:]
}

// Present is Barong's user object for u.
func Present(u store.User, p store.Profile) barongwire.User {
	out := barongwire.User{
		UID: UID(u.ID), Role: u.Role, State: "pending", Data: p.Params, OTP: u.TOTP,
		CreatedAt: u.Created.UTC(), UpdatedAt: u.Updated.UTC(),
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
