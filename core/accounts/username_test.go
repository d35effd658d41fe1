package accounts_test

import (
	"fmt"
	"sync"
	"testing"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/store"
)

// TestSetUsernameParallel: 50 users claiming one username in varying case
// at once: exactly one gets it, the others get AlreadyExists and keep no
// username, and the winner logs in by it.
func TestSetUsernameParallel(t *testing.T) {
	e := newEnv(t)
	const n = 50
	users := make([]store.User, n)
	for i := range n {
		users[i] = e.register(t, fmt.Sprintf("u%d@example.com", i), goodPassword)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		name := "Kate.Chat"
		if i%2 == 1 {
			name = "kate.chat"
		}
		wg.Go(func() { _, errs[i] = e.svc.SetUsername(t.Context(), users[i].ID, name) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("users %d and %d both got the username", winner, i)
			}
			winner = i
		case fault.CodeOf(err) != fault.AlreadyExists:
			t.Fatalf("user %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody got the username")
	}
	for i, u := range users {
		got, err := e.st.UserByID(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, has := got.Identifier(store.KindUsername)
		if has != (i == winner) {
			t.Errorf("user %d has a username: %v (winner %d)", i, has, winner)
		}
	}
	kind, norm := accounts.ParseLogin("KATE.CHAT")
	u, err := e.svc.CheckPassword(t.Context(), accounts.Login{Kind: kind, Norm: norm, Password: goodPassword, IP: "192.0.2.1"})
	if err != nil || u.ID != users[winner].ID {
		t.Fatalf("login by username: %+v, %v; want user %s", u, err, users[winner].ID)
	}
}

// TestSetUsernameRefused: a name the rule refuses changes nothing; a user
// may replace its own username, which frees the old one.
func TestSetUsernameRefused(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "a@example.com", goodPassword)
	b := e.register(t, "b@example.com", goodPassword)
	for _, bad := range []string{"ad", "admin", "kate smith", "k\u0430te"} {
		_, err := e.svc.SetUsername(t.Context(), a.ID, bad)
		wantCode(t, "SetUsername("+bad+")", err, fault.Invalid)
	}
	if got, _ := e.st.UserByID(t.Context(), a.ID); len(got.Identifiers) != 1 {
		t.Fatalf("a refused username was stored: %+v", got.Identifiers)
	}
	if _, err := e.svc.SetUsername(t.Context(), a.ID, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetUsername(t.Context(), a.ID, "second"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetUsername(t.Context(), b.ID, "First"); err != nil {
		t.Fatalf("the replaced name is still held: %v", err)
	}
	_, err := e.svc.SetUsername(t.Context(), b.ID, "SECOND")
	wantCode(t, "a taken name", err, fault.AlreadyExists)
	_, err = e.svc.SetUsername(t.Context(), "no-such-user", "third")
	wantCode(t, "an unknown user", err, fault.NotFound)
}
