package user

import (
	"net/http"
	"time"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/methods/user/userwire"
	"partnergate/rpc"
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

func settingsOf(u store.User, pr store.Profile, pending map[string]string) userwire.SettingsObject {
	o := userwire.SettingsObject{
		FirstName: pr.FirstName, LastName: pr.LastName, Avatar: pr.Avatar, Sex: pr.Sex, News: pr.News,
		Restriction1: pr.Restrictions[0], Restriction2: pr.Restrictions[1], Restriction3: pr.Restrictions[2],
		Restriction4: pr.Restrictions[3], Restriction5: pr.Restrictions[4],
		Lang: u.Lang, Birthday: birthdayUnix(pr.Birthday), DatingModel: pr.DatingModel,
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

func (s *Settings) current(r *http.Request, userID string, res *userwire.SettingsObject) error {
	u, err := s.Accounts.User(r.Context(), userID)
	if err != nil {
		return err
	}
	pr, err := s.Accounts.Profile(r.Context(), userID)
	if err != nil {
		return err
	}
	pending, err := s.Accounts.PendingChanges(r.Context(), userID)
	if err != nil {
		return err
	}
	*res = settingsOf(u, pr, pending)
	return nil
}

// Get is user.settings.get.
func (s *Settings) Get(r *http.Request, _ *userwire.Empty, res *userwire.SettingsObject) error {
	return s.current(r, rpc.CallerFrom(r.Context()).UserID, res)
}

// earliestBirthday is 1900-01-01T00:00:00Z in unix seconds.
var earliestBirthday = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// Set is user.settings.set. Every member is validated before anything is
// written, so bad input changes nothing.
func (s *Settings) Set(r *http.Request, p *userwire.SetParams, res *userwire.SettingsObject) error {
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
	_, err := s.Accounts.UpdateProfile(ctx, userID, p.Lang, func(pr *store.Profile) error {
		setIf(&pr.FirstName, p.FirstName)
		setIf(&pr.LastName, p.LastName)
		setIf(&pr.Avatar, p.Avatar)
		setIf(&pr.Sex, p.Sex)
		setIf(&pr.News, p.News)
		for i, b := range []*bool{p.Restriction1, p.Restriction2, p.Restriction3, p.Restriction4, p.Restriction5} {
			setIf(&pr.Restrictions[i], b)
		}
		setIf(&pr.DatingModel, p.DatingModel)
		if p.Birthday != nil {
			pr.Birthday = birthday
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
