package kyc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Profile is Barong's profile: the shared profile's names, birthday and
// zip code with the KYC row (Address and Metadata opened).
type Profile struct {
	Shared store.Profile
	KYC    store.KYCProfile
}

// ProfileInput is a create or an update: nil members are left as they
// are. Confirm submits the profile.
type ProfileInput struct {
	FirstName, LastName, DOB, Address, Postcode, City, Country, Metadata *string
	Confirm                                                              bool
}

// Field limits.
const (
	MaxName     = 255
	MaxAddress  = 1024
	MaxCity     = 255
	MaxPostcode = 32
	MaxMetaKeys = 64
)

func text(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return fault.Field(fault.Invalid, field, "too long")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fault.Field(fault.Invalid, field, "control characters")
		}
	}
	return nil
}

// ParseMetadata accepts "" or a JSON object of at most MaxMetaKeys flat
// members, and returns it compacted.
func ParseMetadata(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	bad := fault.Field(fault.Invalid, "metadata", "a JSON object of at most 64 flat members")
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() || len(m) > MaxMetaKeys {
		return "", bad
	}
	for k, v := range m {
		if k == "" || len(k) > 64 {
			return "", bad
		}
		if t := bytes.TrimSpace(v); len(t) == 0 || t[0] == '{' || t[0] == '[' {
			return "", bad
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", bad
	}
	return string(out), nil
}

// check validates in and normalises what it keeps (country upper-cased,
// metadata compacted).
func (s *Service) check(in *ProfileInput) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"first_name", in.FirstName, MaxName}, {"last_name", in.LastName, MaxName}, {"address", in.Address, MaxAddress}, {"city", in.City, MaxCity}} {
		if f.v != nil {
			if err := text(f.name, *f.v, f.max); err != nil {
				return err
			}
		}
	}
	if in.Postcode != nil {
		if len(*in.Postcode) > MaxPostcode || strings.Trim(*in.Postcode, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -") != "" {
			return fault.Field(fault.Invalid, "postcode", "up to 32 letters, digits, spaces and '-'")
		}
	}
	if in.Country != nil && *in.Country != "" {
		c := strings.ToUpper(*in.Country)
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return fault.Field(fault.Invalid, "country", "ISO 3166-1 alpha-2, e.g. NL")
		}
		in.Country = &c
	}
	if in.DOB != nil && *in.DOB != "" {
		d, err := time.Parse("2006-01-02", *in.DOB)
		if err != nil || d.Year() < 1900 || d.After(s.now()) {
			return fault.Field(fault.Invalid, "dob", "a date YYYY-MM-DD between 1900 and today")
		}
	}
	if in.Metadata != nil {
		m, err := ParseMetadata(*in.Metadata)
		if err != nil {
			return err
		}
		in.Metadata = &m
	}
	return nil
}

func (s *Service) seal(userID, field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	return s.Ring.Seal([]byte(v), "kyc."+field+":"+userID)
}

func (s *Service) open(userID, field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	b, err := s.Ring.Open(v, "kyc."+field+":"+userID)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Service) opened(p store.Profile, k store.KYCProfile) (Profile, error) {
	var err error
	if k.Address, err = s.open(k.UserID, "address", k.Address); err != nil {
		return Profile{}, err
	}
	if k.Metadata, err = s.open(k.UserID, "metadata", k.Metadata); err != nil {
		return Profile{}, err
	}
	return Profile{Shared: p, KYC: k}, nil
}

// Profile returns the user's Barong profile. fault.NotFound when the user
// has not created one.
func (s *Service) Profile(ctx context.Context, userID string) (Profile, error) {
	k, err := s.Store.KYCProfile(ctx, userID)
	if err != nil {
		return Profile{}, storeFault("kyc: profile", err)
	}
	p, err := s.Store.Profile(ctx, userID)
	if err != nil {
		return Profile{}, storeFault("kyc: profile", err)
	}
	return s.opened(p, k)
}

// CreateProfile creates the user's profile, drafted (submitted with
// Confirm). fault.ProfileExists, fault.Invalid.
func (s *Service) CreateProfile(ctx context.Context, userID string, in ProfileInput) (Profile, error) {
	return s.put(ctx, userID, true, in)
}

// UpdateProfile changes a drafted profile (Confirm submits it).
// fault.NotFound when there is none, fault.ProfileLocked once it is
// submitted, verified or rejected, fault.Invalid.
func (s *Service) UpdateProfile(ctx context.Context, userID string, in ProfileInput) (Profile, error) {
	return s.put(ctx, userID, false, in)
}

var errLocked = fault.New(fault.ProfileLocked)

func (s *Service) put(ctx context.Context, userID string, create bool, in ProfileInput) (Profile, error) {
	if err := s.check(&in); err != nil {
		return Profile{}, err
	}
	var sealErr error
	p, k, err := s.Store.PutKYCProfile(ctx, userID, create, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		if !create && k.State != store.ProfileDrafted {
			return p, k, errLocked
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.FirstName, in.FirstName)
		set(&p.LastName, in.LastName)
		set(&p.Birthday, in.DOB)
		set(&p.ZipCode, in.Postcode)
		set(&k.City, in.City)
		set(&k.Country, in.Country)
		if in.Address != nil {
			if k.Address, sealErr = s.seal(userID, "address", *in.Address); sealErr != nil {
				return p, k, sealErr
			}
		}
		if in.Metadata != nil {
			if k.Metadata, sealErr = s.seal(userID, "metadata", *in.Metadata); sealErr != nil {
				return p, k, sealErr
			}
		}
		if in.Confirm {
			k.State = store.ProfileSubmitted
		}
		return p, k, nil
	})
	switch {
	case errors.Is(err, errLocked):
		return Profile{}, fault.New(fault.ProfileLocked)
	case sealErr != nil:
		return Profile{}, sealErr
	case create && errors.Is(err, store.ErrAlreadyExists):
		return Profile{}, fault.New(fault.ProfileExists)
	case errors.Is(err, store.ErrNotFound):
		return Profile{}, fault.New(fault.NotFound)
	case err != nil:
		return Profile{}, core.StoreError("kyc: put profile", err)
	}
	action := "update"
	if create {
		action = "create"
	}
	s.note(ctx, userID, "profile", action, nil, map[string]any{"state": k.State})
	return s.opened(p, k)
}
