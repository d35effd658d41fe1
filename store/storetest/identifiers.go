package storetest

import (
	"context"
	"errors"
	"testing"

	"partnergate/store"
)

func testSetIdentifier(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(id, email string) {
		t.Helper()
		err := s.CreateUser(ctx, store.NewUser{
			User:        store.User{ID: id, State: store.StateActive},
			Identifiers: []store.Identifier{{Kind: store.KindEmail, Value: email, Norm: email}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("u-a", "a@example.com")
	mk("u-b", "b@example.com")

	cases := []struct {
		name string
		id   store.Identifier
		want error
	}{
		{"replace own email", store.Identifier{UserID: "u-a", Kind: store.KindEmail, Value: "A2@example.com", Norm: "a2@example.com", Verified: true}, nil},
		{"add a phone", store.Identifier{UserID: "u-a", Kind: store.KindPhone, Value: "+15551234567", Norm: "+15551234567"}, nil},
		{"take another's email", store.Identifier{UserID: "u-a", Kind: store.KindEmail, Value: "b@example.com", Norm: "b@example.com"}, store.ErrAlreadyExists},
		{"unknown user", store.Identifier{UserID: "u-none", Kind: store.KindEmail, Value: "c@example.com", Norm: "c@example.com"}, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.SetIdentifier(ctx, c.id)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	u, err := s.UserByID(ctx, "u-a")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := u.Identifier(store.KindEmail)
	p, _ := u.Identifier(store.KindPhone)
	if e.Norm != "a2@example.com" || !e.Verified || p.Value != "+15551234567" || len(u.Identifiers) != 2 {
		t.Fatalf("identifiers after changes: %+v", u.Identifiers)
	}
	// The failed takeover left the old email in force.
	if _, err := s.UserByIdentifier(ctx, store.KindEmail, "a@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old email still resolves: %v", err)
	}
	if got, err := s.UserByIdentifier(ctx, store.KindEmail, "b@example.com"); err != nil || got.ID != "u-b" {
		t.Fatalf("b's email: %v %v", got.ID, err)
	}
}

// testClaimIdentifier: a claim verifies one identifier and leaves the
// account with nothing else set before it, no password and no other
// identifier, so a squatter's remain nowhere.
func testClaimIdentifier(t *testing.T, s store.Store) {
	ctx := context.Background()
	err := s.CreateUser(ctx, store.NewUser{
		User: store.User{ID: "u-claim", State: store.StateActive},
		Identifiers: []store.Identifier{
			{Kind: store.KindEmail, Value: "claim@example.com", Norm: "claim@example.com"},
			{Kind: store.KindPhone, Value: "+15551230000", Norm: "+15551230000", Verified: true},
		},
		PasswordHash: "$argon2id$squatter",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimIdentifier(ctx, "u-claim", store.KindUsername); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim of a kind the user lacks: %v", err)
	}
	if err := s.ClaimIdentifier(ctx, "u-claim", store.KindEmail); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByID(ctx, "u-claim")
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := u.Identifier(store.KindEmail); !e.Verified || len(u.Identifiers) != 1 {
		t.Fatalf("identifiers after the claim: %+v", u.Identifiers)
	}
	if _, err := s.UserByIdentifier(ctx, store.KindPhone, "+15551230000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the other identifier still resolves: %v", err)
	}
	if _, err := s.Credential(ctx, "u-claim"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the password survived the claim: %v", err)
	}
}
