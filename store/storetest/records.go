package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"partnergate/store"
)

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, store.NewUser{User: store.User{ID: "nopass"}})
	mustCreate(t, s, store.NewUser{User: store.User{ID: "withpass"}, PasswordHash: "$argon2id$first"})

	_, err := s.Credential(ctx, "nopass")
	wantErr(t, "Credential(nopass)", err, store.ErrNotFound)
	_, err = s.Credential(ctx, "nobody")
	wantErr(t, "Credential(nobody)", err, store.ErrNotFound)

	c, err := s.Credential(ctx, "withpass")
	if err != nil || c.UserID != "withpass" || c.PasswordHash != "$argon2id$first" || c.Updated.IsZero() {
		t.Fatalf("Credential(withpass) = %+v, %v", c, err)
	}

	for _, h := range []string{"$argon2id$second", "$argon2id$third"} {
		if err := s.SetPasswordHash(ctx, "nopass", h); err != nil {
			t.Fatalf("SetPasswordHash(%s): %v", h, err)
		}
		c, err := s.Credential(ctx, "nopass")
		if err != nil || c.PasswordHash != h || c.Updated.IsZero() {
			t.Fatalf("Credential after set = %+v, %v; want %s", c, err, h)
		}
	}
	wantErr(t, "SetPasswordHash(nobody)", s.SetPasswordHash(ctx, "nobody", "h"), store.ErrNotFound)
	if _, err := s.UserByID(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPasswordHash created a user: %v", err)
	}
}

func testPartners(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ps, err := s.Partners(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("Partners on empty store = %+v, %v", ps, err)
	}
	// Created out of order so "oldest first" is not insertion order.
	newer := store.Partner{KID: "k-new", Name: "Newer", SecretSealed: "sealed-2", Scopes: []string{"users:read"}, Created: base.Add(time.Hour)}
	older := store.Partner{KID: "k-old", Name: "Older", SecretSealed: "sealed-1", Scopes: []string{"users:read", "users:write", "admin"}, Created: base}
	bare := store.Partner{KID: "k-bare", SecretSealed: "sealed-3", Created: base.Add(2 * time.Hour)}
	for _, p := range []store.Partner{newer, older, bare} {
		if err := s.CreatePartner(ctx, p); err != nil {
			t.Fatalf("CreatePartner(%s): %v", p.KID, err)
		}
	}
	wantErr(t, "CreatePartner(duplicate)", s.CreatePartner(ctx, store.Partner{KID: "k-old", SecretSealed: "x", Created: base}), store.ErrAlreadyExists)

	equalPartner := func(got, want store.Partner) {
		t.Helper()
		if got.KID != want.KID || got.Name != want.Name || got.SecretSealed != want.SecretSealed ||
			!got.Created.Equal(want.Created) || strings.Join(got.Scopes, " ") != strings.Join(want.Scopes, " ") ||
			(got.Revoked == nil) != (want.Revoked == nil) {
			t.Errorf("partner = %+v, want %+v", got, want)
		}
	}
	got, err := s.Partner(ctx, "k-old")
	if err != nil {
		t.Fatal(err)
	}
	equalPartner(got, older)
	_, err = s.Partner(ctx, "k-missing")
	wantErr(t, "Partner(missing)", err, store.ErrNotFound)

	if err := s.RevokePartner(ctx, "k-new"); err != nil {
		t.Fatalf("RevokePartner: %v", err)
	}
	revoked, err := s.Partner(ctx, "k-new")
	if err != nil || revoked.Revoked == nil || revoked.Revoked.IsZero() {
		t.Fatalf("after revoke: %+v, %v; want Revoked set", revoked, err)
	}
	first := *revoked.Revoked
	time.Sleep(2 * time.Millisecond)
	if err := s.RevokePartner(ctx, "k-new"); err != nil {
		t.Fatalf("RevokePartner twice: %v", err)
	}
	again, err := s.Partner(ctx, "k-new")
	if err != nil || again.Revoked == nil || !again.Revoked.Equal(first) {
		t.Errorf("second revoke moved the time: %v -> %v (%v)", first, again.Revoked, err)
	}
	wantErr(t, "RevokePartner(missing)", s.RevokePartner(ctx, "k-missing"), store.ErrNotFound)

	list, err := s.Partners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("Partners = %d entries, want 3", len(list))
	}
	newer.Revoked = &first
	for i, want := range []store.Partner{older, newer, bare} {
		equalPartner(list[i], want)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ms, err := s.MessagesTo(ctx, "a@example.com", 10); err != nil || len(ms) != 0 {
		t.Fatalf("MessagesTo on empty outbox = %+v, %v", ms, err)
	}
	var ids []int64
	for i := range 5 {
		for _, m := range []store.Message{
			{Channel: "email", To: "a@example.com", Subject: fmt.Sprintf("code %d", i), Body: fmt.Sprintf("your code is %d", i), Created: base.Add(time.Duration(i) * time.Second)},
			{Channel: "sms", To: "+15550100", Body: fmt.Sprintf("sms %d", i)},
		} {
			id, err := s.EnqueueMessage(ctx, m)
			if err != nil {
				t.Fatalf("EnqueueMessage: %v", err)
			}
			if len(ids) > 0 && id <= ids[len(ids)-1] {
				t.Fatalf("id %d not after %d", id, ids[len(ids)-1])
			}
			ids = append(ids, id)
		}
	}
	sent := base.Add(time.Minute)
	if _, err := s.EnqueueMessage(ctx, store.Message{Channel: "email", To: "b@example.com", Body: "done", Created: base, Sent: &sent}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueMessage(ctx, store.Message{Channel: "pigeon", To: "c", Body: "x"}); err == nil {
		t.Error("EnqueueMessage accepted an unknown channel")
	}

	cases := []struct {
		to    string
		limit int
		want  []string // bodies, newest first
	}{
		{"a@example.com", 3, []string{"your code is 4", "your code is 3", "your code is 2"}},
		{"a@example.com", 0, []string{"your code is 4", "your code is 3", "your code is 2", "your code is 1", "your code is 0"}},
		{"a@example.com", 100, []string{"your code is 4", "your code is 3", "your code is 2", "your code is 1", "your code is 0"}},
		{"+15550100", 1, []string{"sms 4"}},
		{"b@example.com", 10, []string{"done"}},
		{"nobody@example.com", 10, nil},
	}
	for _, c := range cases {
		ms, err := s.MessagesTo(ctx, c.to, c.limit)
		if err != nil {
			t.Fatalf("MessagesTo(%s, %d): %v", c.to, c.limit, err)
		}
		var bodies []string
		for _, m := range ms {
			bodies = append(bodies, m.Body)
			if m.To != c.to {
				t.Errorf("MessagesTo(%s) returned a message to %s", c.to, m.To)
			}
		}
		if !reflect.DeepEqual(bodies, c.want) {
			t.Errorf("MessagesTo(%s, %d) = %q, want %q", c.to, c.limit, bodies, c.want)
		}
	}

	ms, err := s.MessagesTo(ctx, "a@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if m.ID != ids[8] || m.Channel != "email" || m.Subject != "code 4" || !m.Created.Equal(base.Add(4*time.Second)) || m.Sent != nil {
		t.Errorf("newest message = %+v", m)
	}
	ms, err = s.MessagesTo(ctx, "+15550100", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Created.IsZero() {
		t.Error("Created not taken from the clock")
	}
	ms, err = s.MessagesTo(ctx, "b@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Sent == nil || !ms[0].Sent.Equal(sent) {
		t.Errorf("Sent = %v, want %v", ms[0].Sent, sent)
	}
}

func testCountUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	count := func(want int64) {
		t.Helper()
		n, err := s.CountUsers(ctx)
		if err != nil || n != want {
			t.Fatalf("CountUsers = %d, %v; want %d", n, err, want)
		}
	}
	count(0)
	for i := range 3 {
		mustCreate(t, s, store.NewUser{User: store.User{ID: fmt.Sprintf("u%d", i)}, Identifiers: []store.Identifier{email(fmt.Sprintf("u%d", i))}})
	}
	count(3)
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	count(2)
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
