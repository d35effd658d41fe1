package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"partnergate/core/fault"
	"partnergate/rpc/console"
)

// The console's browser tests drive Debian's chromium, headless, with
// chromedp. Without chromium they skip, except under CI=true, where a
// missing browser fails them (.ci/run installs it).
//
// Screenshots of every page go to the test's artifact directory (go test
// -artifacts -outputdir DIR -run TestConsoleBrowser ./cmd/partnergate keeps
// them) and, when
// PARTNERGATE_CONSOLE_SHOTS names a directory (docs/console from the
// repository root for the docs), there too.

// chromiumPath finds the browser: PARTNERGATE_CHROMIUM, else Debian's.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("PARTNERGATE_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s: CI must install it (apt-get install -y chromium)", p)
		}
		t.Skipf("chromium not found at %s (apt-get install -y chromium, or set PARTNERGATE_CHROMIUM): console browser test SKIPPED", p)
	}
	return p
}

// browser starts a fresh headless chromium for one test and returns a tab's
// context. The deadline only bounds a stuck browser; nothing is timed.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	// Script exceptions and CSP violations in any page fail the test: a
	// console that needs an inline script or style, or breaks, is caught.
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			p = fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, d.Text)
			if d.Exception != nil {
				p += " " + d.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				for _, a := range ev.Args {
					p += " " + strings.Trim(string(a.Value), `"`)
				}
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf), chromedp.WithListener(listen))
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatalf("watch CSP: %v", err)
	}
	// Registered after the browser's cleanup, so it runs first.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("in the page: %s", p)
		}
	})
	return ctx
}

// shots saves full-page screenshots of the console's pages.
type shots struct {
	t    *testing.T
	dirs []string
}

func newShots(t *testing.T) *shots {
	s := &shots{t: t, dirs: []string{t.ArtifactDir()}}
	if d := os.Getenv("PARTNERGATE_CONSOLE_SHOTS"); d != "" {
		if !filepath.IsAbs(d) {
			// go test runs in the package directory; the setting is read
			// from the repository root.
			d = filepath.Join("..", "..", d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		s.dirs = append(s.dirs, d)
	}
	return s
}

func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, d := range s.dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// crun runs actions, failing the test with what it was doing.
func crun(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// textOf is the text of the first node matching sel, once it is visible.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	crun(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitText waits until the node matching sel holds want (a poll of the
// page, not a timer: the browser test's deadline bounds it).
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	js := `(() => { const n = document.querySelector(` + jsString(sel) + `); return !!n && n.textContent.includes(` + jsString(want) + `); })()`
	if ok, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil || !ok {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{textContent:'(no node)'}).textContent`))
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		t.Fatalf("%s never held %q (holds %q): %v\npage: %s", sel, want, got, err, page)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", `$`, `\$`)
	return "`" + r.Replace(s) + "`"
}

// a11y checks the page in the browser: every input, select and textarea
// has a label (a <label for>, aria-label or aria-labelledby), and every
// button a name; it returns what lacks one.
func a11y(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `(() => {
		const out = [];
		for (const n of document.querySelectorAll('input, select, textarea')) {
			if (n.type === 'hidden') continue;
			const named = (n.labels && n.labels.length) || n.getAttribute('aria-label') || n.getAttribute('aria-labelledby');
			if (!named) out.push(n.outerHTML.slice(0, 80));
		}
		for (const b of document.querySelectorAll('button, a[href]')) {
			if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push(b.outerHTML.slice(0, 80));
		}
		return out;
	})()`)
}

// consoleCookie is the console's cookie as the browser holds it.
func consoleCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == console.CookieName {
			return c
		}
	}
	return nil
}

func TestConsoleBrowserSignIn(t *testing.T) {
	ctx := browser(t)
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, nil)
	id, tok := g.RegisterUser(t, "root@example.com", strongPassword)
	if err := g.Store().SetUserRole(context.Background(), id, "admin"); err != nil {
		t.Fatal(err)
	}
	// Admins have 2FA.
	app, _, _ := enrolOTP(t, g, clk, tok)
	sh := newShots(t)

	crun(t, ctx, "open the console", chromedp.Navigate(g.URL+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#signin-title`)))
	if m := a11y(t, ctx); len(m) > 0 {
		t.Errorf("sign-in page: unlabelled controls %v", m)
	}
	sh.take(ctx, "signin")

	// Keyboard only: the first Tab reaches the skip link, the next ones
	// the form's fields in order.
	eval[any](t, ctx, `document.querySelector('.skip').focus(), null`)
	order := []string{eval[string](t, ctx, `document.activeElement.className`)}
	for range 4 {
		crun(t, ctx, "tab", chromedp.KeyEvent("\t"))
		order = append(order, eval[string](t, ctx, `document.activeElement.name || document.activeElement.className || document.activeElement.tagName`))
	}
	if strings.Join(order, ",") != "skip,email,password,otp_code,BUTTON" {
		t.Errorf("tab order %v, want skip link, email, password, otp_code, the button", order)
	}

	// Nothing typed: the method's own error, next to the email field.
	crun(t, ctx, "submit empty", chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `.field-error[data-for="email"]`, "required")
	if got := textOf(t, ctx, `.form-error`); !strings.Contains(got, "-32602") {
		t.Errorf("form error %q lacks the code", got)
	}
	if eval[string](t, ctx, `document.querySelector('input[name=email]').getAttribute('aria-invalid')`) != "true" {
		t.Errorf("email not marked aria-invalid")
	}
	sh.take(ctx, "signin-error")

	// A wrong password: the catalogue's code and message.
	crun(t, ctx, "wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "root@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not the password"),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `.form-error`, "code 2001")
	if consoleCookie(t, ctx) != nil {
		t.Fatal("a cookie after a wrong password")
	}

	// The right password without the code: the method asks for it.
	eval[any](t, ctx, `document.querySelector('input[name=password]').value = '', null`)
	crun(t, ctx, "no code",
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), strongPassword),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `.form-error`, "code "+strconv.Itoa(int(fault.OTPRequired)))
	crun(t, ctx, "a wrong code",
		chromedp.SendKeys(chromedp.CSS(`input[name=otp_code]`), app.wrong()),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `.form-error`, "code "+strconv.Itoa(int(fault.OTPInvalid)))
	if consoleCookie(t, ctx) != nil {
		t.Fatal("a cookie without the right code")
	}
	eval[any](t, ctx, `document.querySelector('input[name=otp_code]').value = '', null`)
	crun(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=otp_code]`), app.fresh()),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `#who`, "root@example.com")
	sh.take(ctx, "overview")

	ck := consoleCookie(t, ctx)
	if ck == nil || !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict || ck.Path != console.Prefix {
		t.Fatalf("console cookie %+v", ck)
	}
	if strings.Contains(eval[string](t, ctx, `document.cookie`), ck.Value) {
		t.Fatal("the page's script can read the session token")
	}
	if e := g.CallAs(t, g.Client().WithToken(ck.Value), "user.auth.check", nil); e.Error.Status {
		t.Fatalf("the console's session: %+v", e.Error)
	}

	// A reload keeps the session (the CSRF token is asked for again).
	crun(t, ctx, "reload", chromedp.Reload())
	waitText(t, ctx, `#who`, "root@example.com")

	crun(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#signin-title`)))
	if consoleCookie(t, ctx) != nil {
		t.Error("the cookie outlived sign-out")
	}
	if e := g.CallAs(t, g.Client().WithToken(ck.Value), "user.auth.check", nil); e.Error.Code != int(fault.SessionInvalid) {
		t.Fatalf("session after sign-out: %+v", e.Error)
	}
}
