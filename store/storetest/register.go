package storetest

import (
	"testing"

	"partnergate/store"
)

// testCreateUserWithMessages: a registration's verification messages are
// written in the user's transaction. When the outbox write fails (a
// channel the outbox table's CHECK refuses: a real failure of the
// database's, after the user, identifier and credential rows were
// inserted), nothing of the user is left: no row, no identifier held, no
// credential, no message; and the same registration then succeeds.
func testCreateUserWithMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	nu := func(channel string) store.NewUser {
		return store.NewUser{
			User:         store.User{ID: "u-reg"},
			Identifiers:  []store.Identifier{email("reg")},
			PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5",
			Messages: []store.Message{
				{Channel: "email", To: "reg@example.com", Subject: "first", Body: "sealed-1"},
				{Channel: channel, To: "reg@example.com", Subject: "second", Body: "sealed-2"},
			},
		}
	}
	tests := []struct {
		name    string
		channel string // of the second message
	}{
		{"outbox write refused", "pigeon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateUser(ctx, nu(tc.channel)); err == nil {
				t.Fatal("CreateUser with an unstorable message succeeded")
			}
			_, err := s.UserByID(ctx, "u-reg")
			wantErr(t, "UserByID after the failed registration", err, store.ErrNotFound)
			_, err = s.UserByIdentifier(ctx, store.KindEmail, "reg@example.com")
			wantErr(t, "UserByIdentifier after the failed registration", err, store.ErrNotFound)
			_, err = s.Credential(ctx, "u-reg")
			wantErr(t, "Credential after the failed registration", err, store.ErrNotFound)
			if ms, err := s.MessagesTo(ctx, "reg@example.com", 0); err != nil || len(ms) != 0 {
				t.Fatalf("MessagesTo after the failed registration = %d messages, %v, want none", len(ms), err)
			}
		})
	}
	// Nothing held the identifier or the id: the registration goes through,
	// its messages with it.
	mustCreate(t, s, nu("sms"))
	if _, err := s.UserByIdentifier(ctx, store.KindEmail, "reg@example.com"); err != nil {
		t.Fatalf("UserByIdentifier after the registration: %v", err)
	}
	ms, err := s.MessagesTo(ctx, "reg@example.com", 0)
	if err != nil || len(ms) != 2 || ms[0].Subject != "second" || ms[1].Subject != "first" || ms[1].Body != "sealed-1" {
		t.Fatalf("MessagesTo after the registration = %+v, %v, want both messages", ms, err)
	}
}
