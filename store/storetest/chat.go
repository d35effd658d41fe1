package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"partnergate/store"
)

func runChat(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ChatProfile", testChatProfile},
		{"AccountKeys", testAccountKeys},
		{"SearchUsers", testSearchUsers},
		{"SearchUsersFollowsChanges", testSearchUsersFollowsChanges},
		{"Photos", testPhotos},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// chatUser creates a user with an optional username and chat name (both
// folded by lower-casing, as the core's fold does for ASCII).
func chatUser(t *testing.T, s store.Store, id, username, name string) {
	t.Helper()
	nu := store.NewUser{User: store.User{ID: id, State: store.StateActive, Lang: "en"}}
	if username != "" {
		nu.Identifiers = []store.Identifier{{Kind: store.KindUsername, Value: username, Norm: strings.ToLower(username), Verified: true}}
	}
	if name != "" {
		nu.Chat = &store.ChatProfile{Name: name, NameFold: strings.ToLower(name), About: "about " + id}
	}
	if err := s.CreateUser(t.Context(), nu); err != nil {
		t.Fatalf("CreateUser %s: %v", id, err)
	}
}

func testChatProfile(t *testing.T, s store.Store) {
	ctx := t.Context()
	chatUser(t, s, "u1", "ann", "Ann Lee")
	chatUser(t, s, "u2", "bob", "")
	p, err := s.ChatProfile(ctx, "u1")
	if err != nil || p.Name != "Ann Lee" || p.NameFold != "ann lee" || p.About != "about u1" || p.UserID != "u1" || p.Updated.IsZero() {
		t.Fatalf("ChatProfile(u1) = %+v, %v", p, err)
	}
	if _, err := s.ChatProfile(ctx, "u2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ChatProfile without one = %v, want ErrNotFound", err)
	}
	// The first update of a user without a profile starts from the zero one.
	got, err := s.UpdateChatProfile(ctx, "u2", func(p store.ChatProfile) (store.ChatProfile, error) {
		if p.UserID != "u2" || p.Name != "" {
			return p, fmt.Errorf("fn got %+v", p)
		}
		p.Name, p.NameFold, p.About = "Bob", "bob", "hi"
		return p, nil
	})
	if err != nil || got.Name != "Bob" || got.About != "hi" {
		t.Fatalf("UpdateChatProfile(u2) = %+v, %v", got, err)
	}
	if p, err := s.ChatProfile(ctx, "u2"); err != nil || p.Name != "Bob" || p.About != "hi" {
		t.Fatalf("stored = %+v, %v", p, err)
	}
	boom := errors.New("refused")
	if _, err := s.UpdateChatProfile(ctx, "u2", func(p store.ChatProfile) (store.ChatProfile, error) {
		p.Name = "never"
		return p, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn error = %v", err)
	}
	if p, _ := s.ChatProfile(ctx, "u2"); p.Name != "Bob" {
		t.Fatalf("a refused update was written: %+v", p)
	}
	if _, err := s.UpdateChatProfile(ctx, "nobody", func(p store.ChatProfile) (store.ChatProfile, error) { return p, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateChatProfile(nobody) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChatProfile(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ChatProfile after DeleteUser = %v, want ErrNotFound", err)
	}
}

func testAccountKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	chatUser(t, s, "u1", "ann", "")
	if _, err := s.AccountKeyHash(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AccountKeyHash before any = %v", err)
	}
	for _, h := range []string{"h1", "h2"} {
		if err := s.SetAccountKeyHash(ctx, "u1", h); err != nil {
			t.Fatal(err)
		}
		if got, err := s.AccountKeyHash(ctx, "u1"); err != nil || got != h {
			t.Fatalf("AccountKeyHash = %q, %v, want %q", got, err, h)
		}
	}
	if err := s.SetAccountKeyHash(ctx, "nobody", "h"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetAccountKeyHash(nobody) = %v, want ErrNotFound", err)
	}
	if err := s.SetAccountKeyHash(ctx, "u1", ""); err == nil {
		t.Fatal("an empty hash was stored")
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountKeyHash(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AccountKeyHash after DeleteUser = %v", err)
	}
}

func search(t *testing.T, s store.Store, q string, limit, offset int) string {
	t.Helper()
	hits, err := s.SearchUsers(t.Context(), store.UserSearch{Fold: q, Limit: limit, Offset: offset})
	if err != nil {
		t.Fatalf("SearchUsers(%q): %v", q, err)
	}
	var ids []string
	for _, h := range hits {
		ids = append(ids, fmt.Sprintf("%s/%d", h.UserID, h.Rank))
	}
	return strings.Join(ids, ",")
}

func testSearchUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	chatUser(t, s, "u1", "anna", "Zed")       // username exact for "anna"
	chatUser(t, s, "u2", "annabel", "")       // username prefix
	chatUser(t, s, "u3", "joanna", "")        // username substring
	chatUser(t, s, "u4", "", "Anna Karenina") // name prefix, no username
	chatUser(t, s, "u5", "bob", "Hanna")      // name substring
	chatUser(t, s, "u6", "x_ann%a", "")       // LIKE's wildcards are literals
	chatUser(t, s, "u7", "annalise", "")      // disabled below
	chatUser(t, s, "u8", "carl", "")          // no match
	if _, err := s.UpdateUser(ctx, "u7", func(u store.User) (store.User, error) { u.State = store.StateDisabled; return u, nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := search(t, s, "anna", 50, 0), "u1/0,u4/1,u2/1,u5/2,u3/2"; got != want {
		t.Fatalf("search anna = %s, want %s", got, want)
	}
	// Paging walks the same order.
	if got := search(t, s, "anna", 2, 0) + ";" + search(t, s, "anna", 2, 2) + ";" + search(t, s, "anna", 2, 4); got != "u1/0,u4/1;u2/1,u5/2;u3/2" {
		t.Fatalf("pages = %s", got)
	}
	if got := search(t, s, "anna", 2, 10); got != "" {
		t.Fatalf("page past the end = %s", got)
	}
	// '_' and '%' match themselves only.
	if got := search(t, s, "x_ann%", 50, 0); got != "u6/1" {
		t.Fatalf("search x_ann%% = %s", got)
	}
	if got := search(t, s, "n_a", 50, 0); got != "" {
		t.Fatalf("search n_a = %s, want nothing ('_' is no wildcard)", got)
	}
	// Two characters work (without an index on SQLite, through it where it can).
	if got := search(t, s, "bo", 50, 0); got != "u5/1" {
		t.Fatalf("search bo = %s", got)
	}
	if got := search(t, s, "zz", 50, 0); got != "" {
		t.Fatalf("search zz = %s", got)
	}
	// A user in privacy mode is found by username only.
	if _, err := s.UpdateProfile(ctx, "u5", func(p store.Profile) (store.Profile, error) { p.PrivacyMode = 1; return p, nil }); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "hanna", 50, 0); got != "" {
		t.Fatalf("a private user found by name: %s", got)
	}
	hits, err := s.SearchUsers(ctx, store.UserSearch{Fold: "bob", Limit: 5})
	if err != nil || len(hits) != 1 || !hits[0].Private || hits[0].Username != "bob" || hits[0].Name != "Hanna" || hits[0].About != "about u5" {
		t.Fatalf("search bob = %+v, %v", hits, err)
	}
	for _, q := range []store.UserSearch{{Fold: "", Limit: 1}, {Fold: "an", Limit: 0}, {Fold: "an", Limit: 1, Offset: -1}} {
		if _, err := s.SearchUsers(ctx, q); err == nil {
			t.Errorf("SearchUsers(%+v) succeeded", q)
		}
	}
}

func testSearchUsersFollowsChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	chatUser(t, s, "u1", "first", "Old Name")
	if got := search(t, s, "old", 50, 0); got != "u1/1" {
		t.Fatalf("before = %s", got)
	}
	if _, err := s.UpdateChatProfile(ctx, "u1", func(p store.ChatProfile) (store.ChatProfile, error) {
		p.Name, p.NameFold = "New Name", "new name"
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIdentifier(ctx, store.Identifier{UserID: "u1", Kind: store.KindUsername, Value: "second", Norm: "second", Verified: true}); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "old", 50, 0) + ";" + search(t, s, "first", 50, 0); got != ";" {
		t.Fatalf("old terms still match: %s", got)
	}
	if got := search(t, s, "new", 50, 0) + ";" + search(t, s, "second", 50, 0); got != "u1/1;u1/0" {
		t.Fatalf("new terms = %s", got)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "new", 50, 0) + search(t, s, "second", 50, 0); got != "" {
		t.Fatalf("a deleted user is found: %s", got)
	}
}

func testPhotos(t *testing.T, s store.Store) {
	ctx := t.Context()
	chatUser(t, s, "u1", "ann", "Ann")
	chatUser(t, s, "u2", "bob", "Bob")
	file := func(id, user, purpose string) {
		t.Helper()
		if err := s.CreateFile(ctx, store.File{ID: id, UserID: user, Purpose: purpose, ContentType: "image/png", Size: 10,
			SHA256: strings.Repeat("a", 64)}, 0); err != nil {
			t.Fatalf("CreateFile %s: %v", id, err)
		}
	}
	file("f1", "u1", store.FileUpload)
	file("f2", "u1", store.FileUpload)
	file("f3", "u1", store.FileUpload)
	file("d1", "u1", store.FileDocument)
	file("g1", "u2", store.FileUpload)
	ids := func(user string) string {
		t.Helper()
		fs, err := s.UserPhotos(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return strings.Join(out, ",")
	}
	for _, id := range []string{"f2", "f1"} {
		if err := s.AddPhoto(ctx, "u1", id, 2); err != nil {
			t.Fatalf("AddPhoto %s: %v", id, err)
		}
	}
	if got := ids("u1"); got != "f2,f1" {
		t.Fatalf("UserPhotos = %s, want the order added", got)
	}
	for _, tc := range []struct {
		what, user, id string
		max            int
		want           error
	}{
		{"over the cap", "u1", "f3", 2, store.ErrLimitReached},
		{"twice", "u1", "f1", 0, store.ErrAlreadyExists},
		{"another user's file", "u1", "g1", 0, store.ErrNotFound},
		{"a document", "u1", "d1", 0, store.ErrNotFound},
		{"no such file", "u1", "nope", 0, store.ErrNotFound},
		{"no such user", "nobody", "f3", 0, store.ErrNotFound},
	} {
		if err := s.AddPhoto(ctx, tc.user, tc.id, tc.max); !errors.Is(err, tc.want) {
			t.Errorf("AddPhoto %s = %v, want %v", tc.what, err, tc.want)
		}
	}
	if owner, err := s.PhotoOwner(ctx, "f1"); err != nil || owner != "u1" {
		t.Fatalf("PhotoOwner(f1) = %q, %v", owner, err)
	}
	if _, err := s.PhotoOwner(ctx, "f3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PhotoOwner of a plain upload = %v", err)
	}
	if err := s.DeletePhoto(ctx, "u2", "f1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeletePhoto by another user = %v", err)
	}
	if err := s.DeletePhoto(ctx, "u1", "f2"); err != nil {
		t.Fatal(err)
	}
	if got := ids("u1"); got != "f1" {
		t.Fatalf("after DeletePhoto = %s", got)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if got := ids("u1"); got != "" {
		t.Fatalf("photos outlived the user: %s", got)
	}
	if _, err := s.PhotoOwner(ctx, "f1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PhotoOwner after DeleteUser = %v", err)
	}
}
