package captcha

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"partnergate/core/fault"
)

// siteverifyServer speaks reCAPTCHA's and Turnstile's siteverify: it
// accepts the answer "good" for the secret "s3cret".
func siteverifyServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		ok := r.PostForm.Get("secret") == "s3cret" && r.PostForm.Get("response") == "good" && r.PostForm.Get("remoteip") == "192.0.2.7"
		_ = json.NewEncoder(w).Encode(map[string]any{"success": ok, "error-codes": []string{}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// geetestServer speaks GeeTest v3: register.php hands out a challenge,
// validate.php echoes md5(seccode) for answers it issued.
func geetestServer(t *testing.T) *httptest.Server {
	const raw = "0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/register.php":
			if r.URL.Query().Get("gt") != "gt-id" {
				_ = json.NewEncoder(w).Encode(map[string]string{"challenge": "0"})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": raw})
		case "/validate.php":
			_ = r.ParseForm()
			if r.PostForm.Get("seccode") == "sc|jordan" && r.PostForm.Get("captchaid") == "gt-id" {
				_ = json.NewEncoder(w).Encode(map[string]string{"seccode": md5hex("sc|jordan")})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"seccode": "false"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mustNew(t *testing.T, cfg Config) *Verifier {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{Kind: "hcaptcha", Secret: "x"},
		{Kind: ReCaptcha},
		{Kind: GeeTest, Secret: "k"},
		{Kind: Turnstile, Secret: "x", VerifyURL: "ftp://example.com"},
		{Kind: Turnstile, Secret: "x", Endpoints: []string{"user_delete"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	v := mustNew(t, Config{})
	if v.Kind() != None || v.Guards(UserCreate) || v.Check(context.Background(), UserCreate, "", "") != nil {
		t.Fatal("none checks something")
	}
	var nilV *Verifier
	if nilV.Kind() != None || nilV.Check(context.Background(), SessionCreate, "", "") != nil {
		t.Fatal("nil verifier checks something")
	}
}

func TestSiteverify(t *testing.T) {
	for _, kind := range []string{ReCaptcha, Turnstile} {
		t.Run(kind, func(t *testing.T) {
			var hits atomic.Int32
			srv := siteverifyServer(t, &hits)
			v := mustNew(t, Config{Kind: kind, Secret: "s3cret", VerifyURL: srv.URL, Endpoints: []string{UserCreate, SessionCreate}})
			ctx := context.Background()
			for _, c := range []struct {
				endpoint, response string
				want               fault.Code
			}{
				{UserCreate, "good", 0},
				{SessionCreate, "bad", fault.CaptchaInvalid},
				{SessionCreate, "", fault.CaptchaRequired},
				{SessionCreate, "   ", fault.CaptchaRequired},
				{PasswordReset, "", 0}, // not guarded here
			} {
				if got := fault.CodeOf(v.Check(ctx, c.endpoint, c.response, "192.0.2.7")); got != c.want {
					t.Errorf("%s %q: code %d, want %d", c.endpoint, c.response, got, c.want)
				}
			}
			// A missing answer and an unguarded endpoint never reach the provider.
			if n := hits.Load(); n != 2 {
				t.Errorf("%d verify calls, want 2", n)
			}
			wrong := mustNew(t, Config{Kind: kind, Secret: "other", VerifyURL: srv.URL})
			if got := fault.CodeOf(wrong.Check(ctx, UserCreate, "good", "192.0.2.7")); got != fault.CaptchaInvalid {
				t.Errorf("wrong secret: %d", got)
			}
		})
	}
}

func TestVerifierDownRefuses(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	t.Cleanup(status.Close)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>captcha</html>"))
	}))
	t.Cleanup(garbage.Close)
	noSuccess := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"hostname":"x"}`))
	}))
	t.Cleanup(noSuccess.Close)
	for name, u := range map[string]string{"down": downURL, "slow": slow.URL, "500": status.URL, "not json": garbage.URL, "no success": noSuccess.URL} {
		t.Run(name, func(t *testing.T) {
			v := mustNew(t, Config{Kind: Turnstile, Secret: "s3cret", VerifyURL: u, Timeout: 200 * time.Millisecond})
			err := v.Check(context.Background(), UserCreate, "good", "192.0.2.7")
			if fault.CodeOf(err) != fault.CaptchaUnavailable {
				t.Fatalf("%v", err)
			}
			if fe, _ := fault.As(err); fe.Message != fault.CaptchaUnavailable.Message() {
				t.Fatalf("message %q leaks the cause", fe.Message)
			}
		})
	}
}

func geetestAnswer(challenge, validate, seccode string) string {
	b, _ := json.Marshal(GeeTestAnswer{Challenge: challenge, Validate: validate, Seccode: seccode})
	return string(b)
}

func TestGeeTest(t *testing.T) {
	srv := geetestServer(t)
	v := mustNew(t, Config{Kind: GeeTest, Secret: "priv", SiteKey: "gt-id", VerifyURL: srv.URL})
	ctx := context.Background()
	ch, err := v.Register(ctx, "192.0.2.7")
	if err != nil || ch.Success != 1 || ch.GT != "gt-id" || !ch.NewCaptcha || ch.Challenge != md5hex("0123456789abcdef0123456789abcdef"+"priv") {
		t.Fatalf("Register = %+v, %v", ch, err)
	}
	good := md5hex("priv" + "geetest" + ch.Challenge)
	for _, c := range []struct {
		name, response string
		want           fault.Code
	}{
		{"valid", geetestAnswer(ch.Challenge, good, "sc|jordan"), 0},
		{"validate not the challenge's", geetestAnswer(ch.Challenge, md5hex("x"), "sc|jordan"), fault.CaptchaInvalid},
		{"seccode refused", geetestAnswer(ch.Challenge, good, "sc|other"), fault.CaptchaInvalid},
		{"member missing", `{"geetest_challenge":"c","geetest_validate":"v"}`, fault.CaptchaRequired},
		{"not an object", `"token"`, fault.CaptchaRequired},
		{"unknown member", `{"geetest_challenge":"c","geetest_validate":"v","geetest_seccode":"s","x":1}`, fault.CaptchaRequired},
	} {
		if got := fault.CodeOf(v.Check(ctx, EmailConfirmation, c.response, "")); got != c.want {
			t.Errorf("%s: code %d, want %d", c.name, got, c.want)
		}
	}
	bad := mustNew(t, Config{Kind: GeeTest, Secret: "priv", SiteKey: "unknown-gt", VerifyURL: srv.URL})
	if _, err := bad.Register(ctx, ""); fault.CodeOf(err) != fault.CaptchaUnavailable {
		t.Fatalf("register without a challenge: %v", err)
	}
	if _, err := mustNew(t, Config{Kind: Turnstile, Secret: "x", VerifyURL: srv.URL}).Register(ctx, ""); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("register on turnstile: %v", err)
	}
	u, _ := url.Parse(srv.URL)
	srv.Close()
	if _, err := v.Register(ctx, ""); fault.CodeOf(err) != fault.CaptchaUnavailable {
		t.Fatalf("register while %s is down: %v", u.Host, err)
	}
}

func FuzzGeeTestAnswer(f *testing.F) {
	for _, s := range []string{"", `{}`, geetestAnswer("a", "b", "c"), `{"geetest_challenge":1}`, `[`, "\x00"} {
		f.Add(s)
	}
	// A verify URL nothing listens on: whatever the answer, it is never accepted.
	v, err := New(Config{Kind: GeeTest, Secret: "priv", SiteKey: "gt", VerifyURL: "http://127.0.0.1:1", Timeout: 50 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := v.Check(context.Background(), UserCreate, s, "")
		switch fault.CodeOf(err) {
		case fault.CaptchaRequired, fault.CaptchaInvalid, fault.CaptchaUnavailable:
		default:
			t.Fatalf("%q: %v", s, err)
		}
	})
}
