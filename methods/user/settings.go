package user

import (
	"net/http"
	"time"

	"partnergate/core/accounts"
	"partnergate/rpc"
	"partnergate/core/fault"
	"partnergate/store"
)

// Settings serves user.settings.get and user.settings.set.
type Settings struct {
	Accounts *accounts.Service
	Now      func() time.Time
}

// Methods declares them.
func (s *Settings) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "user.settings.get", Go: "Get", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Returns the user's settings, with any email or phone waiting for its code."},
		{Name: "user.settings.set", Go: "Set", Access: rpc.SessionUser, RateClass: "default",
			Doc: "Updates the given settings; a new email or phone waits for user.auth.verify while the old one stays in force."},
	}
}

// SettingsObject is seed 000's settings object.
type SettingsObject struct {
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Avatar        string `json:"avatar"`
	Sex           int    `json:"sex"`
	News          bool   `json:"news"`
	Restriction1  bool   `json:"restriction_1"`
	Restriction2  bool   `json:"restriction_2"`
	Restriction3  bool   `json:"restriction_3"`
	Restriction4  bool   `json:"restriction_4"`
	Restriction5  bool   `json:"restriction_5"`
	Lang          string `json:"lang"`
	Birthday      *int64 `json:"birthday,omitempty"`
	DatingModel   string `json:"dating.model"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	EmailVerified bool   `json:"email_verified"`
	PhoneVerified bool   `json:"phone_verified"`
	// A new email or phone waiting for its code.
	EmailPending string `json:"email_pending,omitempty"`
	PhonePending string `json:"phone_pending,omitempty"`
}

func settingsOf(u store.User, pending map[string]string) SettingsObject {
	o := SettingsObject{
		FirstName: u.FirstName, LastName: u.LastName, Avatar: u.Avatar, Sex: u.Sex, News: u.News,
		Restriction1: u.Restrictions[0], Restriction2: u.Restrictions[1], Restriction3: u.Restrictions[2],
		Restriction4: u.Restrictions[3], Restriction5: u.Restrictions[4],
		Lang: u.Lang, Birthday: birthdayUnix(u.Birthday), DatingModel: u.DatingModel,
		EmailPending: pending[store.KindEmail], PhonePending: pending[store.KindPhone],
	}
	if e, ok := u.Identifier(store.KindEmail); ok {
		o.Email, o.EmailVerified = e.Value, e.Verified
	}
	if p, ok := u.Identifier(store.KindPhone); ok {
		o.Phone, o.PhoneVerified = p.Value, p.Verified
	}
	return o
}

func (s *Settings) current(r *http.Request, userID string, res *SettingsObject) error {
	u, err := s.Accounts.User(r.Context(), userID)
	if err != nil {
		return err
	}
	pending, err := s.Accounts.PendingChanges(r.Context(), userID)
	if err != nil {
		return err
	}
	*res = settingsOf(u, pending)
	return nil
}

// Get is user.settings.get.
func (s *Settings) Get(r *http.Request, _ *Empty, res *SettingsObject) error {
	return s.current(r, rpc.CallerFrom(r.Context()).UserID, res)
}

// SetParams is user.settings.set's request: every member optional. Role,
// state and verification are not members, so the strict decoder refuses
// them in any spelling (SECURITY.md 17).
type SetParams struct {
	FirstName    *string `json:"first_name,omitempty" rpc:"max=100"`
	LastName     *string `json:"last_name,omitempty" rpc:"max=100"`
	Avatar       *string `json:"avatar,omitempty" rpc:"max=256"`
	Sex          *int    `json:"sex,omitempty"`
	News         *bool   `json:"news,omitempty"`
	Restriction1 *bool   `json:"restriction_1,omitempty"`
	Restriction2 *bool   `json:"restriction_2,omitempty"`
	Restriction3 *bool   `json:"restriction_3,omitempty"`
	Restriction4 *bool   `json:"restriction_4,omitempty"`
	Restriction5 *bool   `json:"restriction_5,omitempty"`
	Lang         *string `json:"lang,omitempty" rpc:"max=2"`
	Birthday     *int64  `json:"birthday,omitempty"`
	DatingModel  *string `json:"dating.model,omitempty" rpc:"max=64"`
	Email        *string `json:"email,omitempty" rpc:"max=254"`
	Phone        *string `json:"phone,omitempty" rpc:"max=32"`
}

// earliestBirthday is 1900-01-01T00:00:00Z in unix seconds.
var earliestBirthday = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// Set is user.settings.set. Every member is validated before anything is
// written, so bad input changes nothing.
func (s *Settings) Set(r *http.Request, p *SetParams, res *SettingsObject) error {
	ctx := r.Context()
	userID := rpc.CallerFrom(ctx).UserID
	fields := map[string]string{}
	if p.Sex != nil && (*p.Sex < -1 || *p.Sex > 8) {
		fields["sex"] = "-1 to 8"
	}
	if p.Lang != nil && !validLang(*p.Lang) {
		fields["lang"] = "not in the language dictionary"
	}
	var birthday string
	if p.Birthday != nil {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		// Bounded as an integer first: time.Unix overflows for seconds
		// near the int64 limits and would pass a year check it should fail.
		if *p.Birthday < earliestBirthday || *p.Birthday > now().Unix() {
			fields["birthday"] = "a unix time between 1900 and now"
		}
		birthday = time.Unix(*p.Birthday, 0).UTC().Format(dateLayout)
	}
	if p.Email != nil {
		if _, err := accounts.ParseEmail(*p.Email); err != nil {
			return err
		}
	}
	if p.Phone != nil {
		if _, err := accounts.ParsePhone(*p.Phone); err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: fields}
	}
	// Identifier changes go first: they can still be refused (taken,
	// throttled), and a refusal must leave the profile as it was.
	if p.Email != nil {
		if err := s.Accounts.RequestChange(ctx, userID, store.KindEmail, *p.Email); err != nil {
			return err
		}
	}
	if p.Phone != nil {
		if err := s.Accounts.RequestChange(ctx, userID, store.KindPhone, *p.Phone); err != nil {
			return err
		}
	}
	_, err := s.Accounts.UpdateProfile(ctx, userID, func(u *store.User) error {
		setIf(&u.FirstName, p.FirstName)
		setIf(&u.LastName, p.LastName)
		setIf(&u.Avatar, p.Avatar)
		setIf(&u.Sex, p.Sex)
		setIf(&u.News, p.News)
		for i, b := range []*bool{p.Restriction1, p.Restriction2, p.Restriction3, p.Restriction4, p.Restriction5} {
			setIf(&u.Restrictions[i], b)
		}
		setIf(&u.Lang, p.Lang)
		setIf(&u.DatingModel, p.DatingModel)
		if p.Birthday != nil {
			u.Birthday = birthday
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.current(r, userID, res)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
