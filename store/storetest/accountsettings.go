package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"partnergate/store"
)

func testAccountSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"as-u1", "as-u2"} {
		if err := s.CreateUser(ctx, store.NewUser{User: fullUser(id), Identifiers: []store.Identifier{email(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(uid string) map[string]store.AccountSetting {
		t.Helper()
		list, err := s.AccountSettings(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.AccountSetting{}
		for i, a := range list {
			if i > 0 && list[i-1].Name >= a.Name {
				t.Fatalf("not ordered by name: %+v", list)
			}
			out[a.Name] = a
		}
		return out
	}
	if got := get("as-u1"); len(got) != 0 {
		t.Fatalf("fresh user has settings: %+v", got)
	}
	if list, err := s.AccountSettings(ctx, "nobody"); err != nil || len(list) != 0 {
		t.Fatalf("unknown user: %v %v", list, err)
	}
	set := []store.AccountSetting{
		{Name: "notifications-meters__email", Type: store.SettingNumber, Value: "1"},
		{Name: "b", Type: store.SettingBool, Value: "true"},
		{Name: "c", Type: store.SettingString, Value: "héllo"},
	}
	if err := s.SetAccountSettings(ctx, "as-u1", set, nil, 3); err != nil {
		t.Fatal(err)
	}
	got := get("as-u1")
	if len(got) != 3 || got["b"].Type != store.SettingBool || got["b"].Value != "true" || got["c"].Value != "héllo" ||
		got["notifications-meters__email"].Type != store.SettingNumber || got["b"].Created.IsZero() {
		t.Fatalf("after set: %+v", got)
	}
	if len(get("as-u2")) != 0 {
		t.Fatal("another user's settings changed")
	}
	created := got["b"].Created
	// Over the cap: nothing written, not even the removal.
	err := s.SetAccountSettings(ctx, "as-u1", []store.AccountSetting{{Name: "d", Type: store.SettingString, Value: "x"}, {Name: "b", Type: store.SettingBool, Value: "false"}}, nil, 3)
	if !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("over the cap: %v, want ErrLimitReached", err)
	}
	if g := get("as-u1"); len(g) != 3 || g["b"].Value != "true" {
		t.Fatalf("a refused set wrote: %+v", g)
	}
	// Removing first makes room; a replaced name keeps Created.
	if err := s.SetAccountSettings(ctx, "as-u1", []store.AccountSetting{{Name: "d", Type: store.SettingString, Value: "x"}, {Name: "b", Type: store.SettingBool, Value: "false"}}, []string{"c", "absent"}, 3); err != nil {
		t.Fatal(err)
	}
	g := get("as-u1")
	if len(g) != 3 || g["b"].Value != "false" || !g["b"].Created.Equal(created) || g["d"].Value != "x" {
		t.Fatalf("after replace: %+v", g)
	}
	if _, ok := g["c"]; ok {
		t.Fatal("removed setting still there")
	}
	if err := s.SetAccountSettings(ctx, "nobody", set, nil, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	for _, bad := range []store.AccountSetting{{Name: "", Type: store.SettingString}, {Name: "x", Type: "object"}} {
		if err := s.SetAccountSettings(ctx, "as-u1", []store.AccountSetting{bad}, nil, 10); err == nil || errors.Is(err, store.ErrLimitReached) {
			t.Fatalf("bad setting %+v: %v", bad, err)
		}
	}
	if err := s.DeleteUser(ctx, "as-u1"); err != nil {
		t.Fatal(err)
	}
	if len(get("as-u1")) != 0 {
		t.Fatal("settings outlived their user")
	}
}

// testAccountSettingsConcurrentCap: 10 parallel sets of different names
// under a cap of 4 leave exactly 4.
func testAccountSettingsConcurrentCap(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateUser(ctx, store.NewUser{User: fullUser("as-cap"), Identifiers: []store.Identifier{email("as-cap")}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.SetAccountSettings(ctx, "as-cap", []store.AccountSetting{{Name: fmt.Sprintf("n%d", i), Type: store.SettingNumber, Value: "1"}}, nil, 4)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrLimitReached):
			t.Fatalf("unexpected: %v", err)
		}
	}
	list, err := s.AccountSettings(ctx, "as-cap")
	if err != nil || ok != 4 || len(list) != 4 {
		t.Fatalf("%d sets succeeded, %d stored (%v), want 4 and 4", ok, len(list), err)
	}
}
