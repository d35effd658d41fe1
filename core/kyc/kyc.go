// Package kyc is the domain core for what seed 002 (Barong) keeps about a
// user beyond the account: the KYC profile, phone numbers with their codes,
// labels and the level they give. The user's own side (resource.*) and the
// admins' side (admin.*) both call it; neither re-implements a rule.
package kyc

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
)

// Limits are the per-user caps (documented settings).
type Limits struct {
	// PublicLabels caps the labels a user may create for itself.
	PublicLabels int
	// Phones caps the phone numbers a user may add.
	Phones int
}

// DefaultLimits are the documented defaults.
var DefaultLimits = Limits{PublicLabels: 20, Phones: 5}

// LevelRule is one step of the level table: a user holding every rule up
// to and including this one has its level (the rule's index + 1).
type LevelRule struct {
	Key   string
	Value string
}

// DefaultLevels is Barong's default table: email verified → 1, phone
// verified → 2, identity (document) verified → 3.
var DefaultLevels = []LevelRule{{"email", "verified"}, {"phone", "verified"}, {"document", "verified"}}

// Service is the KYC core.
type Service struct {
	Store  store.Store
	Ring   *keyring.Ring
	Codes  *codes.Service
	Limits Limits
	// Levels is the level table; nil is DefaultLevels.
	Levels []LevelRule
	// Activity, when set, receives what the user did (the trail).
	Activity *activity.Recorder
	Now      func() time.Time
	Log      zerolog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Level is the user's level: how many rules of the table it holds, in
// order, from its private labels. The email rule also holds for a
// verified email identifier, which seed 000's and 001's flows set without
// writing a label. It reads the labels at the call, so a label change
// moves the level at once.
func (s *Service) Level(ctx context.Context, u store.User) (int, error) {
	labels, err := s.Store.Labels(ctx, u.ID, store.ScopePrivate)
	if err != nil {
		return 0, core.StoreError("kyc: read labels", err)
	}
	have := make(map[string]string, len(labels))
	for _, l := range labels {
		have[l.Key] = l.Value
	}
	if e, ok := u.Identifier(store.KindEmail); ok && e.Verified {
		if _, set := have["email"]; !set {
			have["email"] = "verified"
		}
	}
	rules := s.Levels
	if rules == nil {
		rules = DefaultLevels
	}
	level := 0
	for _, r := range rules {
		if have[r.Key] != r.Value {
			break
		}
		level++
	}
	return level, nil
}

// storeFault maps the store's sentinels of a user's record.
func storeFault(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound)
	case errors.Is(err, store.ErrLimitReached):
		return fault.New(fault.LimitReached)
	case errors.Is(err, store.ErrAlreadyExists):
		return fault.New(fault.AlreadyExists)
	}
	return core.StoreError(op, err)
}

// note records one of the user's actions in the trail; a failure to record
// is logged, never the action's failure.
func (s *Service) note(ctx context.Context, userID, topic, action string, err error, data map[string]any) {
	if s.Activity == nil {
		return
	}
	result := store.ResultSucceed
	if err != nil {
		result = store.ResultFailed
		if data == nil {
			data = map[string]any{}
		}
		data["error"] = int(fault.CodeOf(err))
	}
	s.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: topic, Action: action, Result: result, Data: data})
}
