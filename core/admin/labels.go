package admin

import (
	"context"
	"errors"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/kyc"
	"partnergate/store"
)

// Label scopes.
const (
	ScopePublic  = "public"
	ScopePrivate = "private"
)

// MaxLabels caps one user's labels of one scope.
const MaxLabels = 100

// checkLabel applies the label rules the user side applies too
// (kyc.CheckLabel: Barong's key and value formats); scope public or private
// (empty is public); description at most kyc.MaxDescription.
func checkLabel(l store.Label) (store.Label, error) {
	if err := kyc.CheckLabel(l.Key, l.Value); err != nil {
		return l, err
	}
	switch l.Scope {
	case "":
		l.Scope = ScopePublic
	case ScopePublic, ScopePrivate:
	default:
		return l, fault.Field(fault.Invalid, "scope", "public or private")
	}
	if len(l.Description) > kyc.MaxDescription {
		return l, fault.Field(fault.Invalid, "description", "at most 255 characters")
	}
	return l, nil
}

func labelStoreErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound)
	case errors.Is(err, store.ErrAlreadyExists):
		return fault.New(fault.AlreadyExists)
	case errors.Is(err, store.ErrLimitReached):
		return fault.Field(fault.Invalid, "key", "too many labels")
	}
	return core.StoreError(op, err)
}

// CreateLabel adds a label to the user of uid.
func (s *Service) CreateLabel(ctx context.Context, uid string, l store.Label) (store.Label, error) {
	l, err := checkLabel(l)
	if err != nil {
		return store.Label{}, err
	}
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return store.Label{}, err
	}
	l.UserID = u.ID
	out, err := s.Store.CreateLabel(ctx, l, MaxLabels)
	if err != nil {
		return store.Label{}, labelStoreErr("admin: create label", err)
	}
	s.note(ctx, adminUserID(ctx), u.ID, "labels", "create", map[string]any{"key": l.Key, "scope": l.Scope})
	return out, nil
}

// PutLabel sets an existing label's value and description (Barong's PUT
// /admin/users/labels), or with create set makes it when missing (POST
// /admin/users/labels/update with replace).
func (s *Service) PutLabel(ctx context.Context, uid string, l store.Label, create bool) (store.Label, error) {
	l, err := checkLabel(l)
	if err != nil {
		return store.Label{}, err
	}
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return store.Label{}, err
	}
	l.UserID = u.ID
	if !create {
		if _, err := s.Store.Label(ctx, u.ID, l.Key, l.Scope); err != nil {
			return store.Label{}, labelStoreErr("admin: read label", err)
		}
	}
	out, err := s.Store.PutLabel(ctx, l)
	if err != nil {
		return store.Label{}, labelStoreErr("admin: put label", err)
	}
	s.note(ctx, adminUserID(ctx), u.ID, "labels", "update", map[string]any{"key": l.Key, "scope": l.Scope})
	return out, nil
}

// DeleteLabel removes the label of key and scope from the user of uid.
func (s *Service) DeleteLabel(ctx context.Context, uid, key, scope string) error {
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return err
	}
	if scope == "" {
		scope = ScopePublic
	}
	if err := s.Store.DeleteLabel(ctx, u.ID, key, scope); err != nil {
		return labelStoreErr("admin: delete label", err)
	}
	s.note(ctx, adminUserID(ctx), u.ID, "labels", "delete", map[string]any{"key": key, "scope": scope})
	return nil
}

// UsersByLabel lists the users with label key = value.
func (s *Service) UsersByLabel(ctx context.Context, key, value string, offset, limit int) ([]store.User, error) {
	us, err := s.Store.UsersByLabel(ctx, key, value, offset, limit)
	if err != nil {
		return nil, core.StoreError("admin: users by label", err)
	}
	return us, nil
}

// LabelValues lists every label key in use with its values.
func (s *Service) LabelValues(ctx context.Context) (map[string][]string, error) {
	kvs, err := s.Store.LabelValues(ctx, 10000)
	if err != nil {
		return nil, core.StoreError("admin: label values", err)
	}
	out := map[string][]string{}
	for _, kv := range kvs {
		out[kv.Key] = append(out[kv.Key], kv.Value)
	}
	return out, nil
}

// adminUserID is the calling admin's user id, "" for a partner key.
func adminUserID(ctx context.Context) string {
	if c := core.CallFrom(ctx); c.ActorKind == "user" {
		return c.ActorID
	}
	return ""
}
