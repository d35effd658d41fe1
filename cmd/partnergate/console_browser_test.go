package main

import (
	"context"
	"encoding/json"
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
	"partnergate/internal/testkit"
	"partnergate/rpc/console"
	"partnergate/store"
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
	// Notices that would cover the page go first.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.getElementById('status')?.replaceChildren(), null`)); err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
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
	sh.take(ctx, "signed-in")

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

// consoleSignIn signs in through the page with email, password and a
// fresh TOTP code, and waits for the overview.
func consoleSignIn(t *testing.T, ctx context.Context, base, email string, app authenticator) {
	t.Helper()
	crun(t, ctx, "open the console", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#signin-title`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), strongPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name=otp_code]`), app.fresh()),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)))
	waitText(t, ctx, `#who`, email)
}

// goTo follows a console link by its hash and waits for the page's heading.
func goTo(t *testing.T, ctx context.Context, hash, heading string) {
	t.Helper()
	eval[any](t, ctx, `location.hash = `+jsString(hash)+`, null`)
	waitText(t, ctx, `main h1`, heading)
	if m := a11y(t, ctx); len(m) > 0 {
		t.Errorf("%s: unlabelled controls %v", hash, m)
	}
}

// confirm accepts the open confirmation dialog.
func confirm(t *testing.T, ctx context.Context) {
	t.Helper()
	crun(t, ctx, "confirm", chromedp.WaitVisible(chromedp.CSS(`dialog[open] button[data-confirm=yes]`)),
		chromedp.Click(chromedp.CSS(`dialog[open] button[data-confirm=yes]`)))
}

func TestConsoleBrowserAdmin(t *testing.T) {
	ctx := browser(t)
	clk := &otpClock{t: time.Now()}
	g := withOTPClock(t, clk, nil)
	bg := context.Background()
	rootID, rootTok := g.RegisterUser(t, "root@example.com", strongPassword)
	if err := g.Store().SetUserRole(bg, rootID, "superadmin"); err != nil {
		t.Fatal(err)
	}
	app, _, _ := enrolOTP(t, g, clk, rootTok)
	annID, annTok := g.RegisterUser(t, "ann@example.com", strongPassword)
	// Enough users for a second page of 25.
	const others = 26
	for i := range others {
		g.RegisterUser(t, fmt.Sprintf("user%02d@example.com", i), strongPassword)
	}
	sh := newShots(t)
	consoleSignIn(t, ctx, g.URL, "root@example.com", app)
	waitText(t, ctx, `#nav`, "Restrictions")
	sh.take(ctx, "overview")

	t.Run("users and keyset paging", func(t *testing.T) {
		goTo(t, ctx, "#/users", "Users")
		waitText(t, ctx, `main .pager`, "25 shown")
		sh.take(ctx, "users")
		crun(t, ctx, "older", chromedp.Click(chromedp.CSS(`main .pager button:nth-of-type(2)`)))
		// 26 others, ann and root: 28 users, 3 on the second page.
		waitText(t, ctx, `main .pager`, "3 shown")
		if older := eval[bool](t, ctx, `document.querySelector('main .pager button:nth-of-type(2)').disabled`); !older {
			t.Error("Older enabled on the last page")
		}
		// Bad input: the method's error next to the field.
		crun(t, ctx, "bad email filter", chromedp.SendKeys(chromedp.CSS(`main form input[name=email]`), "not-an-email"),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		waitText(t, ctx, `main form .field-error[data-for="email"]`, "an email address")
		waitText(t, ctx, `main form .form-error`, "code 3001")
		sh.take(ctx, "users-error")
		eval[any](t, ctx, `document.querySelector('main form input[name=email]').value = '', null`)
		crun(t, ctx, "find ann", chromedp.SendKeys(chromedp.CSS(`main form input[name=email]`), "ann@example.com"),
			chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
		waitText(t, ctx, `main .pager`, "1 shown")
		waitText(t, ctx, `main table tbody`, "ann@example.com")
		crun(t, ctx, "open ann", chromedp.Click(chromedp.CSS(`main table tbody a`)))
		waitText(t, ctx, `main h1`, "ann@example.com")
	})

	t.Run("ban ends the user's sessions", func(t *testing.T) {
		if e := g.CallAs(t, g.Client().WithToken(annTok), "user.auth.check", nil); e.Error.Status {
			t.Fatalf("ann's session before the ban: %+v", e.Error)
		}
		sh.take(ctx, "user")
		crun(t, ctx, "ban", chromedp.Click(chromedp.CSS(`#ban`)))
		sh.take(ctx, "user-confirm")
		confirm(t, ctx)
		waitText(t, ctx, `#user-result`, "state=banned")
		waitText(t, ctx, `#user-result .audit`, "Audited")
		waitText(t, ctx, `#ban`, "Unban")
		sh.take(ctx, "user-banned")
		if e := g.CallAs(t, g.Client().WithToken(annTok), "user.auth.check", nil); e.Error.Code != int(fault.SessionInvalid) {
			t.Fatalf("ann's session after the ban: %+v", e.Error)
		}
		// Unbanned again: the state shows on the page.
		crun(t, ctx, "unban", chromedp.Click(chromedp.CSS(`#ban`)))
		confirm(t, ctx)
		waitText(t, ctx, `#user-result`, "state=active")
		waitText(t, ctx, `#ban`, "Ban")
	})

	t.Run("labels", func(t *testing.T) {
		crun(t, ctx, "bad label", chromedp.SendKeys(chromedp.CSS(`#label-form input[name=key]`), "Bad Key!"),
			chromedp.SendKeys(chromedp.CSS(`#label-form input[name=value]`), "verified"),
			chromedp.Click(chromedp.CSS(`#label-form button[type=submit]`)))
		confirm(t, ctx)
		waitText(t, ctx, `#label-form .form-error`, "code 3001")
		if got := textOf(t, ctx, `#label-form .field-error[data-for="key"]`); got == "" {
			t.Error("no error under the key")
		}
		sh.take(ctx, "user-label-error")
		eval[any](t, ctx, `document.querySelector('#label-form input[name=key]').value = '', null`)
		crun(t, ctx, "label", chromedp.SendKeys(chromedp.CSS(`#label-form input[name=key]`), "kyc_review"),
			chromedp.Click(chromedp.CSS(`#label-form button[type=submit]`)))
		confirm(t, ctx)
		waitText(t, ctx, `#user-result`, "admin.users.labels.create done")
		waitText(t, ctx, `main table`, "kyc_review")
		crun(t, ctx, "delete label", chromedp.Click(chromedp.CSS(`button[aria-label^="Delete label kyc_review"]`)))
		confirm(t, ctx)
		waitText(t, ctx, `#user-result`, "admin.users.labels.delete done")
		waitText(t, ctx, `main`, "Labels: none.")
	})

	t.Run("role change", func(t *testing.T) {
		setRole := func(role string) {
			eval[any](t, ctx, `document.querySelector('#role-form input[name=role]').value = '', null`)
			crun(t, ctx, "role "+role, chromedp.SendKeys(chromedp.CSS(`#role-form input[name=role]`), role),
				chromedp.Click(chromedp.CSS(`#role-form button[type=submit]`)))
			confirm(t, ctx)
		}
		setRole("wizard")
		waitText(t, ctx, `#role-form .field-error[data-for="role"]`, "admin.permission.role_doesnt_exist")
		waitText(t, ctx, `#role-form .form-error`, "code "+strconv.Itoa(int(fault.RoleUnknown)))
		setRole("support")
		waitText(t, ctx, `#user-result`, "role=support")
		waitText(t, ctx, `#user-result .audit`, "Audited")
		u, err := g.Store().UserByID(bg, annID)
		if err != nil || u.Role != "support" {
			t.Fatalf("role not stored: %q %v", u.Role, err)
		}
	})

	t.Run("profile verified in one click", func(t *testing.T) {
		// A profile waiting for review, as a user's submission leaves it.
		var u struct {
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(g.CallAs(t, g.Client().WithToken(rootTok), "admin.users.get", map[string]string{"uid": annUID(t, g, rootTok)}).Data, &u); err != nil {
			t.Fatal(err)
		}
		if _, _, err := g.Store().PutKYCProfile(bg, annID, true, func(p store.Profile, k store.KYCProfile) (store.Profile, store.KYCProfile, error) {
			p.FirstName, p.LastName = "Ann", "Lee"
			k.State, k.Country, k.City = "submitted", "NL", "Utrecht"
			return p, k, nil
		}); err != nil {
			t.Fatalf("submit profile: %v", err)
		}
		goTo(t, ctx, "#/profiles", "Profiles")
		waitText(t, ctx, `main table tbody`, "submitted")
		sh.take(ctx, "profiles")
		crun(t, ctx, "verify", chromedp.Click(chromedp.CSS(`button[data-verify="`+u.UID+`"]`)))
		confirm(t, ctx)
		waitText(t, ctx, `#profiles-result`, "admin.profiles.update done")
		waitText(t, ctx, `main table tbody`, "verified")
		sh.take(ctx, "profiles-verified")
	})

	t.Run("restriction with a field error, then created", func(t *testing.T) {
		goTo(t, ctx, "#/restrictions", "Restrictions")
		crun(t, ctx, "bad restriction",
			chromedp.SetValue(chromedp.CSS(`#restrictions-form select[name=category]`), "blacklist"),
			chromedp.SetValue(chromedp.CSS(`#restrictions-form select[name=scope]`), "ip"),
			chromedp.SendKeys(chromedp.CSS(`#restrictions-form input[name=value]`), "not-an-ip"),
			chromedp.Click(chromedp.CSS(`#restrictions-form button[type=submit]`)))
		waitText(t, ctx, `#restrictions-form .field-error[data-for="value"]`, "an IPv4 or IPv6 address")
		waitText(t, ctx, `#restrictions-form .form-error`, "code "+strconv.Itoa(int(fault.RestrictionInvalid)))
		sh.take(ctx, "restrictions-error")
		eval[any](t, ctx, `document.querySelector('#restrictions-form input[name=value]').value = '', null`)
		crun(t, ctx, "good restriction",
			chromedp.SendKeys(chromedp.CSS(`#restrictions-form input[name=value]`), "192.0.2.7"),
			chromedp.Click(chromedp.CSS(`#restrictions-form button[type=submit]`)))
		waitText(t, ctx, `[data-result="restrictions"]`, "admin.restrictions.create done")
		waitText(t, ctx, `main table tbody`, "192.0.2.7")
		sh.take(ctx, "restrictions")
		rs, err := g.Store().Restrictions(bg)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rs {
			found = found || (r.Value == "192.0.2.7" && r.Category == "blacklist" && r.Scope == "ip")
		}
		if !found {
			t.Fatalf("restriction not stored: %+v", rs)
		}
	})

	t.Run("permission field error", func(t *testing.T) {
		goTo(t, ctx, "#/permissions", "Permissions")
		crun(t, ctx, "bad permission",
			chromedp.SendKeys(chromedp.CSS(`#permissions-form input[name=role]`), "member"),
			chromedp.SetValue(chromedp.CSS(`#permissions-form select[name=verb]`), "GET"),
			chromedp.SendKeys(chromedp.CSS(`#permissions-form input[name=path]`), "/admin/users"),
			chromedp.Click(chromedp.CSS(`#permissions-form button[type=submit]`)))
		// No action chosen: the params' own "required" names it.
		waitText(t, ctx, `#permissions-form .field-error[data-for="action"]`, "required")
		sh.take(ctx, "permissions")
	})

	t.Run("metrics chart", func(t *testing.T) {
		goTo(t, ctx, "#/metrics/24h", "Metrics")
		waitText(t, ctx, `main nav a[aria-current="page"]`, "24 hours")
		// Read the chart: the signups series counts every user made above.
		want := strconv.Itoa(others + 2)
		waitText(t, ctx, `svg[data-series="signups"] > title`, "signups: "+want+" in all")
		bars := eval[int](t, ctx, `document.querySelectorAll('svg[data-series="signups"] rect').length`)
		if bars < 24 || bars > 25 {
			t.Errorf("24 h chart has %d hourly bars", bars)
		}
		sum := eval[int](t, ctx, `[...document.querySelectorAll('svg[data-series="signups"] rect')].reduce((s, r) => s + Number(r.dataset.value), 0)`)
		if strconv.Itoa(sum) != want {
			t.Errorf("bars sum to %d, want %s", sum, want)
		}
		sh.take(ctx, "metrics")
		goTo(t, ctx, "#/metrics/30d", "Metrics")
		waitText(t, ctx, `main nav a[aria-current="page"]`, "30 days")
		waitText(t, ctx, `svg[data-series="signups"] > title`, "signups: "+want+" in all")
		if bars := eval[int](t, ctx, `document.querySelectorAll('svg[data-series="signups"] rect').length`); bars < 30 || bars > 31 {
			t.Errorf("30 d chart has %d daily bars", bars)
		}
	})
}

// annUID is ann's Barong uid, found by email through admin.users.list.
func annUID(t *testing.T, g *testkit.Gateway, tok string) string {
	t.Helper()
	var l struct {
		Users []struct {
			UID string `json:"uid"`
		} `json:"users"`
	}
	e := g.CallAs(t, g.Client().WithToken(tok), "admin.users.list", map[string]string{"email": "ann@example.com"})
	if err := json.Unmarshal(e.Data, &l); err != nil || len(l.Users) != 1 {
		t.Fatalf("find ann: %s %v", e.Data, err)
	}
	return l.Users[0].UID
}
