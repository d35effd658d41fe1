package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"partnergate/store"
)

// runBarong runs the conformance tests of store.BarongStore
// (store/barong.go).
func runBarong(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UIDs", testUIDs},
		{"KYCProfile", testKYCProfile},
		{"Phones", testPhones},
		{"PhoneCapParallel", testPhoneCapParallel},
		{"Labels", testLabels},
		{"DeleteUserRemovesBarongData", testDeleteUserRemovesBarongData},
	}
	for _, tc := range tests {
		t.Run("Barong/"+tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func barongUser(t *testing.T, s store.Store, id, uid string) {
	t.Helper()
	u := fullUser(id)
	u.UID = uid
	mustCreate(t, s, store.NewUser{User: u, Identifiers: []store.Identifier{email(id)}})
}

func testUIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := fullUser("u1")
	u.UID, u.ReferralUID = "ID00000000A1", "ID00000000B2"
	mustCreate(t, s, store.NewUser{User: u, Identifiers: []store.Identifier{email("a")}})
	got, err := s.UserByUID(ctx, "ID00000000A1")
	if err != nil || got.ID != "u1" || got.UID != "ID00000000A1" || got.ReferralUID != "ID00000000B2" || len(got.Identifiers) != 1 {
		t.Fatalf("UserByUID = %+v, %v", got, err)
	}
	if got, _ := s.UserByID(ctx, "u1"); got.UID != "ID00000000A1" {
		t.Fatalf("UserByID uid %q", got.UID)
	}
	_, err = s.UserByUID(ctx, "ID0000000000")
	wantErr(t, "UserByUID(unknown)", err, store.ErrNotFound)
	_, err = s.UserByUID(ctx, "")
	wantErr(t, "UserByUID(empty)", err, store.ErrNotFound)

	// A uid is unique; users stored without one do not collide.
	dup := fullUser("u2")
	dup.UID = "ID00000000A1"
	err = s.CreateUser(ctx, store.NewUser{User: dup, Identifiers: []store.Identifier{email("b")}})
	wantErr(t, "CreateUser(same uid)", err, store.ErrAlreadyExists)
	mustCreate(t, s, store.NewUser{User: fullUser("n1"), Identifiers: []store.Identifier{email("n1")}})
	mustCreate(t, s, store.NewUser{User: fullUser("n2"), Identifiers: []store.Identifier{email("n2")}})

	// UpdateUser keeps the uid and referral whatever fn does.
	out, err := s.UpdateUser(ctx, "u1", func(u store.User) (store.User, error) {
		u.UID, u.ReferralUID, u.Lang = "IDFFFFFFFFFF", "", "de"
		return u, nil
	})
	if err != nil || out.UID != "ID00000000A1" || out.ReferralUID != "ID00000000B2" {
		t.Fatalf("UpdateUser = %+v, %v", out, err)
	}
	if got, _ := s.UserByUID(ctx, "ID00000000A1"); got.Lang != "de" {
		t.Fatalf("after update %+v", got)
	}
}

func testKYCProfile(t *testing.T, s store.Store) {
	ctx := t.Context()
	barongUser(t, s, "k1", "ID0000000001")
	_, err := s.KYCProfile(ctx, "k1")
	wantErr(t, "KYCProfile(none)", err, store.ErrNotFound)
	_, _, err = s.PutKYCProfile(ctx, "k1", false, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		return p, k, nil
	})
	wantErr(t, "PutKYCProfile(update, none)", err, store.ErrNotFound)
	_, _, err = s.PutKYCProfile(ctx, "nobody", true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		return p, k, nil
	})
	wantErr(t, "PutKYCProfile(no user)", err, store.ErrNotFound)

	p, k, err := s.PutKYCProfile(ctx, "k1", true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		if k.State != store.ProfileDrafted {
			t.Errorf("new row state %q", k.State)
		}
		p.FirstName, p.Birthday, p.ZipCode = "Ann", "1990-01-02", "1011"
		k.Address, k.City, k.Country, k.Metadata = "sealed", "Amsterdam", "NL", `{"a":1}`
		return p, k, nil
	})
	if err != nil || p.FirstName != "Ann" || k.Country != "NL" || k.Created.IsZero() || k.UserID != "k1" {
		t.Fatalf("create = %+v %+v %v", p, k, err)
	}
	// One profile: the shared columns moved for every dialect.
	if got := mustProfile(t, s, "k1"); got.FirstName != "Ann" || got.Birthday != "1990-01-02" || got.ZipCode != "1011" {
		t.Fatalf("shared profile %+v", got)
	}
	_, _, err = s.PutKYCProfile(ctx, "k1", true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		return p, k, nil
	})
	wantErr(t, "PutKYCProfile(create twice)", err, store.ErrAlreadyExists)

	boom := errors.New("boom")
	_, _, err = s.PutKYCProfile(ctx, "k1", false, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		p.FirstName, k.City = "changed", "changed"
		return p, k, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	got, err := s.KYCProfile(ctx, "k1")
	if err != nil || got.City != "Amsterdam" || mustProfile(t, s, "k1").FirstName != "Ann" {
		t.Fatalf("an aborted update wrote: %+v %v", got, err)
	}
	_, k2, err := s.PutKYCProfile(ctx, "k1", false, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		k.State = store.ProfileSubmitted
		return p, k, nil
	})
	if err != nil || k2.State != store.ProfileSubmitted || !k2.Created.Equal(k.Created) {
		t.Fatalf("update = %+v %v", k2, err)
	}
	_, _, err = s.PutKYCProfile(ctx, "k1", false, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
		k.State = "approved"
		return p, k, nil
	})
	if err == nil {
		t.Fatal("a state outside the CHECK was written")
	}
}

func testPhones(t *testing.T, s store.Store) {
	ctx := t.Context()
	barongUser(t, s, "p1", "ID0000000001")
	barongUser(t, s, "p2", "ID0000000002")
	if ps, err := s.Phones(ctx, "p1"); err != nil || len(ps) != 0 {
		t.Fatalf("Phones(none) = %v, %v", ps, err)
	}
	a, err := s.AddPhone(ctx, store.Phone{UserID: "p1", Number: "+31612345678", Country: "NL"}, 3)
	if err != nil || a.ID == 0 || a.Validated != nil || a.Country != "NL" {
		t.Fatalf("AddPhone = %+v, %v", a, err)
	}
	_, err = s.AddPhone(ctx, store.Phone{UserID: "p1", Number: "+31612345678"}, 3)
	wantErr(t, "AddPhone(twice)", err, store.ErrAlreadyExists)
	_, err = s.AddPhone(ctx, store.Phone{UserID: "nobody", Number: "+31612345678"}, 3)
	wantErr(t, "AddPhone(no user)", err, store.ErrNotFound)
	// The same number may wait on another account.
	if _, err := s.AddPhone(ctx, store.Phone{UserID: "p2", Number: "+31612345678"}, 3); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"+31612345679", "+31612345670"} {
		if _, err := s.AddPhone(ctx, store.Phone{UserID: "p1", Number: n}, 3); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.AddPhone(ctx, store.Phone{UserID: "p1", Number: "+31612345671"}, 3)
	wantErr(t, "AddPhone(over cap)", err, store.ErrLimit)
	if ps, _ := s.Phones(ctx, "p1"); len(ps) != 3 || ps[0].Number != "+31612345678" {
		t.Fatalf("Phones = %+v", ps)
	}
	v, err := s.VerifyPhone(ctx, "p1", "+31612345678")
	if err != nil || v.Validated == nil {
		t.Fatalf("VerifyPhone = %+v, %v", v, err)
	}
	again, err := s.VerifyPhone(ctx, "p1", "+31612345678")
	if err != nil || !again.Validated.Equal(*v.Validated) {
		t.Fatalf("VerifyPhone twice moved the time: %+v, %v", again, err)
	}
	_, err = s.VerifyPhone(ctx, "p2", "+31612345678")
	wantErr(t, "VerifyPhone(verified by another)", err, store.ErrAlreadyExists)
	_, err = s.VerifyPhone(ctx, "p1", "+31600000000")
	wantErr(t, "VerifyPhone(unknown)", err, store.ErrNotFound)
	if got, err := s.Phone(ctx, "p1", "+31612345678"); err != nil || got.Validated == nil {
		t.Fatalf("Phone = %+v, %v", got, err)
	}
	_, err = s.Phone(ctx, "p2", "+31612345679")
	wantErr(t, "Phone(another user's)", err, store.ErrNotFound)
}

func testPhoneCapParallel(t *testing.T, s store.Store) {
	barongUser(t, s, "c1", "ID0000000001")
	var ok atomic.Int32
	inParallel(t, "AddPhone", 10, func(i int) error {
		_, err := s.AddPhone(t.Context(), store.Phone{UserID: "c1", Number: fmt.Sprintf("+3161234567%d", i)}, 3)
		if err == nil {
			ok.Add(1)
			return nil
		}
		if errors.Is(err, store.ErrLimit) {
			return nil
		}
		return err
	})
	if n, _ := s.Phones(t.Context(), "c1"); ok.Load() != 3 || len(n) != 3 {
		t.Fatalf("%d accepted, %d stored; the cap is 3", ok.Load(), len(n))
	}
}

func testLabels(t *testing.T, s store.Store) {
	ctx := t.Context()
	barongUser(t, s, "l1", "ID0000000001")
	l, err := s.CreateLabel(ctx, store.Label{UserID: "l1", Key: "tier", Value: "gold", Scope: store.ScopePublic}, 2)
	if err != nil || l.Created.IsZero() || l.Value != "gold" {
		t.Fatalf("CreateLabel = %+v, %v", l, err)
	}
	_, err = s.CreateLabel(ctx, store.Label{UserID: "l1", Key: "tier", Value: "x", Scope: store.ScopePublic}, 2)
	wantErr(t, "CreateLabel(twice)", err, store.ErrAlreadyExists)
	// The same key in the other scope is another label, counted apart.
	if _, err := s.PutLabel(ctx, store.Label{UserID: "l1", Key: "tier", Value: "system", Scope: store.ScopePrivate}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLabel(ctx, store.Label{UserID: "l1", Key: "color", Value: "red", Scope: store.ScopePublic}, 2); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateLabel(ctx, store.Label{UserID: "l1", Key: "third", Value: "x", Scope: store.ScopePublic}, 2)
	wantErr(t, "CreateLabel(over cap)", err, store.ErrLimit)
	_, err = s.CreateLabel(ctx, store.Label{UserID: "nobody", Key: "k", Value: "v", Scope: store.ScopePublic}, 2)
	wantErr(t, "CreateLabel(no user)", err, store.ErrNotFound)
	_, err = s.PutLabel(ctx, store.Label{UserID: "nobody", Key: "k", Value: "v", Scope: store.ScopePrivate})
	wantErr(t, "PutLabel(no user)", err, store.ErrNotFound)

	all, err := s.Labels(ctx, "l1", "")
	if err != nil || len(all) != 3 || all[0].Key != "color" || all[1].Scope != store.ScopePrivate {
		t.Fatalf("Labels = %+v, %v", all, err)
	}
	if pub, _ := s.Labels(ctx, "l1", store.ScopePublic); len(pub) != 2 {
		t.Fatalf("public labels %+v", pub)
	}
	up, err := s.PutLabel(ctx, store.Label{UserID: "l1", Key: "tier", Value: "replaced", Scope: store.ScopePrivate})
	if err != nil || up.Value != "replaced" {
		t.Fatalf("PutLabel(replace) = %+v, %v", up, err)
	}
	u, err := s.UpdateLabel(ctx, "l1", "tier", store.ScopePublic, "silver")
	if err != nil || u.Value != "silver" || !u.Created.Equal(l.Created) {
		t.Fatalf("UpdateLabel = %+v, %v", u, err)
	}
	_, err = s.UpdateLabel(ctx, "l1", "nope", store.ScopePublic, "v")
	wantErr(t, "UpdateLabel(unknown)", err, store.ErrNotFound)
	if got, err := s.Label(ctx, "l1", "tier", store.ScopePrivate); err != nil || got.Value != "replaced" {
		t.Fatalf("Label = %+v, %v", got, err)
	}
	if err := s.DeleteLabel(ctx, "l1", "tier", store.ScopePublic); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteLabel(twice)", s.DeleteLabel(ctx, "l1", "tier", store.ScopePublic), store.ErrNotFound)
	_, err = s.Label(ctx, "l1", "tier", store.ScopePublic)
	wantErr(t, "Label(deleted)", err, store.ErrNotFound)
	if _, err := s.PutLabel(ctx, store.Label{UserID: "l1", Key: "k", Value: "v", Scope: "secret"}); err == nil {
		t.Fatal("a scope outside the CHECK was written")
	}
}

func testDeleteUserRemovesBarongData(t *testing.T, s store.Store) {
	ctx := t.Context()
	barongUser(t, s, "d1", "ID0000000001")
	if _, err := s.AddPhone(ctx, store.Phone{UserID: "d1", Number: "+31612345678"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutLabel(ctx, store.Label{UserID: "d1", Key: "email", Value: "verified", Scope: store.ScopePrivate}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutKYCProfile(ctx, "d1", true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) { return p, k, nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	barongUser(t, s, "d1", "ID0000000001")
	ps, _ := s.Phones(ctx, "d1")
	ls, _ := s.Labels(ctx, "d1", "")
	_, kerr := s.KYCProfile(ctx, "d1")
	if len(ps) != 0 || len(ls) != 0 || !errors.Is(kerr, store.ErrNotFound) {
		t.Fatalf("left behind: %v %v %v", ps, ls, kerr)
	}
}
