package admin

import (
	"context"
	"errors"
	"strings"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// KYC profile states; an admin's verified or rejected is also written as
// the user's private "profile" label, which Barong's levels read.
const (
	ProfileDrafted   = "drafted"
	ProfileSubmitted = "submitted"
	ProfileVerified  = "verified"
	ProfileRejected  = "rejected"
)

// ProfileChange is admin.profiles.update's members; nil keeps a value.
type ProfileChange struct {
	FirstName, LastName, DOB, Address, Postcode, City, Country, State, Metadata *string
}

// UserProfile is a KYC profile with its user and personal names.
type UserProfile struct {
	User    store.User
	Profile store.Profile
	KYC     store.KYCProfile
}

// Profiles lists KYC profiles with their users.
func (s *Service) Profiles(ctx context.Context, offset, limit int) ([]UserProfile, error) {
	ks, err := s.Store.KYCProfiles(ctx, offset, limit)
	if err != nil {
		return nil, core.StoreError("admin: list profiles", err)
	}
	out := make([]UserProfile, 0, len(ks))
	for _, k := range ks {
		u, err := s.Store.UserByID(ctx, k.UserID)
		if err != nil {
			return nil, core.StoreError("admin: read user", err)
		}
		p, err := s.Store.Profile(ctx, k.UserID)
		if err != nil {
			return nil, core.StoreError("admin: read profile", err)
		}
		out = append(out, UserProfile{User: u, Profile: p, KYC: k})
	}
	return out, nil
}

func clip255(field string, v *string) error {
	if v != nil && len(*v) > 255 {
		return fault.Field(fault.Invalid, field, "at most 255 characters")
	}
	return nil
}

// UpdateProfile changes the KYC profile of the user of uid (NotFound when
// it has none). A state of verified or rejected also sets the user's
// private "profile" label to it.
func (s *Service) UpdateProfile(ctx context.Context, uid string, c ProfileChange) (UserProfile, error) {
	for f, v := range map[string]*string{"first_name": c.FirstName, "last_name": c.LastName, "address": c.Address,
		"postcode": c.Postcode, "city": c.City, "country": c.Country} {
		if err := clip255(f, v); err != nil {
			return UserProfile{}, err
		}
	}
	if c.DOB != nil && *c.DOB != "" && (len(*c.DOB) != 10 || strings.Count(*c.DOB, "-") != 2) {
		return UserProfile{}, fault.Field(fault.Invalid, "dob", "YYYY-MM-DD")
	}
	if c.State != nil {
		switch *c.State {
		case ProfileDrafted, ProfileSubmitted, ProfileVerified, ProfileRejected:
		default:
			return UserProfile{}, fault.Field(fault.Invalid, "state", "drafted, submitted, verified or rejected")
		}
	}
	if c.Metadata != nil && len(*c.Metadata) > 4096 {
		return UserProfile{}, fault.Field(fault.Invalid, "metadata", "at most 4096 bytes")
	}
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return UserProfile{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	p, k, err := s.Store.PutKYCProfile(ctx, u.ID, false, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		set(&p.FirstName, c.FirstName)
		set(&p.LastName, c.LastName)
		set(&p.Birthday, c.DOB)
		set(&p.ZipCode, c.Postcode)
		set(&k.Address, c.Address)
		set(&k.City, c.City)
		set(&k.Country, c.Country)
		set(&k.State, c.State)
		set(&k.Metadata, c.Metadata)
		return p, k, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return UserProfile{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return UserProfile{}, core.StoreError("admin: update profile", err)
	}
	if c.State != nil && (*c.State == ProfileVerified || *c.State == ProfileRejected) {
		if _, err := s.Store.PutLabel(ctx, store.Label{UserID: u.ID, Key: "profile", Value: *c.State, Scope: ScopePrivate}); err != nil {
			return UserProfile{}, core.StoreError("admin: profile label", err)
		}
	}
	s.note(ctx, adminUserID(ctx), u.ID, "profiles", "update", nil)
	return UserProfile{User: u, Profile: p, KYC: k}, nil
}
