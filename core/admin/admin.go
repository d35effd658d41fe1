// Package admin is what admins do to users, once for every dialect that
// offers it (seed 002's admin.* today): list and read them, change their
// state (a ban ends every session at once) and role (never above the
// admin's own), turn their 2FA off, and count what the trail holds. Who
// may call what is decided by core/access before any of this runs; every
// change is recorded in the admin activity trail.
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/store"
)

// Page sizes of List.
const (
	DefaultLimit = 100
	MaxLimit     = 100
)

// Service serves the admin side.
type Service struct {
	Store    store.Store
	Accounts *accounts.Service
	Policy   *access.Policy
	Activity *activity.Recorder
	Log      zerolog.Logger
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// List reads the users f selects. A zero Limit is DefaultLimit; outside
// 1..MaxLimit is a field error.
func (s *Service) List(ctx context.Context, f store.UserFilter) ([]store.User, error) {
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, fault.Field(fault.Invalid, "limit", fmt.Sprintf("1 to %d", MaxLimit))
	}
	if f.Offset < 0 {
		return nil, fault.Field(fault.Invalid, "page", "1 or more")
	}
	us, err := s.Store.ListUsers(ctx, f)
	if err != nil {
		return nil, core.StoreError("admin: list users", err)
	}
	return us, nil
}

// ByUID reads one user by Barong uid. NotFound.
func (s *Service) ByUID(ctx context.Context, uid string) (store.User, error) {
	if uid == "" {
		return store.User{}, fault.Field(fault.Invalid, "uid", "required")
	}
	u, err := s.Store.UserByUID(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.User{}, core.StoreError("admin: read user", err)
	}
	return u, nil
}

// actor is the calling admin: its role's rank (a partner key acting as
// itself ranks as superadmin: its scope was granted by the operator).
func (s *Service) actorRank(ctx context.Context) (int, string, error) {
	c := core.CallFrom(ctx)
	if c.ActorKind != "user" {
		r, _ := s.Policy.Rank("superadmin")
		return r, "", nil
	}
	u, err := s.Store.UserByID(ctx, c.ActorID)
	if err != nil {
		return 0, "", core.StoreError("admin: read caller", err)
	}
	r, ok := s.Policy.Rank(u.Role)
	if !ok {
		return -1, u.ID, nil
	}
	return r, u.ID, nil
}

// outranks refuses a change to target by a caller ranked below it.
func (s *Service) outranks(ctx context.Context, target store.User) (string, error) {
	mine, me, err := s.actorRank(ctx)
	if err != nil {
		return "", err
	}
	theirs, _ := s.Policy.Rank(target.Role)
	if theirs > mine {
		return me, fault.New(fault.RoleAboveOwn)
	}
	return me, nil
}

// SetRole gives the user role: a configured role, ranked no higher than the
// caller's, on a user ranked no higher than the caller. The user's
// sessions end, so the next one starts under the new role (SECURITY.md 11).
func (s *Service) SetRole(ctx context.Context, uid, role string) (store.User, error) {
	if _, ok := s.Policy.Rank(role); !ok || role == "" {
		return store.User{}, fault.New(fault.RoleUnknown)
	}
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return store.User{}, err
	}
	me, err := s.outranks(ctx, u)
	if err != nil {
		return store.User{}, err
	}
	mine, _, _ := s.actorRank(ctx)
	if r, _ := s.Policy.Rank(role); r > mine {
		return store.User{}, fault.New(fault.RoleAboveOwn)
	}
	old := u.Role
	if role == access.MemberRole {
		role = ""
	}
	if err := s.Store.SetUserRole(ctx, u.ID, role); err != nil {
		return store.User{}, core.StoreError("admin: set role", err)
	}
	if _, err := s.Accounts.EndUserSessions(ctx, u.ID, ""); err != nil {
		return store.User{}, err
	}
	s.note(ctx, me, u.ID, "users", "role", map[string]any{"from": roleName(old), "to": roleName(role)})
	return s.reread(ctx, u.ID)
}

func roleName(r string) string {
	if r == "" {
		return access.MemberRole
	}
	return r
}

// Barong's user states as the admin side sets them.
const (
	BarongActive  = "active"
	BarongBanned  = "banned"
	BarongLocked  = "locked"
	BarongDeleted = "deleted"
)

// Update applies Barong's admin.users.update: state (active, banned,
// locked, deleted) and otp false (2FA off, without a code). A ban, a lock
// or a deletion ends every session of the user at once in every
// namespace. otp true is refused: only the user can enrol a device.
func (s *Service) Update(ctx context.Context, uid string, state *string, otpOn *bool) (store.User, error) {
	u, err := s.ByUID(ctx, uid)
	if err != nil {
		return store.User{}, err
	}
	if state == nil && otpOn == nil {
		return store.User{}, fault.Field(fault.Invalid, "state", "state or otp required")
	}
	me, err := s.outranks(ctx, u)
	if err != nil {
		return store.User{}, err
	}
	if otpOn != nil && *otpOn {
		return store.User{}, fault.Field(fault.Invalid, "otp", "only false: the user enables 2FA")
	}
	if state != nil {
		want := store.StateActive
		switch *state {
		case BarongActive:
		case BarongBanned, BarongLocked, BarongDeleted:
			want = store.StateDisabled
		default:
			return store.User{}, fault.Field(fault.Invalid, "state", "active, banned, locked or deleted")
		}
		if want == store.StateDisabled && u.ID == core.CallFrom(ctx).ActorID {
			return store.User{}, fault.Field(fault.Invalid, "state", "an admin cannot ban itself")
		}
		if _, err := s.Store.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) {
			x.State = want
			return x, nil
		}); err != nil {
			return store.User{}, core.StoreError("admin: update user", err)
		}
		if want == store.StateDisabled {
			if _, err := s.Accounts.EndUserSessions(ctx, u.ID, ""); err != nil {
				return store.User{}, err
			}
		}
		s.note(ctx, me, u.ID, "users", "state", map[string]any{"state": *state})
	}
	if otpOn != nil {
		if err := s.Store.DisableTOTP(ctx, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, core.StoreError("admin: disable 2FA", err)
		}
		s.note(ctx, me, u.ID, "otp", "disable", nil)
	}
	return s.reread(ctx, u.ID)
}

func (s *Service) reread(ctx context.Context, id string) (store.User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return store.User{}, core.StoreError("admin: read user", err)
	}
	return u, nil
}

// note records an admin's change in the admin trail, beside the AUDIT
// rows' entries: these name the target.
func (s *Service) note(ctx context.Context, adminID, targetID, topic, action string, data map[string]any) {
	s.Activity.Note(ctx, activity.Entry{UserID: adminID, TargetID: targetID, Category: store.CategoryAdmin,
		Topic: topic, Action: action, Data: data})
}

// Metrics are the counts of admin.metrics over a period.
type Metrics struct {
	From, To         time.Time
	Signups          int64
	SuccessfulLogins int64
	FailedLogins     int64
	// Buckets are the same counts per UTC day (per hour for periods of two
	// days or less).
	Buckets []Bucket
}

// Bucket is one day's (or hour's) counts.
type Bucket struct {
	Start            time.Time
	Signups          int64
	SuccessfulLogins int64
	FailedLogins     int64
}

// MaxMetricsPeriod bounds admin.metrics.
const MaxMetricsPeriod = 92 * 24 * time.Hour

// Metrics counts signups and logins (successful and failed, from the
// activity trail) between from and to (zero: the last 7 days).
func (s *Service) Metrics(ctx context.Context, from, to time.Time) (Metrics, error) {
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-7 * 24 * time.Hour)
	}
	if !from.Before(to) {
		return Metrics{}, fault.Field(fault.Invalid, "created_from", "before created_to")
	}
	if to.Sub(from) > MaxMetricsPeriod {
		return Metrics{}, fault.Field(fault.Invalid, "created_from", "a period of at most 92 days")
	}
	step := 24 * time.Hour
	if to.Sub(from) <= 48*time.Hour {
		step = time.Hour
	}
	m := Metrics{From: from.UTC(), To: to.UTC()}
	for start := from.UTC().Truncate(step); start.Before(to); start = start.Add(step) {
		lo, hi := start, start.Add(step)
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		b := Bucket{Start: start}
		var err error
		if b.Signups, err = s.Store.CountUsersSince(ctx, lo, hi); err != nil {
			return Metrics{}, core.StoreError("admin: count signups", err)
		}
		if b.SuccessfulLogins, err = s.Store.CountActivities(ctx, store.ActivityFilter{Category: store.CategoryUser,
			Topic: "session", Action: "login", Result: store.ResultSucceed, Since: lo, Until: hi}); err != nil {
			return Metrics{}, core.StoreError("admin: count logins", err)
		}
		if b.FailedLogins, err = s.Store.CountActivities(ctx, store.ActivityFilter{Category: store.CategoryUser,
			Topic: "session", Action: "login", Result: store.ResultFailed, Since: lo, Until: hi}); err != nil {
			return Metrics{}, core.StoreError("admin: count failed logins", err)
		}
		m.Signups += b.Signups
		m.SuccessfulLogins += b.SuccessfulLogins
		m.FailedLogins += b.FailedLogins
		m.Buckets = append(m.Buckets, b)
	}
	return m, nil
}
