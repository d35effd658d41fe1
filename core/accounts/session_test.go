package accounts_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"partnergate/core/accounts"
	"partnergate/core/fault"
)

var tokenFormat = regexp.MustCompile(`^pgs_[A-Za-z0-9_-]{43}$`)

func TestNewSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.register(t, "zeb@example.com", goodPassword)
	s, err := e.svc.NewSession(ctx, u.ID, "203.0.113.5", "Mozilla/5.0")
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	e.secret(s.Token)
	e.secret(strings.TrimPrefix(s.Token, "pgs_"))
	if !tokenFormat.MatchString(s.Token) {
		t.Fatalf("token %q: want pgs_ and 43 base64url characters", s.Token)
	}
	if want := e.clk.Now().Add(accounts.DefaultSessionPolicy.Absolute); !s.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %s, want %s", s.ExpiresAt, want)
	}
	s2, err := e.svc.NewSession(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.secret(s2.Token)
	if s2.Token == s.Token {
		t.Fatal("two sessions share a token")
	}

	// Redis holds the token only as its SHA-256.
	hash := accounts.HashToken(s.Token)
	if len(hash) != 64 {
		t.Fatalf("HashToken = %q", hash)
	}
	sawHash := false
	for _, key := range e.mr.Keys() {
		var values []string
		switch typ := e.mr.Type(key); typ {
		case "string":
			v, _ := e.mr.Get(key)
			values = append(values, v)
		case "zset":
			m, _ := e.mr.ZMembers(key)
			values = append(values, m...)
		case "hash":
			fields, _ := e.mr.HKeys(key)
			for _, f := range fields {
				values = append(values, f, e.mr.HGet(key, f))
			}
		default:
			t.Fatalf("key %q of unexpected type %s", key, typ)
		}
		for _, v := range append(values, key) {
			if strings.Contains(v, strings.TrimPrefix(s.Token, "pgs_")) {
				t.Fatalf("redis holds the raw token in %q", key)
			}
			sawHash = sawHash || strings.Contains(v, hash)
		}
	}
	if !sawHash {
		t.Fatal("the token's hash is not in redis")
	}

	got, err := e.svc.SessionByToken(ctx, s.Token)
	if err != nil {
		t.Fatalf("SessionByToken: %v", err)
	}
	if got.UserID != u.ID || got.TokenHash != hash || got.IP != "203.0.113.5" || got.UserAgent != "Mozilla/5.0" || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("session %+v", got)
	}
}

func TestNewSessionUserAgentTruncated(t *testing.T) {
	e := newEnv(t)
	s, err := e.svc.NewSession(t.Context(), "u1", "", strings.Repeat("é", 300)) // 600 bytes
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.SessionByToken(t.Context(), s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.UserAgent) > 256 || len(got.UserAgent) < 254 || !utf8.ValidString(got.UserAgent) {
		t.Fatalf("user agent of %d bytes, valid UTF-8 %v", len(got.UserAgent), utf8.ValidString(got.UserAgent))
	}
}

func TestSessionByTokenRefused(t *testing.T) {
	e := newEnv(t)
	s, err := e.svc.NewSession(t.Context(), "u1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(s.Token, "pgs_")
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"prefix only", "pgs_"},
		{"unknown", "pgs_" + strings.Repeat("A", 43)},
		{"one character short", s.Token[:len(s.Token)-1]},
		{"one character long", s.Token + "A"},
		{"no prefix", body},
		{"other prefix", "pgt_" + body},
		{"prefix in upper case", "PGS_" + body},
		{"the stored hash", accounts.HashToken(s.Token)},
		{"with a space", " " + s.Token},
		{"last character changed", changeLast(s.Token)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.svc.SessionByToken(t.Context(), tt.token)
			wantCode(t, "SessionByToken", err, fault.SessionInvalid)
			if got.UserID != "" {
				t.Fatal("a refused token returned a session")
			}
		})
	}
}

func changeLast(tok string) string {
	c := "A"
	if strings.HasSuffix(tok, "A") {
		c = "B"
	}
	return tok[:len(tok)-1] + c
}

func TestSessionExpiry(t *testing.T) {
	idle, absolute := accounts.DefaultSessionPolicy.Idle, accounts.DefaultSessionPolicy.Absolute

	t.Run("idle", func(t *testing.T) {
		e := newEnv(t)
		s, err := e.svc.NewSession(t.Context(), "u1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		// Each use slides the idle timeout.
		for i := range 2 {
			e.advance(idle - time.Minute)
			if _, err := e.svc.SessionByToken(t.Context(), s.Token); err != nil {
				t.Fatalf("use %d within the idle timeout: %v", i+1, err)
			}
		}
		e.advance(idle)
		_, err = e.svc.SessionByToken(t.Context(), s.Token)
		wantCode(t, "after the idle timeout", err, fault.SessionInvalid)
	})

	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		s, err := e.svc.NewSession(t.Context(), "u1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		// Sliding never passes the absolute lifetime.
		step := idle / 2
		var used time.Duration
		for used+step < absolute {
			e.advance(step)
			used += step
			if _, err := e.svc.SessionByToken(t.Context(), s.Token); err != nil {
				t.Fatalf("use at %s: %v", used, err)
			}
		}
		e.advance(absolute - used - time.Millisecond)
		if _, err := e.svc.SessionByToken(t.Context(), s.Token); err != nil {
			t.Fatalf("use 1 ms before the absolute end: %v", err)
		}
		e.advance(time.Millisecond)
		_, err = e.svc.SessionByToken(t.Context(), s.Token)
		wantCode(t, "at the absolute end", err, fault.SessionInvalid)
	})
}

func TestEndSessions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var mine []accounts.Session
	for range 3 {
		s, err := e.svc.NewSession(ctx, "u1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, s)
	}
	theirs, err := e.svc.NewSession(ctx, "u2", "", "")
	if err != nil {
		t.Fatal(err)
	}
	valid := func(s accounts.Session) bool {
		_, err := e.svc.SessionByToken(ctx, s.Token)
		if err != nil && fault.CodeOf(err) != fault.SessionInvalid {
			t.Fatalf("SessionByToken: %v", err)
		}
		return err == nil
	}

	// EndSession deletes one session, and deleting it again is fine.
	for range 2 {
		if err := e.svc.EndSession(ctx, accounts.HashToken(mine[0].Token)); err != nil {
			t.Fatalf("EndSession: %v", err)
		}
	}
	if valid(mine[0]) || !valid(mine[1]) || !valid(mine[2]) {
		t.Fatal("EndSession ended the wrong sessions")
	}

	// EndUserSessions keeps the one named, and only touches its user.
	mine = append(mine, mustSession(t, e, "u1"))
	n, err := e.svc.EndUserSessions(ctx, "u1", accounts.HashToken(mine[2].Token))
	if err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	if n != 2 {
		t.Fatalf("EndUserSessions ended %d sessions, want 2", n)
	}
	if valid(mine[1]) || !valid(mine[2]) || valid(mine[3]) || !valid(theirs) {
		t.Fatal("EndUserSessions ended the wrong sessions")
	}
	// Keeping none ends them all.
	if n, err := e.svc.EndUserSessions(ctx, "u1", ""); err != nil || n != 1 {
		t.Fatalf("EndUserSessions(all) = %d, %v; want 1", n, err)
	}
	if valid(mine[2]) || !valid(theirs) {
		t.Fatal("EndUserSessions(all) ended the wrong sessions")
	}
	if n, err := e.svc.EndUserSessions(ctx, "u1", ""); err != nil || n != 0 {
		t.Fatalf("EndUserSessions with none left = %d, %v", n, err)
	}
}

func mustSession(t *testing.T, e *env, userID string) accounts.Session {
	t.Helper()
	s, err := e.svc.NewSession(t.Context(), userID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
