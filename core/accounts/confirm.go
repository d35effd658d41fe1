package accounts

import (
	"context"
	"errors"

	"partnergate/core"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
)

// loginTarget finds the user and the channel a login (an email or a
// phone) names. known is false for an unknown login or a username, which
// names no address.
func (s *Service) loginTarget(ctx context.Context, login string) (u store.User, kind, norm string, known bool, err error) {
	kind, norm = ParseLogin(login)
	if kind == store.KindUsername {
		return store.User{}, kind, norm, false, nil
	}
	u, err = s.Store.UserByIdentifier(ctx, kind, norm)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, kind, norm, false, nil
	}
	if err != nil {
		return store.User{}, kind, norm, false, core.StoreError("accounts: look up login", err)
	}
	return u, kind, norm, true, nil
}

// VerifyLogin checks the registration code sent to the email or phone a
// login names and marks it verified: the confirmation of a dialect whose
// callers know their address but not their user id (seed 004). An unknown
// login is fault.CodeInvalid, like a wrong code, and a wrong code counts
// a try against the code as Verify's does.
func (s *Service) VerifyLogin(ctx context.Context, login, code string) (store.User, error) {
	u, kind, norm, known, err := s.loginTarget(ctx, login)
	if err != nil {
		return store.User{}, err
	}
	if !known {
		// The same round trip a known login's check makes, on a slot no
		// code is in.
		_ = s.Codes.Check(ctx, codes.Registration, codes.Target{Channel: kind, Address: norm}, code)
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	if id, _ := u.Identifier(kind); id.Verified {
		// Nothing is waiting: a code for it can only be wrong.
		return store.User{}, fault.New(fault.CodeInvalid)
	}
	return s.Verify(ctx, u.ID, map[string]string{kind: code})
}

// ResendLogin sends the registration code for the email or phone a login
// names again. An unknown login, or one already verified, gets a decoy
// send under the same resend hold and daily cap, so the answer (nil, or
// fault.Throttled) tells nothing about the account.
func (s *Service) ResendLogin(ctx context.Context, login string) error {
	u, kind, norm, known, err := s.loginTarget(ctx, login)
	if err != nil {
		return err
	}
	if known {
		if id, _ := u.Identifier(kind); !id.Verified {
			return s.SendVerification(ctx, u, kind)
		}
	}
	if kind == store.KindUsername {
		kind = store.KindEmail
	}
	return s.Codes.SendDecoy(ctx, codes.Registration, codes.Target{Channel: kind, Address: norm})
}

// ValidateRegistration reports every problem of reg at once, where
// Register stops at the first: fault.Invalid with one field per problem,
// named "email", "phone" and "password" as Register's faults name them
// (a dialect renames them to its seed's). nil when Register would accept
// reg but for identifiers already taken.
func ValidateRegistration(reg Registration) error {
	fields := map[string]string{}
	var inputs []string
	problem := func(err error, field string) {
		if fe, ok := fault.As(err); ok && fe.Fields[field] != "" {
			fields[field] = fe.Fields[field]
		} else if ok {
			fields[field] = fe.Message
		}
	}
	if reg.Email == "" && reg.Phone == "" {
		fields["email"], fields["phone"] = "email or phone required", "email or phone required"
	}
	if reg.Email != "" {
		if e, err := ParseEmail(reg.Email); err != nil {
			problem(err, "email")
		} else {
			inputs = append(inputs, e.Value)
		}
	}
	if reg.Phone != "" {
		if p, err := ParsePhone(reg.Phone); err != nil {
			problem(err, "phone")
		} else {
			inputs = append(inputs, p.Value)
		}
	}
	if reg.Password != "" || reg.RequirePassword {
		if reg.Password == "" {
			fields["password"] = "required"
		} else if err := password.Check(reg.Password, append(inputs, reg.FirstName, reg.LastName)...); err != nil {
			problem(err, "password")
		}
	}
	if len(fields) > 0 {
		return &fault.Error{Code: fault.Invalid, Message: fault.Invalid.Message(), Fields: fields}
	}
	return nil
}
