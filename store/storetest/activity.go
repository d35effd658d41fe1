package storetest

import (
	"errors"
	"testing"
	"time"

	"partnergate/store"
)

func testActivities(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"act-u1", "act-u2"} {
		if err := s.CreateUser(ctx, store.NewUser{User: fullUser(id), Identifiers: []store.Identifier{email(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(a store.Activity) store.Activity {
		t.Helper()
		got, err := s.AddActivity(ctx, a)
		if err != nil {
			t.Fatalf("add %+v: %v", a, err)
		}
		return got
	}
	login := add(store.Activity{UserID: "act-u1", Actor: "user:act-u1", Category: store.CategoryUser, Topic: "session",
		Action: "login", Result: store.ResultSucceed, IP: "2001:db8::1", Country: "CH", UserAgent: "curl/8", Data: `{"k":"v"}`, Created: base})
	if login.ID == 0 {
		t.Fatal("no id given")
	}
	failed := add(store.Activity{UserID: "act-u1", Actor: "user:act-u1", Category: store.CategoryUser, Topic: "session",
		Action: "login", Result: store.ResultFailed, Created: base.Add(time.Minute)})
	if failed.ID <= login.ID {
		t.Fatalf("ids not increasing: %d then %d", login.ID, failed.ID)
	}
	add(store.Activity{UserID: "act-u2", Actor: "user:act-u2", Category: store.CategoryUser, Topic: "password",
		Action: "update", Result: store.ResultSucceed, Created: base.Add(2 * time.Minute)})
	admin := add(store.Activity{UserID: "act-u2", TargetID: "act-u1", Actor: "user:act-u2", Category: store.CategoryAdmin,
		Topic: "users", Action: "ban", Result: store.ResultSucceed, Created: base.Add(3 * time.Minute)})

	list := func(f store.ActivityFilter) []store.Activity {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		got, err := s.Activities(ctx, f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		return got
	}
	ids := func(as []store.Activity) []int64 {
		out := make([]int64, len(as))
		for i, a := range as {
			out[i] = a.ID
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.ActivityFilter
		want []int64
	}{
		{"user's own, newest first", store.ActivityFilter{UserID: "act-u1"}, []int64{failed.ID, login.ID}},
		{"by result", store.ActivityFilter{UserID: "act-u1", Result: store.ResultFailed}, []int64{failed.ID}},
		{"by target", store.ActivityFilter{TargetID: "act-u1"}, []int64{admin.ID}},
		{"admin category", store.ActivityFilter{Category: store.CategoryAdmin}, []int64{admin.ID}},
		{"keyset page", store.ActivityFilter{UserID: "act-u1", Before: failed.ID}, []int64{login.ID}},
		{"limit", store.ActivityFilter{UserID: "act-u1", Limit: 1}, []int64{failed.ID}},
		{"since/until", store.ActivityFilter{Since: base.Add(time.Minute), Until: base.Add(2 * time.Minute)}, []int64{failed.ID}},
		{"nothing", store.ActivityFilter{UserID: "act-u1", Topic: "otp"}, []int64{}},
	} {
		if got := ids(list(tc.f)); len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[1] != tc.want[1]) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	got := list(store.ActivityFilter{UserID: "act-u1", Result: store.ResultSucceed})[0]
	if got.IP != "2001:db8::1" || got.Country != "CH" || got.UserAgent != "curl/8" || got.Data != `{"k":"v"}` ||
		got.Actor != "user:act-u1" || got.Topic != "session" || got.Action != "login" || !got.Created.Equal(base) {
		t.Errorf("read back %+v", got)
	}

	for _, bad := range []store.Activity{
		{UserID: "act-u1", Category: "nonsense", Topic: "t", Action: "a", Result: store.ResultSucceed},
		{UserID: "act-u1", Category: store.CategoryUser, Topic: "t", Action: "a", Result: "maybe"},
		{UserID: "act-u1", Category: store.CategoryUser, Topic: "", Action: "a", Result: store.ResultSucceed},
	} {
		if _, err := s.AddActivity(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := s.AddActivity(ctx, store.Activity{UserID: "nobody", Category: store.CategoryUser, Topic: "t", Action: "a", Result: store.ResultSucceed}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	for _, l := range []int{0, 1001} {
		if _, err := s.Activities(ctx, store.ActivityFilter{Limit: l}); err == nil {
			t.Errorf("limit %d accepted", l)
		}
	}

	// A user's trail goes with the user; an admin's entry about them stays.
	if err := s.DeleteUser(ctx, "act-u1"); err != nil {
		t.Fatal(err)
	}
	if got := list(store.ActivityFilter{UserID: "act-u1"}); len(got) != 0 {
		t.Errorf("deleted user's trail kept: %v", ids(got))
	}
	if got := list(store.ActivityFilter{TargetID: "act-u1"}); len(got) != 1 {
		t.Errorf("admin audit about a deleted user lost: %v", ids(got))
	}
}
