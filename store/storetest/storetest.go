// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test calls Run with a constructor for empty stores.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// Run runs the suite. newStore must return a new, empty, migrated store and
// arrange (with t.Cleanup) for it to be closed and removed; each subtest
// gets its own so counts and uniqueness checks do not interfere.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateAndGetUser", testCreateAndGetUser},
		{"CreateUserDefaults", testCreateUserDefaults},
		{"CreateUserDuplicateID", testCreateUserDuplicateID},
		{"IdentifierUniqueOnNorm", testIdentifierUniqueOnNorm},
		{"UserNotFound", testUserNotFound},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserFnErrorAborts", testUpdateUserFnErrorAborts},
		{"UpdateUserInvalidValuesAbort", testUpdateUserInvalidValuesAbort},
		{"UpdateUserNotFound", testUpdateUserNotFound},
		{"UpdateUserConcurrent", testUpdateUserConcurrent},
		{"UpdateProfile", testUpdateProfile},
		{"UpdateProfileFnErrorAborts", testUpdateProfileFnErrorAborts},
		{"UpdateProfileInvalidValuesAbort", testUpdateProfileInvalidValuesAbort},
		{"UpdateProfileNotFound", testUpdateProfileNotFound},
		{"UpdateProfileConcurrent", testUpdateProfileConcurrent},
		{"CreateUserSameEmailParallel", testCreateUserSameEmailParallel},
		{"CreateUserWithMessages", testCreateUserWithMessages},
		{"SetUserRole", testSetUserRole},
		{"SetIdentifier", testSetIdentifier},
		{"ClaimIdentifier", testClaimIdentifier},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"Credentials", testCredentials},
		{"Partners", testPartners},
		{"Outbox", testOutbox},
		{"OutboxDelivery", testOutboxDelivery},
		{"CountUsers", testCountUsers},
		{"SigningKeys", testSigningKeys},
		{"TOTP", testTOTP},
		{"TOTPParallel", testTOTPParallel},
		{"Activities", testActivities},
		{"Access", testAccess},
		{"ListUsers", testListUsers},
		{"CountActivities", testCountActivities},
		{"UsersByLabel", testUsersByLabel},
		{"AccountSettings", testAccountSettings},
		{"AccountSettingsConcurrentCap", testAccountSettingsConcurrentCap},
		{"KYCProfiles", testKYCProfiles},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
	runUserData(t, newStore)
	runChat(t, newStore)
	runBarong(t, newStore)
	runFiles(t, newStore)
	runDocuments(t, newStore)
}

// base is a fixed instant with microsecond precision, the precision stores
// keep.
var base = time.Date(2024, 5, 17, 9, 30, 15, 123456000, time.UTC)

func email(local string) store.Identifier {
	return store.Identifier{Kind: store.KindEmail, Value: local + "@example.com", Norm: strings.ToLower(local) + "@example.com"}
}

// fullUser returns a user with every field set to a distinct non-zero value.
func fullUser(id string) store.User {
	return store.User{
		ID:      id,
		Created: base,
		Updated: base.Add(time.Second),
		State:   store.StateActive,
		Role:    "admin",
		IsNew:   true,
		Lang:    "ru",
	}
}

// fullProfile returns a profile with every field set to a distinct non-zero
// value.
func fullProfile() store.Profile {
	return store.Profile{
		FirstName:    "Zoë",
		LastName:     "O'Brien",
		CompanyName:  "Acme \"Widgets\"",
		CompanyTitle: "CTO",
		Birthday:     "1990-02-28",
		Hometown:     "Zürich",
		Education:    "ETH",
		ZipCode:      "8001",
		Description:  "line one\nline two; DROP TABLE users; --",
		LinkURL:      "https://example.com/zoe?a=1&b=2",
		PrivacyMode:  1,
		Avatar:       "https://cdn.example.com/a.png",
		Avatar3D:     `{"mesh":"m1","scale":[1,2,3]}`,
		Params:       `{"theme":"dark","n":null}`,
		IdentityType: 2,
		IdentityName: "Zoe Corp",
		ZAddress:     "zs1abcdef",

		PublicRoomCount:       1,
		ContactCount:          2,
		PendingContactCount:   3,
		NewInvitationsCount:   4,
		PendingRequestCount:   5,
		NewNotificationsCount: 6,
		IdealMatchCount:       7,
		Sex:                   3,
		News:                  true,
		Restrictions:          [5]bool{true, false, true, false, true},
		DatingModel:           "serious",
	}
}

func allIdentifiers(id, local string) []store.Identifier {
	return []store.Identifier{
		{UserID: id, Kind: store.KindEmail, Value: local + "@example.com", Norm: strings.ToLower(local) + "@example.com", Verified: true},
		{UserID: id, Kind: store.KindPhone, Value: "+41791234567", Norm: "+41791234567"},
		{UserID: id, Kind: store.KindUsername, Value: local, Norm: strings.ToLower(local), Verified: true},
	}
}

// equalUsers compares users field by field, times with Equal.
func equalUsers(t *testing.T, got, want store.User) {
	t.Helper()
	if !got.Created.Equal(want.Created) {
		t.Errorf("Created = %v, want %v", got.Created, want.Created)
	}
	if !got.Updated.Equal(want.Updated) {
		t.Errorf("Updated = %v, want %v", got.Updated, want.Updated)
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	got.Updated, want.Updated = time.Time{}, time.Time{}
	if len(got.Identifiers) == 0 && len(want.Identifiers) == 0 {
		got.Identifiers, want.Identifiers = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("user mismatch\n got: %+v\nwant: %+v", got, want)
	}
}

// equalProfiles compares a profile read back with the one expected.
func equalProfiles(t *testing.T, got, want store.Profile) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile mismatch\n got: %+v\nwant: %+v", got, want)
	}
}

func mustProfile(t *testing.T, s store.Store, id string) store.Profile {
	t.Helper()
	p, err := s.Profile(t.Context(), id)
	if err != nil {
		t.Fatalf("Profile(%s): %v", id, err)
	}
	return p
}

func mustCreate(t *testing.T, s store.Store, nu store.NewUser) {
	t.Helper()
	if err := s.CreateUser(t.Context(), nu); err != nil {
		t.Fatalf("CreateUser(%s): %v", nu.User.ID, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func testCreateAndGetUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	cases := []struct {
		name    string
		user    store.User
		profile store.Profile
		ids     []store.Identifier
	}{
		{"every field", fullUser("u-full"), fullProfile(), allIdentifiers("u-full", "Zoe")},
		{"zero profile", store.User{ID: "u-zero", Created: base, Updated: base, State: store.StateDisabled}, store.Profile{}, nil},
		{"email only", store.User{ID: "u-mail", Created: base, Updated: base, State: store.StateActive}, store.Profile{Params: "{}"},
			[]store.Identifier{{UserID: "u-mail", Kind: store.KindEmail, Value: "Bob@example.com", Norm: "bob@example.com"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustCreate(t, s, store.NewUser{User: tc.user, Profile: tc.profile, Identifiers: tc.ids, PasswordHash: "$argon2id$v=19$x"})
			equalProfiles(t, mustProfile(t, s, tc.user.ID), tc.profile)
			want := tc.user
			want.Identifiers = tc.ids

			got, err := s.UserByID(ctx, tc.user.ID)
			if err != nil {
				t.Fatalf("UserByID: %v", err)
			}
			equalUsers(t, got, want)

			for _, id := range tc.ids {
				got, err := s.UserByIdentifier(ctx, id.Kind, id.Norm)
				if err != nil {
					t.Fatalf("UserByIdentifier(%s): %v", id.Kind, err)
				}
				equalUsers(t, got, want)
				if _, ok := got.Identifier(id.Kind); !ok {
					t.Errorf("Identifier(%s) missing", id.Kind)
				}
			}
		})
	}
}

func testCreateUserDefaults(t *testing.T, s store.Store) {
	// Identifiers given without UserID get the user's id; State defaults
	// to active; Created and Updated come from the store's clock.
	mustCreate(t, s, store.NewUser{
		User:        store.User{ID: "u-1"},
		Identifiers: []store.Identifier{email("one")},
	})
	u, err := s.UserByID(t.Context(), "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if u.State != store.StateActive {
		t.Errorf("State = %q, want %q", u.State, store.StateActive)
	}
	if u.Created.IsZero() || !u.Updated.Equal(u.Created) {
		t.Errorf("Created = %v, Updated = %v: want a clock reading in both", u.Created, u.Updated)
	}
	if len(u.Identifiers) != 1 || u.Identifiers[0].UserID != "u-1" {
		t.Errorf("Identifiers = %+v, want one bound to u-1", u.Identifiers)
	}
}

func testCreateUserDuplicateID(t *testing.T, s store.Store) {
	mustCreate(t, s, store.NewUser{User: store.User{ID: "dup"}, Identifiers: []store.Identifier{email("a")}})
	err := s.CreateUser(t.Context(), store.NewUser{User: store.User{ID: "dup"}, Identifiers: []store.Identifier{email("b")}})
	wantErr(t, "CreateUser(same id)", err, store.ErrAlreadyExists)
	_, err = s.UserByIdentifier(t.Context(), store.KindEmail, "b@example.com")
	wantErr(t, "UserByIdentifier(b)", err, store.ErrNotFound)
}

func testIdentifierUniqueOnNorm(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{
		User:        store.User{ID: "alice"},
		Identifiers: []store.Identifier{{Kind: store.KindEmail, Value: "Alice@example.com", Norm: "alice@example.com"}},
	})
	cases := []struct {
		name string
		ids  []store.Identifier
	}{
		{"email differing in case", []store.Identifier{
			{Kind: store.KindUsername, Value: "Alice2", Norm: "alice2"},
			{Kind: store.KindEmail, Value: "ALICE@example.com", Norm: "alice@example.com"},
		}},
		{"email listed first", []store.Identifier{
			{Kind: store.KindEmail, Value: "alice@example.com", Norm: "alice@example.com"},
			{Kind: store.KindPhone, Value: "+15550001", Norm: "+15550001"},
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("loser-%d", i)
			err := s.CreateUser(ctx, store.NewUser{User: store.User{ID: id}, Identifiers: tc.ids, PasswordHash: "h"})
			wantErr(t, "CreateUser", err, store.ErrAlreadyExists)

			// Nothing half-written: no user, no other identifier, no credential.
			_, err = s.UserByID(ctx, id)
			wantErr(t, "UserByID(loser)", err, store.ErrNotFound)
			for _, ident := range tc.ids {
				if ident.Kind == store.KindEmail {
					continue
				}
				_, err = s.UserByIdentifier(ctx, ident.Kind, ident.Norm)
				wantErr(t, "UserByIdentifier("+ident.Kind+")", err, store.ErrNotFound)
			}
			_, err = s.Credential(ctx, id)
			wantErr(t, "Credential(loser)", err, store.ErrNotFound)
		})
	}

	// The same normalised value under another kind is a different
	// identifier.
	mustCreate(t, s, store.NewUser{
		User:        store.User{ID: "other-kind"},
		Identifiers: []store.Identifier{{Kind: store.KindUsername, Value: "alice@example.com", Norm: "alice@example.com"}},
	})
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}
	u, err := s.UserByIdentifier(ctx, store.KindEmail, "alice@example.com")
	if err != nil || u.ID != "alice" {
		t.Fatalf("UserByIdentifier(email) = %q, %v; want alice", u.ID, err)
	}
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: store.User{ID: "u"}, Identifiers: []store.Identifier{email("known")}})
	cases := []struct{ kind, norm string }{
		{store.KindEmail, "unknown@example.com"},
		{store.KindUsername, "known@example.com"}, // right value, wrong kind
		{store.KindEmail, "KNOWN@example.com"},    // lookups are on Norm, verbatim
		{store.KindPhone, ""},
	}
	for _, c := range cases {
		_, err := s.UserByIdentifier(ctx, c.kind, c.norm)
		wantErr(t, fmt.Sprintf("UserByIdentifier(%s, %q)", c.kind, c.norm), err, store.ErrNotFound)
	}
	_, err := s.UserByID(ctx, "nobody")
	wantErr(t, "UserByID", err, store.ErrNotFound)
	_, err = s.Profile(ctx, "nobody")
	wantErr(t, "Profile", err, store.ErrNotFound)
}

func testUpdateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := fullUser("u")
	ids := allIdentifiers("u", "zoe")
	mustCreate(t, s, store.NewUser{User: orig, Profile: fullProfile(), Identifiers: ids})
	before, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // so a real clock moves past Updated

	got, err := s.UpdateUser(ctx, "u", func(u store.User) (store.User, error) {
		equalUsers(t, u, before)
		u.ID = "hijacked"                // ignored
		u.Created = base.Add(-time.Hour) // ignored
		u.Identifiers = nil              // ignored
		u.State = store.StateDisabled
		u.Role = "member"
		u.IsNew = false
		u.Lang = "de"
		return u, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got.ID != "u" || !got.Created.Equal(before.Created) {
		t.Errorf("ID/Created changed: %q %v", got.ID, got.Created)
	}
	if !got.Updated.After(before.Updated) {
		t.Errorf("Updated = %v, want after %v", got.Updated, before.Updated)
	}
	if len(got.Identifiers) != len(ids) {
		t.Errorf("Identifiers = %+v, want the stored ones", got.Identifiers)
	}

	want := before
	want.Updated = got.Updated
	want.State = store.StateDisabled
	want.Role = "member"
	want.IsNew = false
	want.Lang = "de"
	equalUsers(t, got, want)
	// The profile is not the user's to write.
	equalProfiles(t, mustProfile(t, s, "u"), fullProfile())

	reread, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	equalUsers(t, reread, want)
	if _, err := s.UserByID(ctx, "hijacked"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(hijacked) = %v, want ErrNotFound", err)
	}
}

func testUpdateUserFnErrorAborts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u"), Identifiers: allIdentifiers("u", "zoe")})
	before, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx, "u", func(u store.User) (store.User, error) {
		u.Lang = "de"
		u.Identifiers[0].Value = "mutated@example.com" // must not leak into the store
		return u, boom
	})
	wantErr(t, "UpdateUser", err, boom)
	after, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	equalUsers(t, after, before)
}

func testUpdateUserInvalidValuesAbort(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u")})
	before, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		set  func(*store.User)
	}{
		{"unknown state", func(u *store.User) { u.State = "zombie" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateUser(ctx, "u", func(u store.User) (store.User, error) {
				u.Lang = "de"
				tc.set(&u)
				return u, nil
			})
			if err == nil {
				t.Fatal("UpdateUser accepted an invalid value")
			}
			wantCheckViolation(t, err)
			after, err := s.UserByID(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			equalUsers(t, after, before)
		})
	}
}

func testUpdateUserNotFound(t *testing.T, s store.Store) {
	updateNotFound(t, "UpdateUser", s.UpdateUser)
}

// updateNotFound checks an update function on a missing user: ErrNotFound,
// and fn never called.
func updateNotFound[T any](t *testing.T, op string, update func(context.Context, string, func(T) (T, error)) (T, error)) {
	t.Helper()
	called := false
	_, err := update(t.Context(), "nobody", func(v T) (T, error) {
		called = true
		return v, nil
	})
	wantErr(t, op, err, store.ErrNotFound)
	if called {
		t.Error("fn called for a missing user")
	}
}

// wantCheckViolation: a value the schema refuses is an error, and none of
// the sentinels, which mean something else to callers.
func wantCheckViolation(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("err = %v: a check violation is none of the sentinels", err)
	}
}

// inParallel runs fn(0..n-1) at once and reports every error under op.
func inParallel(t *testing.T, op string, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("%s: %v", op, err)
	}
}

func testUpdateUserConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: store.User{ID: "u"}})
	const n = 20
	inParallel(t, "UpdateUser", n, func(i int) error {
		_, err := s.UpdateUser(ctx, "u", func(u store.User) (store.User, error) {
			u.Role += fmt.Sprintf("[%02d]", i)
			return u, nil
		})
		return err
	})
	u, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if mark := fmt.Sprintf("[%02d]", i); strings.Count(u.Role, mark) != 1 {
			t.Errorf("Role %q holds %s %d times, want once (lost updates)", u.Role, mark, strings.Count(u.Role, mark))
		}
	}
}

func testUpdateProfile(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u"), Profile: fullProfile(), Identifiers: allIdentifiers("u", "zoe")})
	before, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // so a real clock moves past Updated

	got, err := s.UpdateProfile(ctx, "u", func(p store.Profile) (store.Profile, error) {
		equalProfiles(t, p, fullProfile())
		p.FirstName = "Zoé"
		p.Description = ""
		p.PrivacyMode = 0
		p.Avatar3D = ""
		p.Params = `{"theme":"light"}`
		p.IdentityType = 0
		p.ContactCount = 42
		p.IdealMatchCount = 0
		p.Sex = -1
		p.Restrictions[2] = false
		return p, nil
	})
	if err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	want := fullProfile()
	want.FirstName = "Zoé"
	want.Description = ""
	want.PrivacyMode = 0
	want.Avatar3D = ""
	want.Params = `{"theme":"light"}`
	want.IdentityType = 0
	want.ContactCount = 42
	want.IdealMatchCount = 0
	want.Sex = -1
	want.Restrictions[2] = false
	equalProfiles(t, got, want)
	equalProfiles(t, mustProfile(t, s, "u"), want)

	// The user is untouched but for Updated.
	after, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if !after.Updated.After(before.Updated) {
		t.Errorf("Updated = %v, want after %v", after.Updated, before.Updated)
	}
	before.Updated = after.Updated
	equalUsers(t, after, before)
}

func testUpdateProfileFnErrorAborts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u"), Profile: fullProfile()})
	before, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err = s.UpdateProfile(ctx, "u", func(p store.Profile) (store.Profile, error) {
		p.FirstName = "changed"
		return p, boom
	})
	wantErr(t, "UpdateProfile", err, boom)
	equalProfiles(t, mustProfile(t, s, "u"), fullProfile())
	after, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	equalUsers(t, after, before)
}

func testUpdateProfileInvalidValuesAbort(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u"), Profile: fullProfile()})
	cases := []struct {
		name string
		set  func(*store.Profile)
	}{
		{"privacy mode 2", func(p *store.Profile) { p.PrivacyMode = 2 }},
		{"identity type 3", func(p *store.Profile) { p.IdentityType = 3 }},
		{"negative counter", func(p *store.Profile) { p.ContactCount = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateProfile(ctx, "u", func(p store.Profile) (store.Profile, error) {
				p.FirstName = "should not be written"
				tc.set(&p)
				return p, nil
			})
			if err == nil {
				t.Fatal("UpdateProfile accepted an invalid value")
			}
			wantCheckViolation(t, err)
			equalProfiles(t, mustProfile(t, s, "u"), fullProfile())
		})
	}
}

func testUpdateProfileNotFound(t *testing.T, s store.Store) {
	updateNotFound(t, "UpdateProfile", s.UpdateProfile)
}

func testUpdateProfileConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: store.User{ID: "u"}})
	const n = 20
	inParallel(t, "UpdateProfile", n, func(i int) error {
		_, err := s.UpdateProfile(ctx, "u", func(p store.Profile) (store.Profile, error) {
			p.Description += fmt.Sprintf("[%02d]", i)
			p.ContactCount++
			return p, nil
		})
		return err
	})
	p := mustProfile(t, s, "u")
	if p.ContactCount != n {
		t.Errorf("ContactCount = %d, want %d (lost updates)", p.ContactCount, n)
	}
	for i := range n {
		if mark := fmt.Sprintf("[%02d]", i); strings.Count(p.Description, mark) != 1 {
			t.Errorf("Description %q holds %s %d times, want once", p.Description, mark, strings.Count(p.Description, mark))
		}
	}
}

func testCreateUserSameEmailParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 50
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		ok, exists, other int
		winner            string
	)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("racer-%02d", i)
			err := s.CreateUser(ctx, store.NewUser{
				User:         store.User{ID: id},
				Identifiers:  []store.Identifier{{Kind: store.KindEmail, Value: "Race@example.com", Norm: "race@example.com"}},
				PasswordHash: "h",
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				winner = id
			case errors.Is(err, store.ErrAlreadyExists):
				exists++
			default:
				other++
				t.Errorf("CreateUser(%s): %v", id, err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || exists != n-1 || other != 0 {
		t.Fatalf("successes = %d, ErrAlreadyExists = %d, other = %d; want 1, %d, 0", ok, exists, other, n-1)
	}
	if c, err := s.CountUsers(ctx); err != nil || c != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", c, err)
	}
	u, err := s.UserByIdentifier(ctx, store.KindEmail, "race@example.com")
	if err != nil || u.ID != winner {
		t.Errorf("UserByIdentifier = %q, %v; want %q", u.ID, err, winner)
	}
}

func testSetUserRole(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: fullUser("u")})
	if err := s.SetUserRole(ctx, "u", "support"); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByID(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != "support" {
		t.Errorf("Role = %q, want support", u.Role)
	}
	wantErr(t, "SetUserRole(missing)", s.SetUserRole(ctx, "nobody", "x"), store.ErrNotFound)
}

func testDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := allIdentifiers("u", "gone")
	mustCreate(t, s, store.NewUser{User: fullUser("u"), Profile: fullProfile(), Identifiers: ids, PasswordHash: "h"})
	mustCreate(t, s, store.NewUser{User: store.User{ID: "keep"}, Identifiers: []store.Identifier{email("keep")}, PasswordHash: "k"})

	if err := s.DeleteUser(ctx, "u"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.UserByID(ctx, "u")
	wantErr(t, "UserByID", err, store.ErrNotFound)
	for _, id := range ids {
		_, err := s.UserByIdentifier(ctx, id.Kind, id.Norm)
		wantErr(t, "UserByIdentifier("+id.Kind+")", err, store.ErrNotFound)
	}
	_, err = s.Credential(ctx, "u")
	wantErr(t, "Credential", err, store.ErrNotFound)
	_, err = s.Profile(ctx, "u")
	wantErr(t, "Profile", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "u"), store.ErrNotFound)

	// The identifiers are really gone: a new user may take them.
	mustCreate(t, s, store.NewUser{User: store.User{ID: "u2"}, Identifiers: ids})
	// And the other user is untouched.
	if c, err := s.Credential(ctx, "keep"); err != nil || c.PasswordHash != "k" {
		t.Errorf("Credential(keep) = %+v, %v", c, err)
	}
}
