// Package user serves seed 000, the consumer account API, under user.*:
// registration with codes, login, session check, recovery, deletion,
// settings, products, tracking, backup, blocking and the event socket. Each
// file holds one small service; the rules live in the domain packages.
package user

import (
	"strings"
	"time"

	"partnergate/methods/user/userwire"
	"partnergate/store"
)

// Langs is the seed's dictionary of 23 languages.
var Langs = []string{"en", "ar", "be", "bg", "de", "el", "es", "fr", "hi", "hy", "it", "iw", "ja", "ka", "kk", "ko", "mn", "pt", "ru", "tr", "uk", "vi", "zh"}

func validLang(l string) bool {
	for _, x := range Langs {
		if x == l {
			return true
		}
	}
	return false
}

func object(u store.User, pr store.Profile) *userwire.Object {
	o := &userwire.Object{
		ID: u.ID, Name: pr.FirstName, Surname: pr.LastName, Lang: u.Lang, Avatar: pr.Avatar,
		Sex: pr.Sex, Birthday: birthdayUnix(pr.Birthday), DatingModel: pr.DatingModel,
		State: "active", IsNew: u.IsNew, Created: u.Created.Unix(),
	}
	if u.State == store.StateDisabled {
		o.State = "deactivated"
	}
	if e, ok := u.Identifier(store.KindEmail); ok {
		o.Email, o.EmailVerified = e.Value, e.Verified
	}
	if p, ok := u.Identifier(store.KindPhone); ok {
		o.Phone, o.PhoneVerified = p.Value, p.Verified
	}
	return o
}

// The account keeps a birthday as a date ("2006-01-02", shared with seed
// 001's string member); seed 000 speaks unix timestamps.
const dateLayout = "2006-01-02"

func birthdayUnix(s string) *int64 {
	if s == "" {
		return nil
	}
	t, err := time.Parse(dateLayout, strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	v := t.Unix()
	return &v
}
