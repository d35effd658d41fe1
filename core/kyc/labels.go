package kyc

import (
	"context"
	"regexp"

	"partnergate/core/fault"
	"partnergate/store"
)

// Label key and value rules (Barong's): a key is 3 to 255 of [a-z0-9_-], a
// value 1 to 255 of [A-Za-z0-9_-]. The description is at most 255.
var (
	keyRule   = regexp.MustCompile(`^[a-z0-9_-]{3,255}$`)
	valueRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
)

// MaxDescription bounds a label's description.
const MaxDescription = 255

// ReservedKeys are the labels the system writes (levels, KYC steps, the
// admins' own): a user can create none of them, not even in public scope.
var ReservedKeys = map[string]bool{"email": true, "phone": true, "document": true, "profile": true, "otp": true, "delete": true}

// CheckLabel validates a key and value, naming the field at fault.
func CheckLabel(key, value string) error {
	if !keyRule.MatchString(key) {
		return fault.Field(fault.Invalid, "key", "3 to 255 of a-z, 0-9, '_' and '-'")
	}
	if !valueRule.MatchString(value) {
		return fault.Field(fault.Invalid, "value", "1 to 255 of A-Z, a-z, 0-9, '_' and '-'")
	}
	return nil
}

// Labels lists the user's labels, public and private (Barong shows the
// user both; it may change only the public ones).
func (s *Service) Labels(ctx context.Context, userID string) ([]store.Label, error) {
	ls, err := s.Store.Labels(ctx, userID, "")
	if err != nil {
		return nil, storeFault("kyc: labels", err)
	}
	return ls, nil
}

// Label returns the user's label of key: the public one, else the private
// one. fault.NotFound.
func (s *Service) Label(ctx context.Context, userID, key string) (store.Label, error) {
	if !keyRule.MatchString(key) {
		return store.Label{}, fault.New(fault.NotFound)
	}
	for _, scope := range []string{store.ScopePublic, store.ScopePrivate} {
		l, err := s.Store.Label(ctx, userID, key, scope)
		if err == nil {
			return l, nil
		}
		if fe := storeFault("kyc: label", err); fault.CodeOf(fe) != fault.NotFound {
			return store.Label{}, fe
		}
	}
	return store.Label{}, fault.New(fault.NotFound)
}

// CreateUserLabel is the user's own create: public scope only, no
// reserved key, at most Limits.PublicLabels. fault.AlreadyExists,
// fault.LimitReached, fault.LabelPrivate, fault.Invalid.
func (s *Service) CreateUserLabel(ctx context.Context, userID, key, value string) (store.Label, error) {
	if err := CheckLabel(key, value); err != nil {
		return store.Label{}, err
	}
	if ReservedKeys[key] {
		return store.Label{}, fault.New(fault.LabelPrivate)
	}
	l, err := s.Store.CreateLabel(ctx, store.Label{UserID: userID, Key: key, Value: value, Scope: store.ScopePublic}, s.Limits.PublicLabels)
	if err != nil {
		return store.Label{}, storeFault("kyc: create label", err)
	}
	s.note(ctx, userID, "label", "create", nil, map[string]any{"label": key})
	return l, nil
}

// UpdateUserLabel sets the value of the user's public label of key. A key
// the user has only as a private label is fault.LabelPrivate; none at all
// fault.NotFound.
func (s *Service) UpdateUserLabel(ctx context.Context, userID, key, value string) (store.Label, error) {
	if err := CheckLabel(key, value); err != nil {
		if !keyRule.MatchString(key) {
			return store.Label{}, fault.New(fault.NotFound)
		}
		return store.Label{}, err
	}
	l, err := s.Store.UpdateLabel(ctx, userID, key, store.ScopePublic, value)
	if err != nil {
		return store.Label{}, s.privateOrNotFound(ctx, userID, key, err)
	}
	s.note(ctx, userID, "label", "update", nil, map[string]any{"label": key})
	return l, nil
}

// DeleteUserLabel deletes the user's public label of key, as
// UpdateUserLabel finds it.
func (s *Service) DeleteUserLabel(ctx context.Context, userID, key string) error {
	if !keyRule.MatchString(key) {
		return fault.New(fault.NotFound)
	}
	if err := s.Store.DeleteLabel(ctx, userID, key, store.ScopePublic); err != nil {
		return s.privateOrNotFound(ctx, userID, key, err)
	}
	s.note(ctx, userID, "label", "delete", nil, map[string]any{"label": key})
	return nil
}

func (s *Service) privateOrNotFound(ctx context.Context, userID, key string, err error) error {
	fe := storeFault("kyc: label", err)
	if fault.CodeOf(fe) != fault.NotFound {
		return fe
	}
	if _, perr := s.Store.Label(ctx, userID, key, store.ScopePrivate); perr == nil {
		return fault.New(fault.LabelPrivate)
	}
	return fe
}

// SetSystemLabel writes one of the system's private labels (phone
// verified, ...), creating or replacing it.
func (s *Service) SetSystemLabel(ctx context.Context, userID, key, value string) error {
	if _, err := s.Store.PutLabel(ctx, store.Label{UserID: userID, Key: key, Value: value, Scope: store.ScopePrivate}); err != nil {
		return storeFault("kyc: set label", err)
	}
	return nil
}
