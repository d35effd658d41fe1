package accounts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/password"
	"partnergate/store"
)

const wrongPassword = "not-the-Passw0rd-88"

func TestCheckPassword(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "Zeb@Example.com", goodPassword)

	got, err := e.login(t, "zeb@example.com", goodPassword, "203.0.113.1")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if got.ID != u.ID {
		t.Fatalf("login returned user %q, want %q", got.ID, u.ID)
	}
	// The identifier is matched on its normalised form.
	if _, err := e.login(t, "ZEB@EXAMPLE.COM", goodPassword, ""); err != nil {
		t.Fatalf("login in upper case: %v", err)
	}
	// NFKC at set and at verify, never trimmed.
	e.register(t, "nfkc@example.com", "\u00C5ngstr\u00F6m-Ferry-47")
	if _, err := e.login(t, "nfkc@example.com", "A\u030Angstro\u0308m-Ferry-47", ""); err != nil {
		t.Fatalf("login with the decomposed form: %v", err)
	}
	_, err = e.login(t, "nfkc@example.com", " \u00C5ngstr\u00F6m-Ferry-47", "")
	wantCode(t, "login with a leading space", err, fault.WrongCredentials)
	log := e.log.String()
	if !strings.Contains(log, `"event":"login.succeeded"`) || !strings.Contains(log, `"event":"login.failed"`) {
		t.Error("logins not audited")
	}
}

// Unknown user and wrong password are indistinguishable; a disabled user is
// revealed only to whoever knows the password.
func TestCheckPasswordRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.register(t, "known@example.com", goodPassword)
	dis := e.register(t, "disabled@example.com", goodPassword)
	if _, err := e.st.UpdateUser(ctx, dis.ID, func(u store.User) (store.User, error) {
		u.State = store.StateDisabled
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A user with no password at all (signed up some other way).
	if err := e.st.CreateUser(ctx, store.NewUser{
		User:        store.User{ID: "00000000-0000-7000-8000-000000000001", State: store.StateActive},
		Identifiers: []store.Identifier{{UserID: "00000000-0000-7000-8000-000000000001", Kind: store.KindEmail, Value: "nopw@example.com", Norm: "nopw@example.com"}},
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, email, pw string
		want            fault.Code
	}{
		{"wrong password", "known@example.com", wrongPassword, fault.WrongCredentials},
		{"unknown user", "nobody@example.com", goodPassword, fault.WrongCredentials},
		{"malformed login", "not an email", goodPassword, fault.WrongCredentials},
		{"empty password", "known@example.com", "", fault.WrongCredentials},
		{"oversize password", "known@example.com", strings.Repeat("p", 5000), fault.WrongCredentials},
		{"user without password", "nopw@example.com", goodPassword, fault.WrongCredentials},
		{"user without password, empty password", "nopw@example.com", "", fault.WrongCredentials},
		{"disabled, wrong password", "disabled@example.com", wrongPassword, fault.WrongCredentials},
		{"disabled, right password", "disabled@example.com", goodPassword, fault.UserDisabled},
	}
	var reference *fault.Error
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.login(t, tt.email, tt.pw, "")
			wantCode(t, "login", err, tt.want)
			if u.ID != "" {
				t.Fatalf("a refused login returned user %q", u.ID)
			}
			fe, _ := fault.As(err)
			if fe.Code != fault.WrongCredentials {
				return
			}
			// Same code, message and shape whatever the reason.
			if reference == nil {
				reference = fe
			}
			if fe.Message != reference.Message || fe.Error() != reference.Error() || fe.Fields != nil || fe.RetryAfter != 0 {
				t.Fatalf("refusal %+v differs from %+v", fe, reference)
			}
		})
	}
}

// failUntilThrottled makes wrong attempts, advancing past each backoff, and
// returns the RetryAfter seen after each failure from the fifth on.
func failUntilThrottled(t *testing.T, e *env, email string, failures int) []time.Duration {
	t.Helper()
	var waits []time.Duration
	for i := 1; i <= failures; i++ {
		_, err := e.login(t, email, wrongPassword, "")
		wantCode(t, fmt.Sprintf("failure %d", i), err, fault.WrongCredentials)
		if i < 5 {
			continue
		}
		// Now backed off, even with the right password.
		_, err = e.login(t, email, goodPassword, "")
		w := wantThrottled(t, fmt.Sprintf("attempt after failure %d", i), err)
		waits = append(waits, w)
		e.advance(w)
	}
	return waits
}

func TestCheckPasswordBackoff(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "victim@example.com", goodPassword)

	// Four failures cost nothing; the fifth starts a backoff of 1 s that
	// doubles with every further failure, capped at 15 minutes.
	waits := failUntilThrottled(t, e, "victim@example.com", 17)
	want := []time.Duration{}
	for k := range 13 {
		want = append(want, min(time.Second<<k, 15*time.Minute))
	}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("backoffs %v, want %v", waits, want)
	}

	// Unknown logins throttle exactly like known ones.
	if unknown := failUntilThrottled(t, e, "ghost@example.com", 17); fmt.Sprint(unknown) != fmt.Sprint(waits) {
		t.Fatalf("unknown login backoffs %v, known %v", unknown, waits)
	}

	// Never locked for good: once the backoff has passed the right password
	// works, and success clears the count.
	got, err := e.login(t, "victim@example.com", goodPassword, "")
	if err != nil || got.ID != u.ID {
		t.Fatalf("login after the backoff: %v", err)
	}
	for i := range 4 {
		_, err := e.login(t, "victim@example.com", wrongPassword, "")
		wantCode(t, fmt.Sprintf("failure %d after success", i+1), err, fault.WrongCredentials)
	}
	if _, err := e.login(t, "victim@example.com", goodPassword, ""); err != nil {
		t.Fatalf("4 failures after a success throttled: %v", err)
	}
}

func TestCheckPasswordBackoffEndsAndForgets(t *testing.T) {
	e := newEnv(t)
	e.register(t, "zeb@example.com", goodPassword)
	for range 5 {
		_, _ = e.login(t, "zeb@example.com", wrongPassword, "")
	}
	_, err := e.login(t, "zeb@example.com", goodPassword, "")
	if w := wantThrottled(t, "6th attempt", err); w != time.Second {
		t.Fatalf("RetryAfter = %s, want 1s", w)
	}
	e.advance(999 * time.Millisecond)
	_, err = e.login(t, "zeb@example.com", goodPassword, "")
	if w := wantThrottled(t, "1 ms before the end", err); w != time.Millisecond {
		t.Fatalf("RetryAfter = %s, want 1ms", w)
	}
	e.advance(time.Millisecond)
	if _, err := e.login(t, "zeb@example.com", goodPassword, ""); err != nil {
		t.Fatalf("login once the backoff is over: %v", err)
	}

	// Failures are forgotten an hour after the last one.
	for range 5 {
		_, _ = e.login(t, "zeb@example.com", wrongPassword, "")
	}
	e.advance(time.Hour)
	for i := range 4 {
		_, err := e.login(t, "zeb@example.com", wrongPassword, "")
		wantCode(t, fmt.Sprintf("failure %d an hour later", i+1), err, fault.WrongCredentials)
	}
	if _, err := e.login(t, "zeb@example.com", goodPassword, ""); err != nil {
		t.Fatalf("old failures still counted: %v", err)
	}
}

// The hourly cap holds even when the backoff is loosened: at most
// HourlyAttempts failures per account within Window.
func TestCheckPasswordHourlyCap(t *testing.T) {
	e := newEnv(t)
	e.svc.Throttle.FreeFailures = 1 << 40 // no backoff
	e.svc.Throttle.IPFreeFailures = 1 << 40
	e.register(t, "busy@example.com", goodPassword)
	for i := range 100 {
		if i > 0 {
			e.advance(30 * time.Second) // 100 failures in 49.5 minutes
		}
		_, err := e.login(t, "busy@example.com", wrongPassword, "192.0.2.1")
		wantCode(t, fmt.Sprintf("failure %d", i+1), err, fault.WrongCredentials)
	}
	_, err := e.login(t, "busy@example.com", goodPassword, "")
	if w := wantThrottled(t, "attempt 101", err); w != time.Hour {
		t.Fatalf("RetryAfter = %s, want an hour after the last failure", w)
	}
	e.advance(time.Hour - time.Millisecond)
	_, err = e.login(t, "busy@example.com", goodPassword, "")
	wantThrottled(t, "1 ms before the window ends", err)
	e.advance(time.Millisecond)
	if _, err := e.login(t, "busy@example.com", goodPassword, ""); err != nil {
		t.Fatalf("attempt once the window is over: %v", err)
	}
	// The cap is per account.
	e.register(t, "other@example.com", goodPassword)
	if _, err := e.login(t, "other@example.com", goodPassword, ""); err != nil {
		t.Fatalf("another account: %v", err)
	}
}

// With the default settings, an attacker retrying the moment each backoff
// ends gets far fewer than 100 tries in an hour.
func TestCheckPasswordDefaultsPerHour(t *testing.T) {
	e := newEnv(t)
	e.register(t, "victim@example.com", goodPassword)
	tries := 0
	for elapsed := time.Duration(0); elapsed < time.Hour; {
		_, err := e.login(t, "victim@example.com", wrongPassword, "")
		if fe, ok := fault.As(err); ok && fe.Code == fault.Throttled {
			e.advance(fe.RetryAfter)
			elapsed += fe.RetryAfter
			continue
		}
		wantCode(t, "try", err, fault.WrongCredentials)
		tries++
	}
	if tries > 100 || tries < 5 {
		t.Fatalf("%d tries in an hour", tries)
	}
}

func TestCheckPasswordIPThrottle(t *testing.T) {
	e := newEnv(t)
	const ip = "198.51.100.7"
	e.register(t, "target@example.com", goodPassword)
	// One failure on each of 20 accounts, known and unknown: no account is
	// backed off, but the IP is.
	for i := range 20 {
		email := fmt.Sprintf("spray%02d@example.com", i)
		if i%2 == 0 {
			e.register(t, email, goodPassword)
		}
		_, err := e.login(t, email, wrongPassword, ip)
		wantCode(t, "spray "+email, err, fault.WrongCredentials)
	}
	_, err := e.login(t, "target@example.com", goodPassword, ip)
	if w := wantThrottled(t, "21st attempt from the IP", err); w != time.Second {
		t.Fatalf("RetryAfter = %s, want 1s", w)
	}
	if _, err := e.login(t, "target@example.com", goodPassword, "198.51.100.8"); err != nil {
		t.Fatalf("same account from another IP: %v", err)
	}
	if _, err := e.login(t, "target@example.com", goodPassword, ""); err != nil {
		t.Fatalf("same account with no IP: %v", err)
	}
	e.advance(time.Second)
	if _, err := e.login(t, "target@example.com", goodPassword, ip); err != nil {
		t.Fatalf("the IP after its backoff: %v", err)
	}
}

func TestCheckPasswordRehash(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.register(t, "old@example.com", goodPassword)
	old, err := password.NewHasher(password.Params{Memory: 32, Iterations: 1, Parallelism: 1}, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	oldHash, err := old.Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetPasswordHash(ctx, u.ID, oldHash); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		c, err := e.st.Credential(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.PasswordHash
	}

	// A failed login leaves the old hash alone.
	_, err = e.login(t, "old@example.com", wrongPassword, "")
	wantCode(t, "wrong password", err, fault.WrongCredentials)
	if read() != oldHash {
		t.Fatal("a failed login rewrote the hash")
	}
	if _, err := e.login(t, "old@example.com", goodPassword, ""); err != nil {
		t.Fatalf("login with the old hash: %v", err)
	}
	after := read()
	if after == oldHash || !strings.HasPrefix(after, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash after login = %q, want a rehash with the current params", after)
	}
	if _, err := e.login(t, "old@example.com", goodPassword, ""); err != nil {
		t.Fatalf("login with the new hash: %v", err)
	}
	if read() != after {
		t.Fatal("a current hash was rehashed again")
	}
}

// SECURITY.md 22: with Redis down, logins and sessions fail closed.
func TestRedisDown(t *testing.T) {
	e := newEnv(t)
	u := e.register(t, "zeb@example.com", goodPassword)
	s, err := e.svc.NewSession(t.Context(), u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.mr.Close()
	for _, tt := range []struct{ name, email, pw, ip string }{
		{"right password", "zeb@example.com", goodPassword, "203.0.113.9"},
		{"right password, no IP", "zeb@example.com", goodPassword, ""},
		{"wrong password", "zeb@example.com", wrongPassword, ""},
		{"unknown user", "ghost@example.com", goodPassword, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.login(t, tt.email, tt.pw, tt.ip)
			wantCode(t, "login", err, fault.Unavailable)
			if got.ID != "" {
				t.Fatal("a user was returned with Redis down")
			}
		})
	}
	_, err = e.svc.SessionByToken(t.Context(), s.Token)
	wantCode(t, "SessionByToken", err, fault.Unavailable)
	_, err = e.svc.NewSession(t.Context(), u.ID, "", "")
	wantCode(t, "NewSession", err, fault.Unavailable)
	wantCode(t, "EndSession", e.svc.EndSession(t.Context(), accounts.HashToken(s.Token)), fault.Unavailable)
	_, err = e.svc.EndUserSessions(t.Context(), u.ID, "")
	wantCode(t, "EndUserSessions", err, fault.Unavailable)
}

// An overloaded hasher refuses logins and registrations before any store
// round trip: the refusal is the same for known and unknown accounts, costs
// no failure, creates nothing, and comes even with Redis gone.
func TestOverloadRefusesBeforeAnyWork(t *testing.T) {
	e := newEnv(t)
	e.register(t, "busy@example.com", goodPassword)
	// Slow parameters (about a second a hash here) so that one hash keeps
	// the only slot busy while the refusals below run.
	h, err := password.NewHasher(password.Params{Memory: 64, Iterations: 20000, Parallelism: 1}, 1, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Hasher = h
	holder := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.WithoutCancel(t.Context()), "glacier-Umbrella-93")
		holder <- err
	}()
	// Callers admitted until one is refused: from then on the slot is busy
	// and the queue behind it full (a wait of 1 ns serves nobody queued).
	var releases []func()
	for deadline := time.Now().Add(5 * time.Second); ; {
		release, err := h.Reserve(t.Context())
		if err != nil {
			break
		}
		releases = append(releases, release)
		if time.Now().After(deadline) {
			t.Fatal("the holder never took the slot")
		}
		time.Sleep(time.Millisecond)
	}
	for _, login := range []string{"busy@example.com", "ghost@example.com"} {
		for i := range 6 {
			_, err := e.login(t, login, wrongPassword, "203.0.113.9")
			wantCode(t, fmt.Sprintf("%s, overloaded attempt %d", login, i+1), err, fault.Throttled)
		}
	}
	before := e.countUsers(t)
	_, err = e.svc.Register(t.Context(), accounts.Registration{Email: "new@example.com", Password: goodPassword})
	wantCode(t, "registration while overloaded", err, fault.Throttled)
	if e.countUsers(t) != before {
		t.Fatal("a refused registration created a user")
	}
	e.mr.Close()
	_, err = e.login(t, "busy@example.com", goodPassword, "")
	wantCode(t, "overloaded with Redis down", err, fault.Throttled)
	e.mr.Restart()
	select {
	case err := <-holder:
		t.Fatalf("the slot was freed before the refusals were checked (%v): make the holder's hash slower", err)
	default:
	}
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	for _, release := range releases {
		release()
	}
	// None of the refused attempts counted: the four free failures remain.
	for i := range 4 {
		_, err := e.login(t, "busy@example.com", wrongPassword, "")
		wantCode(t, fmt.Sprintf("failure %d after the overload", i+1), err, fault.WrongCredentials)
	}
	if _, err := e.login(t, "busy@example.com", goodPassword, ""); err != nil {
		t.Fatalf("login after the overload: %v", err)
	}
}
