package accounts_test

import (
	"regexp"
	"testing"

	"partnergate/core/accounts"
	"partnergate/core/fault"
)

func TestRegisterGivesUID(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "ann@example.com", "correct horse battery staple")
	b := e.register(t, "bob@example.com", "correct horse battery staple")
	shape := regexp.MustCompile(`^ID[0-9A-F]{10}$`)
	if !shape.MatchString(a.UID) || !shape.MatchString(b.UID) || a.UID == b.UID {
		t.Fatalf("uids %q %q", a.UID, b.UID)
	}
	got, err := e.svc.UserByUID(t.Context(), a.UID)
	if err != nil || got.ID != a.ID {
		t.Fatalf("UserByUID = %+v, %v", got, err)
	}
	for _, uid := range []string{"ID0000000000", "id" + a.UID[2:], a.UID + "0", ""} {
		if _, err := e.svc.UserByUID(t.Context(), uid); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("UserByUID(%q): %v", uid, err)
		}
	}
}

func TestRegisterRetriesTakenUID(t *testing.T) {
	e := newEnv(t)
	first := e.register(t, "ann@example.com", "correct horse battery staple")
	// The next uids: the one taken, then a fresh one.
	queue := []string{first.UID, first.UID, "ID00000000AB"}
	accounts.SetUIDs(e.svc, func() (string, error) {
		u := queue[0]
		queue = queue[1:]
		return u, nil
	})
	u, err := e.svc.Register(t.Context(), accounts.Registration{Email: "bob@example.com", Password: "correct horse battery staple"})
	if err != nil || u.UID != "ID00000000AB" {
		t.Fatalf("Register = %+v, %v", u, err)
	}
	// Out of attempts: every uid taken is refused, and no user is made.
	accounts.SetUIDs(e.svc, func() (string, error) { return first.UID, nil })
	_, err = e.svc.Register(t.Context(), accounts.Registration{Email: "cy@example.com", Password: "correct horse battery staple"})
	wantCode(t, "all uids taken", err, fault.AlreadyExists)
	if n := e.countUsers(t); n != 2 {
		t.Fatalf("%d users", n)
	}
	// A taken email is still "already exists", after one look at the uid.
	accounts.SetUIDs(e.svc, nil)
	_, err = e.svc.Register(t.Context(), accounts.Registration{Email: "ann@example.com", Password: "correct horse battery staple"})
	wantCode(t, "taken email", err, fault.AlreadyExists)
}

func TestRegisterKeepsReferral(t *testing.T) {
	e := newEnv(t)
	u, err := e.svc.Register(t.Context(), accounts.Registration{Email: "bob@example.com", Password: "correct horse battery staple", ReferralUID: "ID00000000AB"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.User(t.Context(), u.ID)
	if got.ReferralUID != "ID00000000AB" || got.UID != u.UID {
		t.Fatalf("%+v", got)
	}
}
