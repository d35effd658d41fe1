package account

import (
	"net/http"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/methods/account/accountwire"
	"partnergate/rpc"
	"partnergate/store"
)

// The seed's messages.
const (
	msgRegistered = "Registration successfully completed, to continue working with the service the confirmation of the email or phone number is required."
	msgConfirmed  = "Confirmed."
	msgUpdated    = "User data have been updated."
	msgBadData    = "Invalid Data Provided."
)

// MaxName bounds lastName and firstName, in code points.
const MaxName = 64

// seedPhone reads the seed's phone form, E.164 without the "+"
// ("11234567890"): all digits get the "+" the core's parser wants;
// anything else is passed on as given.
func seedPhone(s string) string {
	if s == "" || strings.HasPrefix(s, "+") {
		return s
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return s
		}
	}
	return "+" + s
}

// seedLogin is a login in the seed's forms: an email, or a phone with or
// without its "+".
func seedLogin(s string) string {
	if strings.Contains(s, "@") {
		return s
	}
	return seedPhone(strings.TrimSpace(s))
}

// nameProblem checks a first or last name: at most MaxName code points,
// no control characters.
func nameProblem(s string) string {
	if utf8.RuneCountInString(s) > MaxName {
		return "at most 64 characters"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "no control characters"
		}
	}
	return ""
}

// seedFields renames the core's field names to the seed's.
var seedFields = map[string]string{"email": "headEmail", "phone": "phone", "password": "password",
	accounts.FieldOldPassword: "password_old", accounts.FieldNewPassword: "password_new"}

// renamed returns err with its fields renamed by names (a name not in it
// is kept), and the message replaced when msg is not "".
func renamed(err error, names map[string]string, msg string) error {
	fe, ok := fault.As(err)
	if !ok || (len(fe.Fields) == 0 && msg == "") {
		return err
	}
	out := *fe
	if msg != "" {
		out.Message = msg
	}
	if fe.Fields != nil {
		out.Fields = make(map[string]string, len(fe.Fields))
		for k, v := range fe.Fields {
			if n, ok := names[k]; ok {
				k = n
			}
			out.Fields[k] = v
		}
	}
	return &out
}

func invalid(fields map[string]string, msg string) error {
	if msg == "" {
		msg = fault.Invalid.Message()
	}
	return &fault.Error{Code: fault.Invalid, Message: msg, Fields: fields}
}

// Signup is account.signup: every field is checked before anything is
// written, and each problem is named in fields.
func (s *Service) Signup(r *http.Request, p *accountwire.SignupParams, res *accountwire.Result) error {
	ctx := r.Context()
	fields := map[string]string{}
	if pr := nameProblem(p.FirstName); pr != "" {
		fields["firstName"] = pr
	}
	if pr := nameProblem(p.LastName); pr != "" {
		fields["lastName"] = pr
	}
	if p.RepPassword != p.Password {
		fields["repPassword"] = "does not match password"
	}
	reg := accounts.Registration{Email: p.HeadEmail, Phone: seedPhone(p.Phone), Password: p.Password, RequirePassword: true,
		FirstName: p.FirstName, LastName: p.LastName}
	if err := accounts.ValidateRegistration(reg); err != nil {
		fe, ok := fault.As(renamed(err, seedFields, ""))
		if !ok {
			return err
		}
		for k, v := range fe.Fields {
			fields[k] = v
		}
	}
	if len(fields) > 0 {
		return invalid(fields, "")
	}
	u, err := s.Accounts.Register(ctx, reg)
	if err != nil {
		return renamed(err, seedFields, "")
	}
	// As user.auth.registration: the user exists now; a code that could
	// not be sent is sent by account.signup.resend.
	for _, kind := range []string{store.KindEmail, store.KindPhone} {
		if _, ok := u.Identifier(kind); ok {
			if err := s.Accounts.SendVerification(ctx, u, kind); err != nil {
				s.Accounts.Log.Warn().Err(err).Str("user", u.ID).Str("channel", kind).Msg("registration code not sent; resend will")
			}
		}
	}
	*res = accountwire.Result{Success: true, Message: msgRegistered}
	return nil
}

// Confirm is account.signup.confirm.
func (s *Service) Confirm(r *http.Request, p *accountwire.ConfirmParams, res *accountwire.Result) error {
	if _, err := s.Accounts.VerifyLogin(r.Context(), seedLogin(p.Login), p.Code); err != nil {
		return err
	}
	*res = accountwire.Result{Success: true, Message: msgConfirmed}
	return nil
}

// Resend is account.signup.resend: the same answer for every login.
func (s *Service) Resend(r *http.Request, p *accountwire.ResendParams, res *accountwire.Success) error {
	if err := s.Accounts.ResendLogin(r.Context(), seedLogin(p.Login)); err != nil {
		return err
	}
	res.Success = true
	return nil
}

// Update is account.update: names change at once; a new email or phone
// waits for the code sent to it (account.update.confirm) while the old
// one stays in force. Every member is checked before anything is written.
func (s *Service) Update(r *http.Request, p *accountwire.UpdateParams, res *accountwire.UpdateResult) error {
	ctx := r.Context()
	uid := rpc.CallerFrom(ctx).UserID
	if p.LastName == nil && p.FirstName == nil && p.HeadEmail == nil && p.Phone == nil {
		return invalid(map[string]string{"lastName": "nothing to update", "firstName": "nothing to update",
			"headEmail": "nothing to update", "phone": "nothing to update"}, msgBadData)
	}
	fields := map[string]string{}
	for name, v := range map[string]*string{"firstName": p.FirstName, "lastName": p.LastName} {
		if v != nil {
			if pr := nameProblem(*v); pr != "" {
				fields[name] = pr
			}
		}
	}
	var phone string
	if p.HeadEmail != nil {
		if _, err := accounts.ParseEmail(*p.HeadEmail); err != nil {
			fields["headEmail"] = fieldProblem(err, "email")
		}
	}
	if p.Phone != nil {
		phone = seedPhone(*p.Phone)
		if _, err := accounts.ParsePhone(phone); err != nil {
			fields["phone"] = fieldProblem(err, "phone")
		}
	}
	if len(fields) > 0 {
		return invalid(fields, msgBadData)
	}
	// Identifier changes first: they can still be refused (taken,
	// throttled), and a refusal must leave the names as they were.
	if p.HeadEmail != nil {
		if err := s.Accounts.RequestChange(ctx, uid, store.KindEmail, *p.HeadEmail); err != nil {
			return renamed(err, seedFields, "")
		}
	}
	if p.Phone != nil {
		if err := s.Accounts.RequestChange(ctx, uid, store.KindPhone, phone); err != nil {
			return renamed(err, seedFields, "")
		}
	}
	if p.FirstName != nil || p.LastName != nil {
		_, err := s.Accounts.UpdateProfile(ctx, uid, nil, func(pr *store.Profile) error {
			if p.FirstName != nil {
				pr.FirstName = *p.FirstName
			}
			if p.LastName != nil {
				pr.LastName = *p.LastName
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	pending, err := s.Accounts.PendingChanges(ctx, uid)
	if err != nil {
		return err
	}
	*res = accountwire.UpdateResult{Success: true, Message: msgUpdated, Pending: []string{}}
	for kind := range pending {
		name := "headEmail"
		if kind == store.KindPhone {
			name = "phone"
		}
		res.Pending = append(res.Pending, name)
	}
	sort.Strings(res.Pending)
	return nil
}

// fieldProblem is the problem a core fault names for field, or its
// message.
func fieldProblem(err error, field string) string {
	if fe, ok := fault.As(err); ok {
		if v := fe.Fields[field]; v != "" {
			return v
		}
		return fe.Message
	}
	return "invalid"
}

// UpdateConfirm is account.update.confirm: the code sent to a new email
// or phone applies it.
func (s *Service) UpdateConfirm(r *http.Request, p *accountwire.CodeParams, res *accountwire.Result) error {
	if _, err := s.Accounts.ConfirmChange(r.Context(), rpc.CallerFrom(r.Context()).UserID, p.Code); err != nil {
		return renamed(err, seedFields, "")
	}
	*res = accountwire.Result{Success: true, Message: msgUpdated}
	return nil
}
