package accounts_test

import (
	"fmt"
	"strings"
	"testing"

	"partnergate/core"
	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/store"
)

var (
	apns = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
	fcm  = "cXk3Ld9pQ0aB1cD2eF3gH4:APA91b" + strings.Repeat("Zx9_-Yw8", 18)
)

func TestParsePushToken(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{apns, "apns:" + strings.ToLower(apns), true},
		{fcm, "fcm:" + fcm, true},
		{"APA91b" + strings.Repeat("a", 140), "fcm:APA91b" + strings.Repeat("a", 140), true}, // a legacy token, no colon
		{apns[:63], "", false},                         // 63 hex digits: neither
		{apns + "0", "", false},                        // 65
		{strings.Repeat("g", 64), "", false},           // not hex, too short for FCM
		{strings.Repeat("a", 99), "", false},           // FCM too short
		{strings.Repeat("a", 513), "", false},          // FCM too long
		{"a:b:" + strings.Repeat("c", 120), "", false}, // two colons
		{":" + strings.Repeat("c", 120), "", false},    // colon first
		{strings.Repeat("c", 120) + ":", "", false},    // colon last
		{strings.Repeat("c", 60) + " " + strings.Repeat("c", 60), "", false},
		{strings.Repeat("é", 60), "", false},
	}
	for _, tt := range tests {
		got, err := accounts.ParsePushToken(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParsePushToken(%.20q…) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil {
			if fe, _ := fault.As(err); fe == nil || fe.Code != fault.Invalid || fe.Fields["deviceToken"] == "" {
				t.Errorf("ParsePushToken(%.20q…) error %v, want 3001 on deviceToken", tt.in, err)
			}
		}
	}
}

func TestParseDevice(t *testing.T) {
	tests := []struct {
		name, id, dn, model, token string
		field                      string // "" accepted
	}{
		{"uuid", "0b9e4c1a-6a7f-4c1e-9d1e-3f0c2b7a8e11", "Ann's phone", "iPhone 16", apns, ""},
		{"no token", "phone-1", "", "", "", ""},
		{"no id", "", "x", "", "", "deviceId"},
		{"space in id", "a b", "", "", "", "deviceId"},
		{"non-ASCII id", "телефон", "", "", "", "deviceId"},
		{"long id", strings.Repeat("a", 65), "", "", "", "deviceId"},
		{"long name", "d", strings.Repeat("я", 65), "", "", "deviceName"},
		{"name with a newline", "d", "a\nb", "", "", "deviceName"},
		{"name with a zero-width joiner", "d", "a\u200db", "", "", "deviceName"},
		{"long model", "d", "", strings.Repeat("m", 65), "", "deviceModel"},
		{"bad token", "d", "", "", "xyz", "deviceToken"},
	}
	for _, tt := range tests {
		d, err := accounts.ParseDevice(tt.id, tt.dn, tt.model, tt.token)
		if tt.field == "" {
			if err != nil || d.ID != tt.id || d.Name != tt.dn || d.Model != tt.model {
				t.Errorf("%s: ParseDevice = %+v, %v", tt.name, d, err)
			}
			continue
		}
		if fe, _ := fault.As(err); fe == nil || fe.Code != fault.Invalid || fe.Fields[tt.field] == "" {
			t.Errorf("%s: ParseDevice error %v, want 3001 on %s", tt.name, err, tt.field)
		}
	}
}

// FuzzParsePushToken: never panics; an accepted token is stored with its
// kind, parses back to itself, and no refusal echoes the input.
func FuzzParsePushToken(f *testing.F) {
	for _, s := range []string{"", apns, fcm, "a:b", strings.Repeat("0", 64), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := accounts.ParsePushToken(s)
		if err != nil {
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the refusal echoes the token: %v", err)
			}
			return
		}
		if s == "" {
			if got != "" {
				t.Fatalf("empty token stored as %q", got)
			}
			return
		}
		kind, raw, ok := strings.Cut(got, ":")
		if !ok || (kind != accounts.PushAPNS && kind != accounts.PushFCM) || accounts.PushKind(got) != kind {
			t.Fatalf("stored %q", got)
		}
		if again, err := accounts.ParsePushToken(raw); err != nil || again != got {
			t.Fatalf("re-parse of %q = %q, %v", raw, again, err)
		}
	})
}

// FuzzParseDevice: never panics; an accepted device keeps what was given
// and stays within the limits.
func FuzzParseDevice(f *testing.F) {
	f.Add("phone-1", "Ann's phone", "iPhone", apns)
	f.Add("", "", "", "")
	f.Add("a b", "\x00", "\u200d", "x")
	f.Fuzz(func(t *testing.T, id, name, model, token string) {
		d, err := accounts.ParseDevice(id, name, model, token)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("uncoded refusal %v", err)
			}
			return
		}
		if d.ID != id || d.Name != name || d.Model != model || len(id) == 0 || len(id) > accounts.MaxDeviceID {
			t.Fatalf("ParseDevice(%q, %q, %q) = %+v", id, name, model, d)
		}
	})
}

func (e *env) chatUser(t *testing.T, username string) store.User {
	t.Helper()
	u, err := e.svc.Register(t.Context(), accounts.Registration{Username: username, ChatName: "Name " + username,
		Password: e.secret("correct horse battery staple"), RequirePassword: true})
	if err != nil {
		t.Fatalf("Register(%s): %v", username, err)
	}
	return u
}

// TestResetPasswordWithKey: the right key sets the password and ends every
// session; an unknown user, a user without a key and a wrong key are one
// fault; each is throttled per user and per IP; the key is never stored
// in clear.
func TestResetPasswordWithKey(t *testing.T) {
	e := newEnv(t)
	ctx := core.WithCall(t.Context(), core.Call{ActorKind: "none", IP: "198.51.100.7"})
	u := e.chatUser(t, "keyholder")
	key := e.secret("river stone lantern quiet 42")
	wantCode(t, "short key", e.svc.SetAccountKey(ctx, u.ID, "correct horse battery staple", "too short"), fault.Invalid)
	wantCode(t, "wrong password", e.svc.SetAccountKey(ctx, u.ID, "wrong password here", key), fault.WrongCredentials)
	wantCode(t, "SetAccountKey", e.svc.SetAccountKey(ctx, u.ID, "correct horse battery staple", key), 0)
	if h, err := e.st.AccountKeyHash(ctx, u.ID); err != nil || !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, key) {
		t.Fatalf("stored key = %q, %v", h, err)
	}
	s1, err := e.svc.NewSession(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	other := e.chatUser(t, "nokey")
	for _, tc := range []struct{ what, id, key string }{
		{"wrong key", u.ID, key + "!"}, {"unknown user", "no-such-user", key}, {"no key", other.ID, key},
	} {
		err := e.svc.ResetPasswordWithKey(ctx, tc.id, tc.key, "a brand new passphrase")
		wantCode(t, tc.what, err, fault.AccountKeyInvalid)
		if fe, _ := fault.As(err); fe.Message != fault.AccountKeyInvalid.Message() {
			t.Fatalf("%s: message %q", tc.what, fe.Message)
		}
	}
	wantCode(t, "weak new password", e.svc.ResetPasswordWithKey(ctx, u.ID, key, "password"), fault.PasswordWeak)
	if _, err := e.svc.SessionByToken(ctx, s1.Token); err != nil {
		t.Fatalf("a refused reset ended a session: %v", err)
	}
	wantCode(t, "reset", e.svc.ResetPasswordWithKey(ctx, u.ID, key, e.secret("a brand new passphrase")), 0)
	wantCode(t, "session after reset", func() error { _, err := e.svc.SessionByToken(ctx, s1.Token); return err }(), fault.SessionInvalid)
	if _, err := e.svc.LogIn(ctx, accounts.Login{Kind: store.KindUsername, Norm: "keyholder", Password: "a brand new passphrase"}); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	// Per user: after the free failures the user is backed off, even for
	// the right key, and an unknown user id alike.
	for _, id := range []string{u.ID, "another-unknown-user"} {
		for i := range accounts.DefaultThrottle.FreeFailures {
			wantCode(t, fmt.Sprint("failure ", i), e.svc.ResetPasswordWithKey(ctx, id, "wrong key wrong key", "a brand new passphrase"), fault.AccountKeyInvalid)
		}
		wantThrottled(t, "backed off "+id, e.svc.ResetPasswordWithKey(ctx, id, key, "a brand new passphrase"))
	}
	// Per IP: failures over many user ids back the address off.
	ipCtx := core.WithCall(t.Context(), core.Call{ActorKind: "none", IP: "203.0.113.99"})
	var last error
	for i := range accounts.DefaultThrottle.IPFreeFailures + 1 {
		last = e.svc.ResetPasswordWithKey(ipCtx, fmt.Sprint("guess-", i), "wrong key wrong key", "a brand new passphrase")
	}
	wantThrottled(t, "backed-off IP", last)
}

// TestChangePassword: the old password is required and checked; the
// change ends every other session and keeps the caller's.
func TestChangeDevicePassword(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.chatUser(t, "changer")
	keep, _ := e.svc.NewSession(ctx, u.ID, "", "")
	other, _ := e.svc.NewDeviceSession(ctx, u.ID, store.Device{ID: "tablet"})
	wantCode(t, "wrong old", e.svc.ChangePassword(ctx, accounts.PasswordChange{UserID: u.ID, Old: "not the password", New: "a brand new passphrase", KeepSession: accounts.HashToken(keep.Token)}), fault.WrongCredentials)
	wantCode(t, "weak new", e.svc.ChangePassword(ctx, accounts.PasswordChange{UserID: u.ID, Old: "correct horse battery staple", New: "changer1", KeepSession: accounts.HashToken(keep.Token)}), fault.PasswordWeak)
	if _, err := e.svc.SessionByToken(ctx, other.Token); err != nil {
		t.Fatalf("a refused change ended a session: %v", err)
	}
	wantCode(t, "change", e.svc.ChangePassword(ctx, accounts.PasswordChange{UserID: u.ID, Old: "correct horse battery staple", New: e.secret("a brand new passphrase"), KeepSession: accounts.HashToken(keep.Token)}), 0)
	if _, err := e.svc.SessionByToken(ctx, keep.Token); err != nil {
		t.Fatalf("the caller's session ended: %v", err)
	}
	if _, err := e.svc.SessionByToken(ctx, other.Token); fault.CodeOf(err) != fault.SessionInvalid {
		t.Fatalf("another session survived: %v", err)
	}
}

// TestSearchUsersLimits: the query and page bounds.
func TestSearchUsersLimits(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.chatUser(t, "searchable")
	for _, tc := range []struct {
		q             string
		limit, offset int
		field         string
	}{
		{"s", 0, 0, "s"}, {" s ", 0, 0, "s"}, {strings.Repeat("s", 65), 0, 0, "s"},
		{"se", 51, 0, "limit"}, {"se", -1, 0, "limit"}, {"se", 1, -1, "offset"}, {"se", 1, 1001, "offset"},
	} {
		_, err := e.svc.SearchUsers(ctx, tc.q, tc.limit, tc.offset)
		if fe, _ := fault.As(err); fe == nil || fe.Code != fault.Invalid || fe.Fields[tc.field] == "" {
			t.Errorf("SearchUsers(%q, %d, %d) = %v, want 3001 on %s", tc.q, tc.limit, tc.offset, err, tc.field)
		}
	}
	hits, err := e.svc.SearchUsers(ctx, "SEARCH", 0, 0)
	if err != nil || len(hits) != 1 || hits[0].Username != "searchable" || hits[0].Rank != store.RankPrefix {
		t.Fatalf("SearchUsers(SEARCH) = %+v, %v", hits, err)
	}
}
