package kyc

import (
	"context"

	"github.com/nyaruka/phonenumbers"

	"partnergate/core/accounts"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/store"
)

// Phone channels Barong names. Only sms is delivered (the SMS webhook);
// call is refused rather than pretended.
const (
	ChannelSMS  = "sms"
	ChannelCall = "call"
)

func checkChannel(ch string) error {
	switch ch {
	case "", ChannelSMS:
		return nil
	case ChannelCall:
		return fault.Field(fault.Invalid, "channel", "call is not delivered here; use sms")
	}
	return fault.Field(fault.Invalid, "channel", `"sms"`)
}

// parsePhone is accounts.ParsePhone with the number's region.
func parsePhone(number string) (e164, country string, err error) {
	p, err := accounts.ParsePhone(number)
	if err != nil {
		return "", "", err
	}
	n, perr := phonenumbers.Parse(p.Value, "")
	if perr == nil {
		country = phonenumbers.GetRegionCodeForNumber(n)
	}
	return p.Value, country, nil
}

func phoneTarget(u store.User, number string) codes.Target {
	return codes.Target{UserID: u.ID, Channel: store.KindPhone, Address: number, Lang: u.Lang}
}

// Phones lists the user's phones, oldest first.
func (s *Service) Phones(ctx context.Context, userID string) ([]store.Phone, error) {
	ps, err := s.Store.Phones(ctx, userID)
	if err != nil {
		return nil, storeFault("kyc: phones", err)
	}
	return ps, nil
}

// AddPhone adds a number to the user (at most Limits.Phones) and sends it
// a code. fault.PhoneInvalid, fault.AlreadyExists (the user has it),
// fault.LimitReached. The phone stays added if the code could not be sent
// (the 90 s hold, the daily cap): SendPhoneCode sends it again.
func (s *Service) AddPhone(ctx context.Context, u store.User, number, channel string) (store.Phone, error) {
	if err := checkChannel(channel); err != nil {
		return store.Phone{}, err
	}
	e164, country, err := parsePhone(number)
	if err != nil {
		return store.Phone{}, err
	}
	p, err := s.Store.AddPhone(ctx, store.Phone{UserID: u.ID, Number: e164, Country: country}, s.Limits.Phones)
	if err != nil {
		err = storeFault("kyc: add phone", err)
		s.note(ctx, u.ID, "phone", "create", err, map[string]any{"country": country})
		return store.Phone{}, err
	}
	s.note(ctx, u.ID, "phone", "create", nil, map[string]any{"country": country})
	return p, s.Codes.Send(ctx, codes.Phone, phoneTarget(u, e164))
}

// SendPhoneCode sends a new code to one of the user's unverified numbers,
// replacing any earlier phone code of the user. The 90 s hold and the
// daily cap of codes.Send apply. fault.NotFound (not the user's number),
// fault.PhoneVerified.
func (s *Service) SendPhoneCode(ctx context.Context, u store.User, number, channel string) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	e164, _, err := parsePhone(number)
	if err != nil {
		return err
	}
	p, err := s.Store.Phone(ctx, u.ID, e164)
	if err != nil {
		return storeFault("kyc: phone", err)
	}
	if p.Validated != nil {
		return fault.New(fault.PhoneVerified)
	}
	return s.Codes.Send(ctx, codes.Phone, phoneTarget(u, e164))
}

// VerifyPhone checks the code of one of the user's numbers (consumed once:
// of parallel right answers one wins), marks the number verified and
// writes the private label phone=verified, which moves the level.
// fault.CodeInvalid (wrong, used, expired, another number's),
// fault.NotFound (not the user's number), fault.AlreadyExists (another
// account has it verified).
func (s *Service) VerifyPhone(ctx context.Context, u store.User, number, code string) (store.Phone, error) {
	e164, _, err := parsePhone(number)
	if err != nil {
		return store.Phone{}, err
	}
	if _, err := s.Store.Phone(ctx, u.ID, e164); err != nil {
		return store.Phone{}, storeFault("kyc: phone", err)
	}
	if err := s.Codes.Check(ctx, codes.Phone, phoneTarget(u, e164), code); err != nil {
		s.note(ctx, u.ID, "phone", "verify", err, nil)
		return store.Phone{}, err
	}
	p, err := s.Store.VerifyPhone(ctx, u.ID, e164)
	if err != nil {
		err = storeFault("kyc: verify phone", err)
		s.note(ctx, u.ID, "phone", "verify", err, nil)
		return store.Phone{}, err
	}
	if err := s.SetSystemLabel(ctx, u.ID, "phone", "verified"); err != nil {
		return store.Phone{}, err
	}
	s.note(ctx, u.ID, "phone", "verify", nil, map[string]any{"country": p.Country})
	return p, nil
}
