package otp_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/core/otp"
	"partnergate/core/password"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	st   *sqlstore.Store
	mr   *miniredis.Miniredis
	clk  *clock
	acc  *accounts.Service
	svc  *otp.Service
	ring *keyring.Ring
	log  *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	// A whole step plus 10 s: codes of the previous and next steps are
	// within reach and a step boundary is 20 s away.
	clk := &clock{t: time.Unix(1_900_000_020, 0).UTC()}
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	k := kv.New(client, kv.WithClock(clk.Now))
	h, err := password.NewHasher(password.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 8, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, mr: mr, clk: clk, ring: ring, log: &syncBuffer{}}
	e.acc = &accounts.Service{Store: st, KV: k, Hasher: h, Throttle: accounts.DefaultThrottle,
		Sessions: accounts.DefaultSessionPolicy, Now: clk.Now, Log: zerolog.New(e.log)}
	e.svc = &otp.Service{Store: st, Ring: ring, Guard: e.acc, Sessions: e.acc, Now: clk.Now, Log: zerolog.New(e.log)}
	e.acc.SecondFactor = e.svc
	return e
}

func (e *env) advance(d time.Duration) {
	e.clk.mu.Lock()
	e.clk.t = e.clk.t.Add(d)
	e.clk.mu.Unlock()
	e.mr.FastForward(d)
}

func (e *env) user(t *testing.T, email string) store.User {
	t.Helper()
	u, err := e.acc.Register(t.Context(), accounts.Registration{Email: email, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// enrol generates a secret for u and returns it (base32), read back from
// the otpauth URL as an app would.
func (e *env) enrol(t *testing.T, u store.User) string {
	t.Helper()
	en, err := e.svc.Generate(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := potp.NewKeyFromURL(en.URL)
	if err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

func (e *env) code(t *testing.T, secret string, offset time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, e.clk.Now().Add(offset))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, what string, err error, want fault.Code) {
	t.Helper()
	if got := fault.CodeOf(err); got != want || (want == 0 && err != nil) {
		t.Fatalf("%s: err = %v (code %d), want code %d", what, err, got, want)
	}
}

// TestRFC6238Vectors checks the code function against RFC 6238 Appendix B
// (SHA-1, 8 digits, the ASCII secret "12345678901234567890").
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		got, err := otp.CodeAt(secret, time.Unix(tc.unix, 0), potp.DigitsEight)
		if err != nil || got != tc.want {
			t.Errorf("T=%d: %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestParseCode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind string
		want fault.Code
	}{
		{"", "", fault.OTPRequired},
		{"123456", otp.KindTOTP, 0},
		{"000000", otp.KindTOTP, 0},
		{"12345", "", fault.OTPMalformed},
		{"1234567", "", fault.OTPMalformed},
		{"12345a", "", fault.OTPMalformed},
		{" 123456", "", fault.OTPMalformed},
		{"١٢٣٤٥٦", "", fault.OTPMalformed}, // Arabic-Indic digits
		{"ABCDE-FGHIJ-KLMNO-PQRST", otp.KindRecovery, 0},
		{"abcde fghij klmno pqrst", otp.KindRecovery, 0},
		{"ABCDEFGHIJKLMNOPQRST", otp.KindRecovery, 0},
		{"ABCDE-FGHIJ-KLMNO-PQRS", "", fault.OTPMalformed},
		{"ABCDE-FGHIJ-KLMNO-PQRS1", "", fault.OTPMalformed}, // 1 is not base32
		{"ABCDE-FGHIJ-KLMNO-PQRSTU", "", fault.OTPMalformed},
		{strings.Repeat("-", 65), "", fault.OTPMalformed},
	} {
		c, err := otp.ParseCode(tc.in)
		if fault.CodeOf(err) != tc.want || c.Kind != tc.kind {
			t.Errorf("ParseCode(%q) = %+v, %v; want kind %q code %d", tc.in, c, err, tc.kind, tc.want)
		}
	}
}

func TestEnrolAndEnable(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.user(t, "ann@example.com")

	_, err := e.svc.Enable(ctx, u.ID, "", "123456")
	wantCode(t, "enable before generate", err, fault.OTPNotGenerated)
	wantCode(t, "verify while off", e.svc.Verify(ctx, u.ID, "123456"), fault.OTPNotEnabled)
	wantCode(t, "disable while off", e.svc.Disable(ctx, u.ID, "123456"), fault.OTPNotEnabled)

	en, err := e.svc.Generate(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	key, err := potp.NewKeyFromURL(en.URL)
	if err != nil || key.Issuer() != otp.DefaultIssuer || key.AccountName() != "ann@example.com" || key.Period() != 30 ||
		key.Digits() != potp.DigitsSix || key.Algorithm() != potp.AlgorithmSHA1 {
		t.Fatalf("otpauth URL %q: %+v, %v", en.URL, key, err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil || len(raw) != otp.SecretBytes {
		t.Fatalf("secret of %d bytes, %v; want 20", len(raw), err)
	}
	img, err := png.Decode(bytes.NewReader(en.PNG))
	if err != nil || img.Bounds().Dx() != otp.QRSize {
		t.Fatalf("QR PNG: %v, %v", img, err)
	}
	// Sealed at rest, bound to the user.
	rec, err := e.st.TOTP(ctx, u.ID)
	if err != nil || strings.Contains(rec.SecretSealed, key.Secret()) || rec.Enabled != nil {
		t.Fatalf("stored secret %+v, %v", rec, err)
	}
	if _, err := e.ring.Open(rec.SecretSealed, "totp:someone-else"); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("the sealed secret opens for another user: %v", err)
	}
	// A second generate before enabling replaces the secret.
	secret := e.enrol(t, u)
	if secret == key.Secret() {
		t.Fatal("generate twice gave the same secret")
	}
	_, err = e.svc.Enable(ctx, u.ID, "", e.code(t, key.Secret(), 0))
	wantCode(t, "enable with the replaced secret's code", err, fault.OTPInvalid)
	_, err = e.svc.Enable(ctx, u.ID, "", "ABCDE-FGHIJ-KLMNO-PQRST")
	wantCode(t, "enable with a recovery-shaped code", err, fault.OTPMalformed)
	_, err = e.svc.Enable(ctx, u.ID, "", e.code(t, secret, 2*otp.Period*time.Second))
	wantCode(t, "enable with a code two steps ahead", err, fault.OTPInvalid)

	codes, err := e.svc.Enable(ctx, u.ID, "", e.code(t, secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		pc, err := otp.ParseCode(c)
		if err != nil || pc.Kind != otp.KindRecovery || seen[c] {
			t.Fatalf("recovery code %q: %+v, %v (dup %v)", c, pc, err, seen[c])
		}
		seen[c] = true
	}
	if len(codes) != otp.RecoveryCodes {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if got, _ := e.st.UserByID(ctx, u.ID); !got.TOTP {
		t.Fatal("user's TOTP flag is off after enable")
	}
	if on, err := e.svc.Enabled(ctx, u.ID); !on || err != nil {
		t.Fatalf("Enabled = %v, %v", on, err)
	}
	_, err = e.svc.Generate(ctx, u)
	wantCode(t, "generate while on", err, fault.OTPAlreadyEnabled)
	_, err = e.svc.Enable(ctx, u.ID, "", e.code(t, secret, otp.Period*time.Second))
	wantCode(t, "enable twice", err, fault.OTPAlreadyEnabled)
	for _, c := range codes {
		if strings.Contains(e.log.String(), c) {
			t.Fatalf("the log holds recovery code %s", c)
		}
	}
	if strings.Contains(e.log.String(), secret) {
		t.Fatal("the log holds the secret")
	}
}

func TestVerifyOnceAndSkew(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.user(t, "bo@example.com")
	secret := e.enrol(t, u)
	codes, err := e.svc.Enable(ctx, u.ID, "", e.code(t, secret, -otp.Period*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	step := otp.Period * time.Second
	// The enabling code's step is used; the current one is fresh.
	wantCode(t, "the enabling code again", e.svc.Verify(ctx, u.ID, e.code(t, secret, -step)), fault.OTPInvalid)
	now := e.code(t, secret, 0)
	wantCode(t, "current step", e.svc.Verify(ctx, u.ID, now), 0)
	wantCode(t, "current step replayed", e.svc.Verify(ctx, u.ID, now), fault.OTPInvalid)
	wantCode(t, "two steps ahead", e.svc.Verify(ctx, u.ID, e.code(t, secret, 2*step)), fault.OTPInvalid)
	wantCode(t, "next step (skew +1)", e.svc.Verify(ctx, u.ID, e.code(t, secret, step)), 0)
	// Once the next step was taken, the current one is refused too.
	e.advance(step)
	wantCode(t, "a step older than the last accepted", e.svc.Verify(ctx, u.ID, e.code(t, secret, -step)), fault.OTPInvalid)
	e.advance(step)
	wantCode(t, "previous step (skew -1)", e.svc.Verify(ctx, u.ID, e.code(t, secret, -step)), fault.OTPInvalid) // = the one taken above
	e.advance(step)
	wantCode(t, "previous step (skew -1), fresh", e.svc.Verify(ctx, u.ID, e.code(t, secret, -step)), 0)
	wantCode(t, "three steps behind", e.svc.Verify(ctx, u.ID, e.code(t, secret, -3*step)), fault.OTPInvalid)

	// Recovery codes: once each, in any case and spacing.
	lower := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
	wantCode(t, "recovery code", e.svc.Verify(ctx, u.ID, lower), 0)
	wantCode(t, "recovery code again", e.svc.Verify(ctx, u.ID, codes[0]), fault.OTPInvalid)
	wantCode(t, "unknown recovery code", e.svc.Verify(ctx, u.ID, "AAAAA-AAAAA-AAAAA-AAAAA"), fault.OTPInvalid)
	if n, err := e.svc.RecoveryCodesLeft(ctx, u.ID); n != 9 || err != nil {
		t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
	}
	// Another user's recovery code is not this one's.
	v := e.user(t, "cy@example.com")
	vs := e.enrol(t, v)
	if _, err := e.svc.Enable(ctx, v.ID, "", e.code(t, vs, 0)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "another user's recovery code", e.svc.Verify(ctx, v.ID, codes[1]), fault.OTPInvalid)
	wantCode(t, "empty", e.svc.Verify(ctx, u.ID, ""), fault.OTPRequired)
	wantCode(t, "5 digits", e.svc.Verify(ctx, u.ID, "12345"), fault.OTPMalformed)

	// Disable with a recovery code; then everything is gone.
	wantCode(t, "disable with a wrong code", e.svc.Disable(ctx, u.ID, "000000"), fault.OTPInvalid)
	wantCode(t, "disable", e.svc.Disable(ctx, u.ID, codes[2]), 0)
	wantCode(t, "verify after disable", e.svc.Verify(ctx, u.ID, codes[3]), fault.OTPNotEnabled)
	if got, _ := e.st.UserByID(ctx, u.ID); got.TOTP {
		t.Fatal("user's TOTP flag is on after disable")
	}
}

// TestGuessThrottle: wrong codes back off the user like wrong passwords,
// with retryAfter, and a correct code after the wait clears the count.
func TestGuessThrottle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.user(t, "di@example.com")
	secret := e.enrol(t, u)
	if _, err := e.svc.Enable(ctx, u.ID, "", e.code(t, secret, 0)); err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if wrong == e.code(t, secret, 0) || wrong == e.code(t, secret, time.Minute) || wrong == e.code(t, secret, -time.Minute) {
		wrong = "111111"
	}
	for i := range accounts.DefaultThrottle.FreeFailures {
		wantCode(t, "wrong code "+string(rune('1'+i)), e.svc.Verify(ctx, u.ID, wrong), fault.OTPInvalid)
	}
	err := e.svc.Verify(ctx, u.ID, wrong)
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Throttled || fe.RetryAfter <= 0 {
		t.Fatalf("sixth wrong code: %v, want Throttled with retryAfter", err)
	}
	// Backed off, even the right code waits: guessing gains nothing.
	wantCode(t, "right code while backed off", e.svc.Verify(ctx, u.ID, e.code(t, secret, otp.Period*time.Second)), fault.Throttled)
	e.advance(time.Minute)
	wantCode(t, "right code after the wait", e.svc.Verify(ctx, u.ID, e.code(t, secret, 0)), 0)
	wantCode(t, "counter cleared", e.svc.Verify(ctx, u.ID, wrong), fault.OTPInvalid)
}

// TestParallelVerify: 20 parallel verifies of one code give one success.
func TestParallelVerify(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.user(t, "ed@example.com")
	secret := e.enrol(t, u)
	if _, err := e.svc.Enable(ctx, u.ID, "", e.code(t, secret, 0)); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, secret, otp.Period*time.Second)
	var ok, invalid atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := e.svc.Verify(ctx, u.ID, code); fault.CodeOf(err) {
			case 0:
				if err == nil {
					ok.Add(1)
				}
			case fault.OTPInvalid, fault.Throttled:
				invalid.Add(1)
			default:
				t.Errorf("parallel verify: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || invalid.Load() != 19 {
		t.Fatalf("%d successes, %d refusals; want 1 and 19", ok.Load(), invalid.Load())
	}
}

// TestLoginNeedsSecondFactor: accounts.CheckPassword, every login's core,
// asks for the code only after a correct password.
func TestLoginNeedsSecondFactor(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.user(t, "fi@example.com")
	secret := e.enrol(t, u)
	codes, err := e.svc.Enable(ctx, u.ID, "", e.code(t, secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	login := func(pw, code string) error {
		_, err := e.acc.CheckPassword(ctx, accounts.Login{Kind: store.KindEmail, Norm: "fi@example.com", Password: pw, Code: code})
		return err
	}
	wantCode(t, "wrong password, no code", login("wrong password here", ""), fault.WrongCredentials)
	wantCode(t, "wrong password, right code", login("wrong password here", e.code(t, secret, 30*time.Second)), fault.WrongCredentials)
	wantCode(t, "no code", login("correct horse battery staple", ""), fault.OTPRequired)
	wantCode(t, "wrong code", login("correct horse battery staple", "000001"), fault.OTPInvalid)
	wantCode(t, "used code", login("correct horse battery staple", e.code(t, secret, 0)), fault.OTPInvalid)
	wantCode(t, "fresh code", login("correct horse battery staple", e.code(t, secret, 30*time.Second)), 0)
	wantCode(t, "recovery code", login("correct horse battery staple", codes[5]), 0)
	wantCode(t, "recovery code again", login("correct horse battery staple", codes[5]), fault.OTPInvalid)

	// Fail closed: 2FA on and no second factor wired is no login at all.
	e.acc.SecondFactor = nil
	if err := login("correct horse battery staple", e.code(t, secret, 0)); err == nil || fault.CodeOf(err) != 0 {
		t.Fatalf("no SecondFactor: %v, want an internal error", err)
	}
}
