// Package captcha checks captcha answers server-side, the way seed 002
// (Barong) does on the endpoints it guards: reCAPTCHA and Cloudflare
// Turnstile through their siteverify APIs, GeeTest (v3) through its
// register and validate APIs. A verifier that cannot be reached, answers
// late or answers nonsense refuses the call (deny by default).
package captcha

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"partnergate/core/fault"
)

// Kinds of captcha.
const (
	None      = "none"
	ReCaptcha = "recaptcha"
	Turnstile = "turnstile"
	GeeTest   = "geetest"
)

// The endpoints Barong guards, by its own names.
const (
	UserCreate        = "user_create"
	SessionCreate     = "session_create"
	PasswordReset     = "password_reset"
	EmailConfirmation = "email_confirmation"
)

// DefaultEndpoints are the endpoints guarded unless configured otherwise:
// Barong's defaults.
var DefaultEndpoints = []string{UserCreate, SessionCreate, PasswordReset, EmailConfirmation}

// Default verify URLs; GeeTest's is the API base its register.php and
// validate.php live under.
const (
	ReCaptchaURL = "https://www.google.com/recaptcha/api/siteverify"
	TurnstileURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	GeeTestURL   = "https://api.geetest.com"
)

// DefaultTimeout bounds one verify call.
const DefaultTimeout = 5 * time.Second

// MaxResponse bounds the captcha answer a caller sends.
const MaxResponse = 4096

// maxBody bounds what is read of a verifier's answer.
const maxBody = 64 << 10

// Config is the captcha settings.
type Config struct {
	Kind string
	// Secret is the reCAPTCHA or Turnstile secret key, or GeeTest's
	// private key.
	Secret string
	// SiteKey is the public key a client's widget uses (GeeTest's captcha
	// id, its "gt"); identity.configs reports it.
	SiteKey string
	// VerifyURL replaces the kind's default URL (a proxy, a test server).
	VerifyURL string
	Timeout   time.Duration
	// Endpoints are the guarded endpoints; nil means DefaultEndpoints.
	Endpoints []string
}

// Verifier checks captcha answers. The zero of *Verifier (nil) checks
// nothing, as kind none does.
type Verifier struct {
	cfg    Config
	client *http.Client
}

// New checks cfg and returns its verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Kind == "" {
		cfg.Kind = None
	}
	switch cfg.Kind {
	case None:
	case ReCaptcha, Turnstile, GeeTest:
		if cfg.Secret == "" {
			return nil, fmt.Errorf("captcha: %s needs a secret", cfg.Kind)
		}
		if cfg.Kind == GeeTest && cfg.SiteKey == "" {
			return nil, errors.New("captcha: geetest needs its captcha id as the site key")
		}
	default:
		return nil, fmt.Errorf("captcha: unknown kind %q (none, recaptcha, turnstile or geetest)", cfg.Kind)
	}
	if cfg.VerifyURL == "" {
		cfg.VerifyURL = map[string]string{ReCaptcha: ReCaptchaURL, Turnstile: TurnstileURL, GeeTest: GeeTestURL}[cfg.Kind]
	}
	if cfg.Kind != None {
		u, err := url.Parse(cfg.VerifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("captcha: the verify URL must be an http(s) URL")
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Endpoints == nil {
		cfg.Endpoints = DefaultEndpoints
	}
	for _, e := range cfg.Endpoints {
		if !slices.Contains(DefaultEndpoints, e) {
			return nil, fmt.Errorf("captcha: unknown endpoint %q (%s)", e, strings.Join(DefaultEndpoints, ", "))
		}
	}
	return &Verifier{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}}, nil
}

// Kind is the configured kind; none for a nil verifier.
func (v *Verifier) Kind() string {
	if v == nil {
		return None
	}
	return v.cfg.Kind
}

// SiteKey is the public key clients' widgets use.
func (v *Verifier) SiteKey() string {
	if v == nil {
		return ""
	}
	return v.cfg.SiteKey
}

// Guards reports whether endpoint needs a captcha answer.
func (v *Verifier) Guards(endpoint string) bool {
	return v != nil && v.cfg.Kind != None && slices.Contains(v.cfg.Endpoints, endpoint)
}

// Check verifies a captcha answer for endpoint: nil when the endpoint is
// not guarded or the verifier accepts it. fault.CaptchaRequired when no
// answer (or a GeeTest answer without its three members) was sent,
// fault.CaptchaInvalid when the verifier refuses it, and
// fault.CaptchaUnavailable when the verifier could not say (unreachable,
// too slow, an answer it cannot read): refused, never waved through.
func (v *Verifier) Check(ctx context.Context, endpoint, response, remoteIP string) error {
	if !v.Guards(endpoint) {
		return nil
	}
	if strings.TrimSpace(response) == "" {
		return fault.New(fault.CaptchaRequired)
	}
	if len(response) > MaxResponse {
		return fault.New(fault.CaptchaInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	switch v.cfg.Kind {
	case ReCaptcha, Turnstile:
		return v.siteverify(ctx, response, remoteIP)
	case GeeTest:
		return v.geetestValidate(ctx, response)
	}
	return fault.New(fault.CaptchaUnavailable)
}

func unavailable(err error) error { return fault.Wrap(fault.CaptchaUnavailable, err) }

// post sends a form and decodes the JSON answer into out.
func (v *Verifier) post(ctx context.Context, u string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return unavailable(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req, out)
}

func (v *Verifier) do(req *http.Request, out any) error {
	resp, err := v.client.Do(req)
	if err != nil {
		// The URL may hold a key (GeeTest's gt): keep only the kind of error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return unavailable(fmt.Errorf("captcha: %s verifier: %w", v.cfg.Kind, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return unavailable(fmt.Errorf("captcha: %s verifier answered HTTP %d", v.cfg.Kind, resp.StatusCode))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return unavailable(fmt.Errorf("captcha: %s verifier: unreadable answer: %w", v.cfg.Kind, err))
	}
	return nil
}

// siteverify is reCAPTCHA's and Turnstile's shared protocol: POST secret,
// response and remoteip; the answer's success says.
func (v *Verifier) siteverify(ctx context.Context, response, remoteIP string) error {
	form := url.Values{"secret": {v.cfg.Secret}, "response": {response}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	var out struct {
		Success *bool `json:"success"`
	}
	if err := v.post(ctx, v.cfg.VerifyURL, form, &out); err != nil {
		return err
	}
	if out.Success == nil {
		return unavailable(errors.New("captcha: siteverify answer without success"))
	}
	if !*out.Success {
		return fault.New(fault.CaptchaInvalid)
	}
	return nil
}

// GeeTestAnswer is what a GeeTest widget hands the client, sent as the
// captcha_response string (a JSON object).
type GeeTestAnswer struct {
	Challenge string `json:"geetest_challenge"`
	Validate  string `json:"geetest_validate"`
	Seccode   string `json:"geetest_seccode"`
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// geetestValidate checks a GeeTest v3 answer: its validate must be
// md5(key + "geetest" + challenge), then validate.php must echo
// md5(seccode).
func (v *Verifier) geetestValidate(ctx context.Context, response string) error {
	var a GeeTestAnswer
	dec := json.NewDecoder(strings.NewReader(response))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil || a.Challenge == "" || a.Validate == "" || a.Seccode == "" {
		return fault.Field(fault.CaptchaRequired, "captcha_response", "geetest_challenge, geetest_validate and geetest_seccode")
	}
	want := md5hex(v.cfg.Secret + "geetest" + a.Challenge)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(a.Validate)), []byte(want)) != 1 {
		return fault.New(fault.CaptchaInvalid)
	}
	var out struct {
		Seccode string `json:"seccode"`
	}
	form := url.Values{"seccode": {a.Seccode}, "challenge": {a.Challenge}, "captchaid": {v.cfg.SiteKey},
		"json_format": {"1"}, "sdk": {"partnergate"}}
	if err := v.post(ctx, strings.TrimRight(v.cfg.VerifyURL, "/")+"/validate.php", form, &out); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(out.Seccode), []byte(md5hex(a.Seccode))) != 1 {
		return fault.New(fault.CaptchaInvalid)
	}
	return nil
}

// GeeTestChallenge is what register_geetest serves a client's widget.
type GeeTestChallenge struct {
	Success    int    `json:"success"`
	GT         string `json:"gt"`
	Challenge  string `json:"challenge"`
	NewCaptcha bool   `json:"new_captcha"`
}

// Register asks GeeTest for a challenge (register.php) and returns it
// signed with the private key, as the v3 server SDK does. GeeTest's
// offline fallback, whose answers are checked locally only, is not
// offered: when GeeTest is unreachable the call is
// fault.CaptchaUnavailable. fault.NotFound when the kind is not geetest.
func (v *Verifier) Register(ctx context.Context, remoteIP string) (GeeTestChallenge, error) {
	if v.Kind() != GeeTest {
		return GeeTestChallenge{}, fault.Errorf(fault.NotFound, "GeeTest captcha is not configured.")
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	q := url.Values{"gt": {v.cfg.SiteKey}, "json_format": {"1"}, "digestmod": {"md5"}, "client_type": {"web"}}
	if remoteIP != "" {
		q.Set("ip_address", remoteIP)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(v.cfg.VerifyURL, "/")+"/register.php?"+q.Encode(), nil)
	if err != nil {
		return GeeTestChallenge{}, unavailable(err)
	}
	var out struct {
		Challenge string `json:"challenge"`
	}
	if err := v.do(req, &out); err != nil {
		return GeeTestChallenge{}, err
	}
	if len(out.Challenge) != 32 {
		return GeeTestChallenge{}, unavailable(errors.New("captcha: geetest register gave no challenge"))
	}
	return GeeTestChallenge{Success: 1, GT: v.cfg.SiteKey, Challenge: md5hex(out.Challenge + v.cfg.Secret), NewCaptcha: true}, nil
}
