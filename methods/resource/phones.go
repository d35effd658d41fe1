package resource

import (
	"net/http"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/kyc"
	"partnergate/methods/barong"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
)

// Phones serves resource.phones.*.
type Phones struct {
	Accounts *accounts.Service
	KYC      *kyc.Service
}

// Methods declares them.
func (s *Phones) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "resource.phones.list", Go: "List", Access: rpc.SessionUser, RateClass: rpc.NoLimit, Positional: []string{},
			Doc: "Lists the signed-in user's phone numbers."},
		{Name: "resource.phones.create", Go: "Create", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Adds a phone number and sends it a verification code by SMS."},
		{Name: "resource.phones.send_code", Go: "SendCode", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Sends a new verification code to one of the user's unverified numbers (one per 90 s)."},
		{Name: "resource.phones.verify", Go: "Verify", Access: rpc.SessionUser, RateClass: "code",
			Doc: "Verifies a number with its code; the phone label moves the level."},
	}
}

var phoneKeys = map[fault.Code]string{
	fault.PhoneInvalid:  "resource.phone.invalid_num",
	fault.AlreadyExists: "resource.phone.exists",
	fault.LimitReached:  "resource.phone.limit_reached",
	fault.NotFound:      "resource.phone.doesnt_exist",
	fault.PhoneVerified: "resource.phone.already_verified",
	fault.CodeInvalid:   "resource.phone.verification_invalid",
}

// List is resource.phones.list.
func (s *Phones) List(r *http.Request, _ *resourcewire.Empty, res *[]resourcewire.Phone) error {
	ps, err := s.KYC.Phones(r.Context(), rpc.CallerFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := make([]resourcewire.Phone, len(ps))
	for i, p := range ps {
		out[i] = resourcewire.Phone{Country: p.Country, Number: p.Number, ValidatedAt: utcPtr(p.Validated)}
	}
	*res = out
	return nil
}

// Create is resource.phones.create.
func (s *Phones) Create(r *http.Request, p *resourcewire.PhoneParams, res *resourcewire.Message) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	if _, err := s.KYC.AddPhone(ctx, u, p.PhoneNumber, p.Channel); err != nil {
		return barong.Err(err, phoneKeys)
	}
	res.Message = "Code was sent successfully"
	return nil
}

// SendCode is resource.phones.send_code.
func (s *Phones) SendCode(r *http.Request, p *resourcewire.PhoneParams, res *resourcewire.Message) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	if err := s.KYC.SendPhoneCode(ctx, u, p.PhoneNumber, p.Channel); err != nil {
		return barong.Err(err, phoneKeys)
	}
	res.Message = "Code was sent successfully"
	return nil
}

// Verify is resource.phones.verify.
func (s *Phones) Verify(r *http.Request, p *resourcewire.PhoneVerifyParams, res *resourcewire.Message) error {
	ctx := r.Context()
	u, err := s.Accounts.User(ctx, rpc.CallerFrom(ctx).UserID)
	if err != nil {
		return err
	}
	keys := map[fault.Code]string{fault.AlreadyExists: "resource.phone.number_exist"}
	for k, v := range phoneKeys {
		if k != fault.AlreadyExists {
			keys[k] = v
		}
	}
	if _, err := s.KYC.VerifyPhone(ctx, u, p.PhoneNumber, p.VerificationCode); err != nil {
		return barong.Err(err, keys)
	}
	res.Message = "Phone was verified successfully"
	return nil
}
