package main

// Abuse (SECURITY.md 3, 5-10, 17-19): what an attacker sends on purpose.
// The log canary runs every flow, failures included, and then searches the
// log (and the stores) for every secret the test used; the timing test
// compares unknown users with wrong passwords; the rest throws forbidden
// fields, oversized and malformed input, brute force and forged client
// addresses at a real gateway over HTTP.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"partnergate/core/fault"
	"partnergate/core/partners"
	"partnergate/core/password"
	"partnergate/rpc"
	"partnergate/store"

	"partnergate/cmd/partnergate/gateway"
	"partnergate/internal/testkit"
)

// noBackoff lifts the login throttles (for tests whose subject is not the
// throttle).
func noBackoff(m *gateway.Main) {
	m.Accounts().Throttle.FreeFailures = 1 << 40
	m.Accounts().Throttle.IPFreeFailures = 1 << 40
	m.Accounts().Throttle.HourlyAttempts = 1 << 40
}

// processCPU is the CPU time the whole test process has used: the
// gateway runs in-process, so a call's cost is the difference around it.
// Unlike wall time it does not grow while other processes hold the CPU.
func processCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// TestLoginTiming: an unknown user and a wrong password cost the same
// (SECURITY.md 6): the unknown user is verified against a dummy hash with
// the live parameters. 200 tries of each kind run interleaved in pairs, and
// the median of the pairs' cost ratios must be within 5 % of 1. Cost is the
// process's CPU time around each call, not wall time, so machine load
// (other tests, other tenants) cannot fake or hide a difference; the round
// is still repeated up to 3 times on noise, while a missing dummy verify (an
// unknown user costing a fraction of a known one) fails every round.
// argon2id runs with m=6144 KiB, t=1 to keep the test short: the code path
// is the production one, only cheaper. The known user's path reads one row
// more than the unknown one's; on Postgres that work is mostly outside the
// process, and beside even this cheap hash it stays near 2 % (under -race).
func TestLoginTiming(t *testing.T) {
	bs := testkit.Backends(t)
	b := bs[len(bs)-1]
	if b.Name == "embedded" {
		// In-process SQLite (slowed further under -race) makes the known
		// user's one extra row read weigh several per cent of a cheap hash;
		// the comparison is made on the production store.
		t.Skip("TestLoginTiming needs PostgreSQL and Redis (PARTNERGATE_TEST_DATABASE_URL, PARTNERGATE_TEST_REDIS_URL): SKIPPED")
	}
	const mem = "6144"
	g := mustRunMainWith(t, noBackoff, b.Env, looseRates, map[string]string{
		"PARTNERGATE_ARGON2_MEMORY": mem, "PARTNERGATE_ARGON2_ITERATIONS": "1", "PARTNERGATE_HASH_WAIT": "60s",
	})
	ctx := context.Background()
	registerPartner(t, apiCaller{base: g.URL}.withPartner(g.Partner(t, "auth")), "timing@example.com")
	h := g.Handler()
	try := func(email string) (cpu, wall time.Duration) {
		c := &rpc.Caller{Kind: rpc.CallerPartner, PartnerKID: "pk_timing", Scopes: []string{"auth"}, IP: "127.0.0.1", RequestID: "timing"}
		params, _ := json.Marshal(map[string]string{"email": email, "password": "not the password at all"})
		c0, w0 := processCPU(), time.Now()
		env, perr := h.Call(ctx, c, "auth.getUserByEmailAndPassword", params)
		cpu, wall = processCPU()-c0, time.Since(w0)
		if perr != nil || env.Error.Code != int(fault.WrongCredentials) {
			t.Fatalf("%s: %+v %+v", email, env, perr)
		}
		return cpu, wall
	}
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	// argon2id allocates its whole memory cost per call, and a collection
	// charged to whichever call it lands in is noise larger than the
	// difference looked for: the collector runs only between pairs.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// Unknown logins of this run's own: their counters live in a shared Redis.
	run := uniq()
	for i := 0; i < 10; i++ { // warm up both paths
		try("timing@example.com")
		try("nobody-" + run + "@example.com")
	}
	const n, rounds, tolerance = 200, 3, 0.05
	for round := 1; round <= rounds; round++ {
		ratios := make([]float64, n)
		var knownCPU, unknownCPU, knownWall, unknownWall []float64
		for i := 0; i < n; i++ {
			// Alternate which kind goes first, so drift hits both alike.
			if i%4 == 0 {
				runtime.GC()
			}
			var kc, kw, uc, uw time.Duration
			ghost := fmt.Sprintf("nobody-%d-%s@example.com", i%7, run)
			if i%2 == 0 {
				kc, kw = try("timing@example.com")
				uc, uw = try(ghost)
			} else {
				uc, uw = try(ghost)
				kc, kw = try("timing@example.com")
			}
			ratios[i] = float64(kc) / float64(max(uc, time.Microsecond))
			knownCPU, unknownCPU = append(knownCPU, float64(kc)), append(unknownCPU, float64(uc))
			knownWall, unknownWall = append(knownWall, float64(kw)), append(unknownWall, float64(uw))
		}
		r := median(ratios)
		t.Logf("round %d: median cost ratio wrong password / unknown user %.3f (CPU medians %s / %s, wall medians %s / %s)", round, r,
			time.Duration(median(knownCPU)), time.Duration(median(unknownCPU)), time.Duration(median(knownWall)), time.Duration(median(unknownWall)))
		if r >= 1-tolerance && r <= 1+tolerance {
			return
		}
	}
	t.Fatalf("unknown user and wrong password differ by more than %.0f%% in each of %d rounds", 100*tolerance, rounds)
}

// canaries collects every secret a test hands the gateway or gets back.
type canaries struct {
	plain []string // passwords, tokens, secrets, signatures, headers, body markers
	codes []string // six-digit codes: matched as whole numbers only
	// logOnly are request values that may be stored (a push device id is
	// data the user hands over) but never logged.
	logOnly []string
}

func (c *canaries) add(v ...string) {
	for _, s := range v {
		if s != "" {
			c.plain = append(c.plain, s)
		}
	}
}

func (c *canaries) code(v ...string) {
	for _, s := range v {
		if len(s) == 6 {
			c.codes = append(c.codes, s)
		}
	}
}

// find returns every canary found in text.
func (c *canaries) find(text string) []string {
	var hits []string
	for _, s := range append(c.plain, c.logOnly...) {
		if strings.Contains(text, s) {
			hits = append(hits, s)
		}
	}
	for _, code := range c.codes {
		// A code must stand alone: not a part of a longer number, an id
		// or a duration's fraction.
		if regexp.MustCompile(`(^|[^0-9A-Za-z.])` + code + `($|[^0-9A-Za-z])`).MatchString(text) {
			hits = append(hits, code)
		}
	}
	return hits
}

func secretText(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// wrongCode is a well-formed code that is not code.
func wrongCode(code string) string {
	for {
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if w := fmt.Sprintf("%06d", n.Int64()); w != code {
			return w
		}
	}
}

func mustCode(t *testing.T, r gwReply, want int, what string) {
	t.Helper()
	if r.code() != want {
		t.Fatalf("%s: want %d, got %v", what, want, r)
	}
}

// backedOff checks that r was throttled by a backoff of window that began
// no earlier than since. Only if the machine was so slow that the backoff
// may have run out before r was served does it log that the check proved
// nothing, rather than fail; it then returns false.
func backedOff(t *testing.T, r gwReply, since time.Time, window time.Duration, what string) bool {
	t.Helper()
	if r.code() == int(fault.Throttled) && r.Env.Error.RetryAfter >= 1 {
		return true
	}
	if took := time.Since(since); took >= window {
		t.Logf("%s: not throttled, but %s passed since the backoff began (window %s): the machine is too slow for this check", what, took.Round(time.Millisecond), window)
		return false
	}
	t.Fatalf("%s: want 1003 with retryAfter, got %v", what, r)
	return false
}

// TestLogCanary (SECURITY.md 19): every flow served today, successes and
// failures, with secrets made for this run; then the log is searched for
// every password, code, token, secret, signature, Authorization value and
// request body marker the test used: zero hits. The same search runs over
// the SQLite file and every Redis key and value (nothing secret is stored
// in clear; codes are left out of the database search, where six random
// digits can occur in binary pages by chance). Last, every key the flows
// left in Redis must have a TTL (SECURITY.md 23).
func TestLogCanary(t *testing.T) {
	g := mustRunMain(t, looseRates, trustLoopback, map[string]string{"PARTNERGATE_LOG_LEVEL": "debug"})
	ctx := context.Background()
	var cn canaries
	anon := apiCaller{base: g.URL}.withXFF(testIP())
	p := g.Partner(t, "auth")
	cn.add(p.Secret)
	partner := anon.withPartner(p)

	// Seed 001: register, log in, wrong password, refused passwords.
	pw1, e1 := secretText("Canary-pw1-"), "canary-one@example.com"
	cn.add(pw1, pw1+"x", "qwertyuiop12", "Sh0rt!")
	mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": e1, "password": pw1, "firstName": "Cana", "lastName": "Ry"}), 0, "registerUser")
	mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": e1, "password": pw1}), 0, "getUser")
	mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": e1, "password": pw1 + "x"}), int(fault.WrongCredentials), "wrong password")
	mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": "weak@example.com", "password": "qwertyuiop12"}), int(fault.PasswordWeak), "weak password")
	mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": "short@example.com", "password": "Sh0rt!"}), int(fault.PasswordTooShort), "short password")
	mustCode(t, partner.callPath(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": e1, "password": pw1}), 0, "path style")

	// Refused signatures: a wrong secret, and the signature it made.
	wrongSecret := secretText("pks_Canary")
	cn.add(wrongSecret)
	{
		body := rpcBody("system.ping", 1, nil)
		ts := fmt.Sprint(time.Now().UnixMilli())
		nonce := newNonce()
		sig := partnersSign(wrongSecret, ts, nonce, p.KID, "/rpc", body)
		cn.add(sig)
		c := anon
		c.header = map[string]string{"X-Api-Key": p.KID, "X-Api-Timestamp": ts, "X-Api-Nonce": nonce, "X-Api-Signature": sig}
		mustCode(t, c.rpc(ctx, body), int(fault.SignatureInvalid), "wrong secret")
	}

	// Seed 000: registration with email, phone and password; wrong and
	// right codes; logins by email and phone; a wrong password.
	pw2, e2, phone := secretText("Canary-pw2-"), "canary-two@example.com", "+442071838999"
	cn.add(pw2, pw2+"!")
	r := anon.call(ctx, "user.auth.registration", map[string]string{"email": e2, "phone": phone, "password": pw2, "name": "Canary"})
	var id string
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
		t.Fatal(r)
	}
	ce, cp := outboxCode(t, g, e2), outboxCode(t, g, phone)
	we := wrongCode(ce)
	cn.code(ce, cp, we)
	mustCode(t, anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": we}), int(fault.CodeInvalid), "wrong code")
	r = anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": ce, "phone_code": cp})
	var u struct{ Session struct{ Token string } }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
		t.Fatal(r)
	}
	tok1 := u.Session.Token
	cn.add(tok1)
	for _, login := range []string{e2, phone} {
		r = anon.call(ctx, "user.auth.login", map[string]string{"login": login, "password": pw2})
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
			t.Fatal(r)
		}
		cn.add(u.Session.Token)
	}
	mustCode(t, anon.call(ctx, "user.auth.login", map[string]string{"login": e2, "password": pw2 + "!"}), int(fault.WrongCredentials), "wrong password")
	user := anon.withToken(tok1)
	mustCode(t, user.call(ctx, "user.auth.check", nil), 0, "check")

	// Refused credentials: a bogus bearer, Basic, another scheme.
	bogus := "pgs_" + base64.RawURLEncoding.EncodeToString([]byte(secretText("bogus-session-token-")))[:43]
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(e2+":"+pw2))
	other := secretText("Token canary-")
	cn.add(bogus, basic, other)
	mustCode(t, anon.withToken(bogus).call(ctx, "system.ping", nil), int(fault.SessionInvalid), "bogus bearer")
	for _, h := range []string{basic, other} {
		c := anon
		c.header = map[string]string{"Authorization": h}
		mustCode(t, c.call(ctx, "system.ping", nil), int(fault.SessionInvalid), "Authorization "+h[:5])
	}

	// Settings: an email change confirmed with its code; a phone change
	// and a resend refused within 90 s.
	e3 := "canary-three@example.com"
	mustCode(t, user.call(ctx, "user.settings.set", map[string]string{"email": e3, "first_name": "Canary"}), 0, "settings.set email")
	c3 := outboxCode(t, g, e3)
	cn.code(c3)
	mustCode(t, user.call(ctx, "user.auth.verify", map[string]string{"code": c3}), 0, "confirm change")
	mustCode(t, user.call(ctx, "user.settings.set", map[string]string{"phone": "+442071838998"}), 0, "settings.set phone")
	cn.code(outboxCode(t, g, "+442071838998"))
	mustCode(t, user.call(ctx, "user.auth.resend", nil), int(fault.Throttled), "resend within 90 s")

	// Recovery: a wrong code, then the right one; a decoy for an unknown
	// login.
	r = anon.call(ctx, "user.auth.recovery", map[string]string{"login": e3})
	var rec struct{ Token string }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
		t.Fatal(r)
	}
	cr := outboxCode(t, g, e3)
	wr := wrongCode(cr)
	cn.add(rec.Token)
	cn.code(cr, wr)
	mustCode(t, anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": wr}), int(fault.CodeInvalid), "wrong recovery code")
	r = anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": cr})
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
		t.Fatal(r)
	}
	cn.add(u.Session.Token)
	r = anon.call(ctx, "user.auth.recovery", map[string]string{"login": "canary-nobody@example.com"})
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
		t.Fatal(r)
	}
	cn.add(rec.Token)

	// A batch carrying passwords, with a bad call inside.
	bodies := [][]byte{
		rpcBody("user.auth.login", 1, map[string]string{"login": e3, "password": pw2}),
		rpcBody("user.auth.login", 2, map[string]string{"login": e3, "password": pw2 + "!"}),
		rpcBody("user.auth.login", 3, map[string]any{"login": e3, "password": pw2, "canaryField": "x"}),
	}
	rs, err := anon.batch(ctx, bodies...)
	if err != nil || len(rs) != 3 || rs[0].code() != 0 || rs[1].code() != int(fault.WrongCredentials) || rs[2].code() != rpc.CodeInvalidParams {
		t.Fatalf("batch: %v %v", rs, err)
	}
	var lu struct{ Session struct{ Token string } }
	_ = json.Unmarshal(rs[0].Env.Data, &lu)
	cn.add(lu.Session.Token)

	// Malformed input carrying markers: unknown fields, too long, not
	// UTF-8, not JSON, an unknown method, a body over the limit.
	marker := secretText("CanaryBody-")
	cn.add(marker)
	mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": e1, "password": pw1, marker: pw1}), rpc.CodeInvalidParams, "unknown field")
	mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": e1, "password": pw1 + strings.Repeat(marker, 80)}), rpc.CodeInvalidParams, "too long")
	mustCode(t, anon.rpc(ctx, []byte(`{"jsonrpc":"2.0","method":"user.auth.login","params":{"login":"`+marker+"\xffþ"+`","password":"`+pw2+`"},"id":1}`)), rpc.CodeInvalidParams, "invalid UTF-8")
	mustCode(t, anon.rpc(ctx, []byte(`{"jsonrpc":"2.0","method":"user.auth.login","params":{"login":"`+marker+`","password":"`+pw2+`"`)), rpc.CodeParse, "not JSON")
	mustCode(t, anon.call(ctx, "canary."+marker, map[string]string{"password": pw2}), rpc.CodeMethodNotFound, "unknown method")
	if status, _, err := anon.post(ctx, "/rpc", []byte(`{"jsonrpc":"2.0","method":"user.auth.login","params":{"login":"`+marker+`","password":"`+strings.Repeat(pw2, 1<<20/len(pw2)+1)+`"},"id":1}`)); err != nil || status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d %v", status, err)
	}

	// User data: products, tracking (a push device id is a body marker),
	// blocking another user, a socket ticket, and a backup: its password and
	// its single-use link are secrets, and the link is used once.
	{
		r := partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": e1, "password": pw1})
		var other struct{ User struct{ ID string } }
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &other) != nil {
			t.Fatal(r)
		}
		pushID := secretText("CanaryPush-")
		backupPw := secretText("Canary-backup-")
		cn.add(backupPw)
		cn.logOnly = append(cn.logOnly, pushID)
		mustCode(t, user.call(ctx, "user.products.activate", map[string]string{"product_id": "webstat"}), 0, "activate")
		mustCode(t, user.call(ctx, "user.products.deactivate", map[string]string{"product_id": "webstat"}), 0, "deactivate")
		mustCode(t, user.call(ctx, "user.tracking.set", map[string]any{"push_device_id": pushID, "screen": []int{1080, 1920}}), 0, "tracking")
		mustCode(t, user.call(ctx, "user.auth.block", map[string]any{"id": other.User.ID, "reason": 2}), 0, "block")
		r = user.call(ctx, "user.auth.websocket", nil)
		var ticket struct{ Ticket string }
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &ticket) != nil || ticket.Ticket == "" {
			t.Fatal(r)
		}
		cn.add(ticket.Ticket)
		mustCode(t, user.call(ctx, "user.data.backup", map[string]string{"password": "short"}), int(fault.Invalid), "short backup password")
		mustCode(t, user.call(ctx, "user.data.backup", map[string]string{"password": backupPw}), 0, "backup")
		link := regexp.MustCompile(`https?://\S+/backup/[A-Za-z0-9_-]+`).FindString(outboxBody(t, g, e3))
		if link == "" {
			t.Fatal("no backup link sent")
		}
		cn.add(link[strings.LastIndex(link, "/")+1:])
		for i, want := range []int{http.StatusOK, http.StatusNotFound} {
			resp, err := testHTTP.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want && !(i == 1 && resp.StatusCode == http.StatusGone) {
				t.Fatalf("backup download %d: HTTP %d", i+1, resp.StatusCode)
			}
		}
	}

	// Two-factor authentication: the secret (in the otpauth URL and the QR
	// code), the codes and the recovery codes never reach the log, the
	// database files or Redis in clear.
	canaryTOTP(t, g, &cn, anon, user, e3, pw2)
	// Seed 002's API keys and the uploads (apikeys_e2e_test.go).
	canaryKeysAndFiles(t, g, &cn)

	// Deletion: a wrong code, then the right one.
	r = user.call(ctx, "user.auth.delete", nil)
	var del struct{ Token string }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &del) != nil {
		t.Fatal(r)
	}
	cd := outboxCode(t, g, e3)
	wd := wrongCode(cd)
	cn.add(del.Token)
	cn.code(cd, wd)
	mustCode(t, user.call(ctx, "user.auth.delete_done", map[string]string{"code": wd}), int(fault.CodeInvalid), "wrong deletion code")
	mustCode(t, user.call(ctx, "user.auth.delete_done", map[string]string{"code": cd}), 0, "deletion")

	logs := g.Logs.String()
	for _, m := range []string{"auth.registerUser", "user.auth.login", "user.auth.recovery_done", "user.auth.delete_done", "user.settings.set", "resource.otp.enable", "resource.otp.verify"} {
		if !strings.Contains(logs, `"method":"`+m+`"`) {
			t.Fatalf("%s was not logged: the search would prove nothing", m)
		}
	}
	if hits := cn.find(logs); len(hits) > 0 {
		t.Errorf("the log holds %d secrets: %q", len(hits), hits)
	}

	// At rest: the database files and Redis.
	var disk bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(g.Config.DataDir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			disk.Write(b)
		}
	}
	if disk.Len() == 0 {
		t.Fatal("no database file read")
	}
	plainOnly := canaries{plain: cn.plain}
	if hits := plainOnly.find(disk.String()); len(hits) > 0 {
		t.Errorf("the database files hold %d secrets in clear: %q", len(hits), hits)
	}
	if hits := cn.find(redisDump(t, g)); len(hits) > 0 {
		t.Errorf("Redis holds %d secrets in clear: %q", len(hits), hits)
	}
	// SECURITY.md 23: every Redis key the flows left has a TTL.
	keys, err := g.Redis().Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("redis keys: %d %v", len(keys), err)
	}
	for _, k := range keys {
		// go-redis answers -1ns for a key without expiry; -2ns (gone since
		// KEYS) and 0 (expiring this millisecond) are short-lived keys
		// such as the rate limiter's, which is what the check wants.
		if ttl := g.Redis().PTTL(ctx, k).Val(); ttl == -time.Nanosecond {
			t.Errorf("redis key %q has no TTL (%s)", k, ttl)
		}
	}
	t.Logf("searched %d KiB of log, %d KiB of database files and Redis for %d secrets and %d codes",
		len(logs)>>10, disk.Len()>>10, len(cn.plain), len(cn.codes))
}

// outboxBody is the newest message sent to an address.
func outboxBody(t *testing.T, g *testkit.Gateway, to string) string {
	t.Helper()
	r := apiCaller{base: g.URL}.call(context.Background(), "dev.outbox.list", map[string]string{"to": to})
	var res struct{ Messages []struct{ Body string } }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &res) != nil || len(res.Messages) == 0 {
		t.Fatalf("dev.outbox.list %s: %v", to, r)
	}
	return res.Messages[0].Body
}

// redisDump is every key and value in the gateway's Redis, as text.
func redisDump(t *testing.T, g *testkit.Gateway) string {
	t.Helper()
	ctx := context.Background()
	keys, err := g.Redis().Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\n")
		switch g.Redis().Type(ctx, k).Val() {
		case "string":
			b.WriteString(g.Redis().Get(ctx, k).Val())
		case "hash":
			fmt.Fprint(&b, g.Redis().HGetAll(ctx, k).Val())
		case "zset":
			fmt.Fprint(&b, g.Redis().ZRange(ctx, k, 0, -1).Val())
		case "set":
			fmt.Fprint(&b, g.Redis().SMembers(ctx, k).Val())
		case "list":
			fmt.Fprint(&b, g.Redis().LRange(ctx, k, 0, -1).Val())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestMassAssignment (SECURITY.md 17): role, level, state and verification
// cannot be set through settings or registration, in any key case, mixed
// with valid members, or duplicated; a refused call changes nothing.
func TestMassAssignment(t *testing.T) {
	g := mustRunMain(t, looseRates)
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	id, tok := newVerifiedUser(t, g, "mass@example.com", strongPassword)
	user := anon.withToken(tok)
	partner := anon.withPartner(g.Partner(t, "auth"))
	before, err := g.Store().UserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	beforeProfile, err := g.Store().Profile(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	forbidden := []string{
		`{"role":"admin"}`, `{"Role":"admin"}`, `{"ROLE":"admin"}`, `{"rOlE":"admin"}`, `{"level":99}`, `{"Level":99}`,
		`{"state":"active"}`, `{"State":"disabled"}`, `{"status":"admin"}`, `{"verified":true}`, `{"Verified":true}`,
		`{"email_verified":true}`, `{"EMAIL_VERIFIED":true}`, `{"emailVerified":true}`, `{"phone_verified":true}`,
		`{"phoneVerified":true}`, `{"is_admin":true}`, `{"isAdmin":true}`, `{"admin":true}`, `{"permissions":["*"]}`,
		`{"id":"00000000-0000-7000-8000-000000000000"}`, `{"user_id":"x"}`, `{"created":0}`, `{"isDisabled":true}`,
		`{"is_new":false}`, `{"first_name":"Ok","role":"admin"}`, `{"role":"admin","first_name":"Ok"}`,
		`{"first_name":"Ok","First_Name":"Mallory"}`, `{"first_name":"Ok","first_name":"Mallory"}`,
		`{"sex":1,"SEX":2}`, `{"role":"admin","role":"admin"}`, `{"dating.model":{"role":"admin"}}`,
		`{"first_name":["Ok"]}`, `["Ok"]`, `{"ｒｏｌｅ":"admin"}`, `{"role\u0000":"admin"}`,
	}
	for _, p := range forbidden {
		for _, style := range []string{"rpc", "path"} {
			var r gwReply
			if style == "rpc" {
				r = user.call(ctx, "user.settings.set", json.RawMessage(p))
			} else {
				r = user.callPath(ctx, "user.settings.set", json.RawMessage(p))
			}
			want := rpc.CodeInvalidParams
			if style == "path" && p[0] == '[' {
				want = rpc.CodeInvalidRequest // the path style takes an object only
			}
			if r.code() != want {
				t.Errorf("settings.set %s (%s): want %d, got %v", p, style, want, r)
			}
		}
	}
	registrations := []struct{ method, params string }{
		{"user.auth.registration", `{"email":"mass-1@example.com","password":"` + strongPassword + `","role":"admin"}`},
		{"user.auth.registration", `{"email":"mass-2@example.com","password":"` + strongPassword + `","email_verified":true}`},
		{"user.auth.registration", `{"email":"mass-3@example.com","password":"` + strongPassword + `","state":"active"}`},
		{"user.auth.registration", `{"email":"mass-4@example.com","Email":"mass-4b@example.com","password":"` + strongPassword + `"}`},
		{"user.auth.registration", `{"email":"mass-5@example.com","password":"` + strongPassword + `","Verified":true}`},
		{"auth.registerUser", `{"email":"mass-6@example.com","password":"` + strongPassword + `","role":"admin"}`},
		{"auth.registerUser", `{"email":"mass-7@example.com","password":"` + strongPassword + `","emailVerified":true}`},
		{"auth.registerUser", `{"email":"mass-8@example.com","password":"` + strongPassword + `","isDisabled":false}`},
		{"auth.registerUser", `{"email":"mass-9@example.com","password":"` + strongPassword + `","Role":"admin","role":"admin"}`},
		{"auth.registerUser", `{"EMAIL":"mass-10@example.com","password":"` + strongPassword + `"}`},
	}
	for _, reg := range registrations {
		c := anon
		if strings.HasPrefix(reg.method, "auth.") {
			c = partner
		}
		if r := c.call(ctx, reg.method, json.RawMessage(reg.params)); r.code() != rpc.CodeInvalidParams {
			t.Errorf("%s %s: want -32602, got %v", reg.method, reg.params, r)
		}
	}
	for i := 1; i <= 10; i++ {
		if _, err := g.Store().UserByIdentifier(ctx, store.KindEmail, fmt.Sprintf("mass-%d@example.com", i)); err == nil {
			t.Errorf("mass-%d@example.com was registered", i)
		}
	}
	after, err := g.Store().UserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	afterProfile, err := g.Store().Profile(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.Role != before.Role || after.State != before.State || afterProfile != beforeProfile ||
		fmt.Sprint(after.Identifiers) != fmt.Sprint(before.Identifiers) || !after.Updated.Equal(before.Updated) {
		t.Fatalf("user changed:\n before %+v\n after  %+v", before, after)
	}
	// The valid member alone goes through: the refusals above were about
	// the forbidden ones.
	mustCode(t, user.call(ctx, "user.settings.set", map[string]string{"first_name": "Ok"}), 0, "valid settings")
}

// TestInputLimits (SECURITY.md 3, 18): oversized, deeply nested, invalid
// UTF-8 and other malformed input is refused with a clear error; passwords
// are NFKC-normalised at set and at verify and never trimmed.
func TestInputLimits(t *testing.T) {
	g := mustRunMain(t, looseRates)
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	partner := anon.withPartner(g.Partner(t, "auth"))
	login := func(pw string) string {
		return `{"jsonrpc":"2.0","method":"user.auth.login","params":{"login":"a@example.com","password":"` + pw + `"},"id":7}`
	}
	deep := strings.Repeat("[", 33) + strings.Repeat("]", 33)
	cases := []struct {
		name   string
		body   string
		status int
		code   int
		detail string
	}{
		{"body over 1 MiB", login(strings.Repeat("x", 1<<20)), 413, rpc.CodeInvalidRequest, "exceeds 1048576 bytes"},
		{"nesting 33 deep", `{"jsonrpc":"2.0","method":"system.ping","params":{"a":` + deep + `},"id":1}`, 200, rpc.CodeInvalidRequest, "nesting depth"},
		{"batch of 101", "[" + strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"system.ping","id":1},`, 101), ",") + "]", 200, rpc.CodeInvalidRequest, "batch of 101"},
		{"email over 254", `{"jsonrpc":"2.0","method":"user.auth.registration","params":{"email":"` + strings.Repeat("a", 243) + `@example.com"},"id":1}`, 200, rpc.CodeInvalidParams, "longer than 254"},
		{"password over 1024", login(strings.Repeat("p", 1025)), 200, rpc.CodeInvalidParams, "longer than 1024"},
		{"invalid UTF-8 in a value", login("\xff\xfe\xfd"), 200, rpc.CodeInvalidParams, "invalid UTF-8"},
		{"invalid UTF-8 in a key", `{"jsonrpc":"2.0","method":"user.auth.login","params":{"lo\xffgin":"a@example.com","password":"x"},"id":1}`, 200, rpc.CodeInvalidParams, "not valid UTF-8"},
		{"lone surrogate", login(`\ud800abc`), 200, rpc.CodeInvalidParams, "invalid UTF-8"},
		{"NUL", login(`abc\u0000def`), 200, rpc.CodeInvalidParams, "invalid UTF-8"},
		{"trailing data", login("x") + ` {}`, 200, rpc.CodeParse, ""},
		{"member twice", `{"jsonrpc":"2.0","method":"system.ping","method":"system.ping","id":1}`, 200, rpc.CodeInvalidRequest, "appears twice"},
		{"unknown member", `{"jsonrpc":"2.0","method":"system.ping","id":1,"auth":"x"}`, 200, rpc.CodeInvalidRequest, "unknown member"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			if strings.Contains(c.name, "UTF-8") {
				body = []byte(strings.NewReplacer(`\xff`, "\xff", `\xfe`, "\xfe", `\xfd`, "\xfd").Replace(c.body))
			}
			status, reply, err := anon.post(ctx, "/rpc", body)
			var resp struct {
				Error *struct {
					Code int
					Data string
				}
			}
			if err != nil || status != c.status || json.Unmarshal(reply, &resp) != nil || resp.Error == nil ||
				resp.Error.Code != c.code || !strings.Contains(resp.Error.Data, c.detail) {
				t.Fatalf("HTTP %d %s (%v); want HTTP %d, code %d, data with %q", status, reply, err, c.status, c.code, c.detail)
			}
		})
	}

	t.Run("password length is counted in code points after NFKC", func(t *testing.T) {
		long := strings.Repeat("Zq9#", 32) + "x" // 129 code points
		mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": "long@example.com", "password": long}), int(fault.PasswordTooLong), "129 code points")
		ok := strings.Repeat("é", 8) + "-Zq9#-Zq9#" // 18 code points, 26 bytes
		mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": "accents@example.com", "password": ok}), 0, "accented")
	})

	t.Run("normalisation: Å (U+00C5) logs in as A + U+030A, and back", func(t *testing.T) {
		composed := "\u00c5ngstr\u00f6m-\u00c5land-\u00c5rhus-42"
		decomposed := "A\u030angstro\u0308m-A\u030aland-A\u030arhus-42"
		if composed == decomposed || norm(composed) != norm(decomposed) {
			t.Fatal("test strings")
		}
		for i, pair := range [][2]string{{composed, decomposed}, {decomposed, composed}, {"\uff26\uff55\uff4c\uff4c-width-Passphrase-77", "Full-width-Passphrase-77"}} {
			email := fmt.Sprintf("nfkc-%d@example.com", i)
			mustCode(t, partner.call(ctx, "auth.registerUser", map[string]string{"email": email, "password": pair[0]}), 0, "register")
			mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": pair[1]}), 0, "login with the other form")
			mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": pair[0]}), 0, "login with the same form")
			// Never trimmed: surrounding space is part of the password.
			mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": " " + pair[0]}), int(fault.WrongCredentials), "leading space")
			mustCode(t, partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": pair[0] + " "}), int(fault.WrongCredentials), "trailing space")
		}
	})
}

func norm(s string) string { return password.Normalize(s) }

// TestBruteForce (SECURITY.md 5, 8, 10): guessing passwords, codes and
// recovery codes meets the throttles. TOTP is not served yet (seed 002):
// its brute-force test is pending, see docs/security.md.
func TestBruteForce(t *testing.T) {
	g := mustRunMain(t, trustLoopback, looseRates)
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	partner := anon.withPartner(g.Partner(t, "auth"))

	t.Run("login: one counter per account across email, phone and namespaces", func(t *testing.T) {
		c := anon.withXFF(testIP())
		var since time.Time // when the fifth failure was sent
		email, phone := "bf-login@example.com", "+442071838100"
		r := c.call(ctx, "user.auth.registration", map[string]string{"email": email, "phone": phone, "password": strongPassword})
		mustCode(t, r, 0, "registration")
		for i, a := range []struct {
			c      apiCaller
			method string
			params map[string]string
		}{
			{c, "user.auth.login", map[string]string{"login": email, "password": "wrong one 1"}},
			{c, "user.auth.login", map[string]string{"login": phone, "password": "wrong one 2"}},
			{c, "user.auth.login", map[string]string{"login": strings.ToUpper(email), "password": "wrong one 3"}},
			{partner, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": "wrong one 4"}},
			{c, "user.auth.login", map[string]string{"login": phone, "password": "wrong one 5"}},
		} {
			since = time.Now()
			mustCode(t, a.c.call(ctx, a.method, a.params), int(fault.WrongCredentials), fmt.Sprintf("failure %d", i+1))
		}
		for _, try := range []func() gwReply{
			func() gwReply {
				return c.call(ctx, "user.auth.login", map[string]string{"login": email, "password": strongPassword})
			},
			func() gwReply {
				return partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": strongPassword})
			},
			func() gwReply {
				return anon.withXFF(testIP()).call(ctx, "user.auth.login", map[string]string{"login": phone, "password": strongPassword})
			},
		} {
			if !backedOff(t, try(), since, time.Second, "after 5 failures, the right password from anywhere") {
				break
			}
		}

		// Recovery still works while the account is backed off.
		r = c.call(ctx, "user.auth.recovery", map[string]string{"login": email})
		var rec struct{ Token string }
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
			t.Fatal(r)
		}
		// Proving the unverified email drops the unproven phone (SECURITY.md
		// 10), so the recovery logs in.
		mustCode(t, c.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": outboxCode(t, g, email)}), 0, "recovery while backed off")
	})

	t.Run("login: every call in a batch counts", func(t *testing.T) {
		email := "bf-batch@example.com"
		registerPartner(t, partner, email)
		var bodies [][]byte
		for i := 0; i < 8; i++ {
			bodies = append(bodies, rpcBody("user.auth.login", i+1, map[string]string{"login": email, "password": fmt.Sprintf("wrong %d", i)}))
		}
		rs, err := anon.withXFF(testIP()).batch(ctx, bodies...)
		if err != nil || len(rs) != 8 {
			t.Fatal(err)
		}
		var got []int
		for _, r := range rs {
			got = append(got, r.code())
		}
		if fmt.Sprint(got) != "[2001 2001 2001 2001 2001 1003 1003 1003]" {
			t.Fatalf("batch of 8 wrong passwords: %v", got)
		}
	})

	t.Run("login: failures from one IP over many accounts back the IP off", func(t *testing.T) {
		ip := testIP()
		c := anon.withXFF(ip)
		_, _ = newVerifiedUser(t, g, "bf-target@example.com", strongPassword)
		var since time.Time
		for i := 0; i < 20; i++ {
			since = time.Now()
			mustCode(t, c.call(ctx, "user.auth.login", map[string]string{"login": fmt.Sprintf("spray-%d@example.com", i), "password": "Winter2025!"}), int(fault.WrongCredentials), "spray")
		}
		backedOff(t, c.call(ctx, "user.auth.login", map[string]string{"login": "bf-target@example.com", "password": strongPassword}), since, time.Second, "21st attempt from the IP")
		mustCode(t, anon.withXFF(testIP()).call(ctx, "user.auth.login", map[string]string{"login": "bf-target@example.com", "password": strongPassword}), 0, "same account, another IP")
	})

	// Each code flow: five wrong guesses void the code, so the right one
	// no longer works.
	t.Run("registration code", func(t *testing.T) {
		email := "bf-reg@example.com"
		r := anon.call(ctx, "user.auth.registration", map[string]string{"email": email})
		var id string
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
			t.Fatal(r)
		}
		code := outboxCode(t, g, email)
		for i := 0; i < 5; i++ {
			mustCode(t, anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": wrongCode(code)}), int(fault.CodeInvalid), "guess")
		}
		mustCode(t, anon.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": code}), int(fault.CodeInvalid), "the right code after 5 wrong")
	})
	t.Run("recovery code", func(t *testing.T) {
		email := "bf-rec@example.com"
		registerPartner(t, partner, email)
		r := anon.call(ctx, "user.auth.recovery", map[string]string{"login": email})
		var rec struct{ Token string }
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
			t.Fatal(r)
		}
		code := outboxCode(t, g, email)
		for i := 0; i < 5; i++ {
			mustCode(t, anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": wrongCode(code)}), int(fault.CodeInvalid), "guess")
		}
		mustCode(t, anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": code}), int(fault.CodeInvalid), "the right code after 5 wrong")
		// Guessing tokens tells nothing: unknown is "not found", like used.
		mustCode(t, anon.call(ctx, "user.auth.recovery_done", map[string]string{"token": secretText(""), "code": code}), int(fault.NotFound), "unknown token")
	})
	t.Run("email change and deletion codes", func(t *testing.T) {
		id, tok := newVerifiedUser(t, g, "bf-del@example.com", strongPassword)
		u := anon.withToken(tok)
		mustCode(t, u.call(ctx, "user.settings.set", map[string]string{"email": "bf-del-new@example.com"}), 0, "change email")
		code := outboxCode(t, g, "bf-del-new@example.com")
		for i := 0; i < 5; i++ {
			mustCode(t, u.call(ctx, "user.auth.verify", map[string]string{"code": wrongCode(code)}), int(fault.CodeInvalid), "guess")
		}
		mustCode(t, u.call(ctx, "user.auth.verify", map[string]string{"code": code}), int(fault.CodeInvalid), "the right change code after 5 wrong")

		mustCode(t, u.call(ctx, "user.auth.delete", nil), 0, "delete")
		code = outboxCode(t, g, "bf-del@example.com")
		for i := 0; i < 5; i++ {
			mustCode(t, u.call(ctx, "user.auth.delete_done", map[string]string{"code": wrongCode(code)}), int(fault.CodeInvalid), "guess")
		}
		mustCode(t, u.call(ctx, "user.auth.delete_done", map[string]string{"code": code}), int(fault.CodeInvalid), "the right deletion code after 5 wrong")
		if _, err := g.Store().UserByID(ctx, id); err != nil {
			t.Fatalf("the account went: %v", err)
		}
	})
}

// TestCodeRateClass: code checks are rate-limited per caller on top of the
// per-code attempt limit, so guessing across many codes or tokens from one
// client meets 1003 (default rates: 120 a minute, bursts of 30).
func TestCodeRateClass(t *testing.T) {
	g := mustRunMain(t, trustLoopback)
	ctx := context.Background()
	c := apiCaller{base: g.URL}.withXFF(testIP())
	var got []int
	for i := 0; i < 60; i++ {
		r := c.call(ctx, "user.auth.recovery_done", map[string]string{"token": secretText(""), "code": "123456"})
		got = append(got, r.code())
		if r.code() == int(fault.Throttled) && r.Env.Error.RetryAfter < 1 {
			t.Fatalf("no retryAfter: %v", r)
		}
	}
	first := slices.Index(got, int(fault.Throttled))
	if first < 30 || slices.Contains(got[:first], 0) {
		t.Fatalf("outcomes: %v (want 30 or more refusals as not found, then 1003)", got)
	}
	// Another client is not affected.
	mustCode(t, apiCaller{base: g.URL}.withXFF(testIP()).call(ctx, "user.auth.recovery_done", map[string]string{"token": secretText(""), "code": "123456"}), int(fault.NotFound), "another client")
}

// TestForwardedForSpoof (SECURITY.md 7): X-Forwarded-For is believed only
// from a configured trusted proxy. From anyone else the socket address
// counts, so rotating the header does not escape the per-IP throttle.
func TestForwardedForSpoof(t *testing.T) {
	ctx := context.Background()
	failuresOf := func(g *testkit.Gateway, ip string) int64 {
		f, err := g.Accounts().KV.Failures(ctx, "ip:"+ip)
		if err != nil {
			t.Fatal(err)
		}
		return f.Count
	}
	wrong := func(c apiCaller, i int) {
		mustCode(t, c.call(ctx, "user.auth.login", map[string]string{"login": fmt.Sprintf("xff-%d@example.com", i), "password": "guess guess"}), int(fault.WrongCredentials), "wrong login")
	}

	untrusting := mustRunMain(t)
	var spoofed []string
	var since time.Time // when the 20th failure was sent
	for i := 0; i < 21; i++ {
		ip := testIP()
		spoofed = append(spoofed, ip)
		if i < 20 {
			since = time.Now()
			wrong(apiCaller{base: untrusting.URL}.withXFF(ip), i)
		}
	}
	if n := failuresOf(untrusting, "127.0.0.1"); n != 20 {
		t.Fatalf("failures counted against the socket address: %d, want 20", n)
	}
	for _, ip := range spoofed {
		if n := failuresOf(untrusting, ip); n != 0 {
			t.Fatalf("a spoofed address %s was counted", ip)
		}
	}
	// The 21st attempt with yet another forged address is throttled.
	r := apiCaller{base: untrusting.URL}.withXFF(spoofed[20]).call(ctx, "user.auth.login", map[string]string{"login": "xff-21@example.com", "password": "guess guess"})
	backedOff(t, r, since, time.Second, "21st attempt behind a fresh forged header")

	// Positive control: behind a trusted proxy the nearest untrusted hop
	// counts, and earlier (client-supplied) hops do not.
	trusting := mustRunMain(t, trustLoopback)
	client, forged := testIP(), testIP()
	wrong(apiCaller{base: trusting.URL}.withXFF(forged+", "+client), 0)
	if failuresOf(trusting, client) != 1 || failuresOf(trusting, forged) != 0 || failuresOf(trusting, "127.0.0.1") != 0 {
		t.Fatalf("behind a trusted proxy: client %d, forged %d, proxy %d", failuresOf(trusting, client), failuresOf(trusting, forged), failuresOf(trusting, "127.0.0.1"))
	}
}

// partnersSign is partners.Sign, named here so the canary test reads as
// building a request by hand.
var partnersSign = partners.Sign

// TestAuditTrail (SECURITY.md 20): the real binary, in a time zone far from
// UTC, logs an audit event for registration, every code sent and failed,
// verification, session, login, failure and backoff, profile change,
// recovery and deletion, each with its time in UTC, the actor, the target
// user, the client IP, the user agent and the request id the caller saw in
// X-Request-Id.
func TestAuditTrail(t *testing.T) {
	if _, err := os.Stat("/usr/share/zoneinfo/Asia/Tokyo"); err != nil {
		t.Skip("no tzdata: cannot run the binary in another time zone")
	}
	proc := startBinary(t, []string{
		"TZ=Asia/Tokyo", "PARTNERGATE_ADDR=127.0.0.1:0", "PARTNERGATE_DATA_DIR=" + t.TempDir(), "PARTNERGATE_DEV=true",
		"DATABASE_URL=", "REDIS_URL=", "PARTNERGATE_TRUSTED_PROXIES=127.0.0.1/32",
		"PARTNERGATE_ARGON2_MEMORY=256", "PARTNERGATE_ARGON2_ITERATIONS=1",
	})
	ctx := context.Background()
	ip := testIP()
	c := apiCaller{base: proc.url, header: map[string]string{"User-Agent": "audit-test/1.0"}}.withXFF(ip)
	email := "audit@example.com"
	code := func(to string) string {
		return soakCode(t, apiCaller{base: proc.url}, to)
	}

	r := c.call(ctx, "user.auth.registration", map[string]string{"email": email, "password": strongPassword})
	var id string
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
		t.Fatal(r)
	}
	first := code(email)
	mustCode(t, c.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": wrongCode(first)}), int(fault.CodeInvalid), "wrong code")
	r = c.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": first})
	var u struct{ Session struct{ Token string } }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
		t.Fatal(r)
	}
	mustCode(t, c.call(ctx, "user.auth.login", map[string]string{"login": email, "password": strongPassword}), 0, "login")
	var since time.Time
	for i := 0; i < 5; i++ {
		since = time.Now()
		mustCode(t, c.call(ctx, "user.auth.login", map[string]string{"login": email, "password": "wrong"}), int(fault.WrongCredentials), "failure")
	}
	// The request id the caller sees is the one the audit event carries.
	req, _ := http.NewRequest(http.MethodPost, proc.url+"/rpc", bytes.NewReader(rpcBody("user.auth.login", 1, map[string]string{"login": email, "password": strongPassword})))
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("User-Agent", "audit-test/1.0")
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	backoffRID := resp.Header.Get("X-Request-Id")
	// The backoff lasts 1 s from the fifth failure; a machine slower than
	// that cannot show it (TestBruteForce says the same).
	sawBackoff := time.Since(since) < time.Second
	user := c.withToken(u.Session.Token)
	mustCode(t, user.call(ctx, "user.settings.set", map[string]string{"first_name": "Audit"}), 0, "settings")
	r = c.call(ctx, "user.auth.recovery", map[string]string{"login": email})
	var rec struct{ Token string }
	if r.code() != 0 || json.Unmarshal(r.Env.Data, &rec) != nil {
		t.Fatal(r)
	}
	mustCode(t, c.call(ctx, "user.auth.recovery_done", map[string]string{"token": rec.Token, "code": code(email)}), 0, "recovery")
	mustCode(t, user.call(ctx, "user.auth.delete", nil), 0, "delete")
	mustCode(t, user.call(ctx, "user.auth.delete_done", map[string]string{"code": code(email)}), 0, "delete_done")

	type event struct {
		Time, Message, Event, User, Actor, IP, UA, RID string
	}
	// The log arrives through a pipe read by another goroutine: wait for the
	// last event before reading it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(proc.logs.String(), `"event":"user.deleted","user":"`+id+`"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]event{}
	for _, line := range strings.Split(proc.logs.String(), "\n") {
		var e event
		if json.Unmarshal([]byte(line), &e) != nil || e.Message != "audit" {
			continue
		}
		if e.User != id {
			continue
		}
		seen[e.Event] = e
		ts, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil || !strings.HasSuffix(e.Time, "Z") || time.Since(ts) > time.Minute || time.Since(ts) < -time.Minute {
			t.Errorf("%s: time %q is not a current UTC time", e.Event, e.Time)
		}
		if e.IP != ip || e.UA != "audit-test/1.0" || e.RID == "" || e.Actor == "" {
			t.Errorf("%s: ip %q ua %q rid %q actor %q", e.Event, e.IP, e.UA, e.RID, e.Actor)
		}
	}
	wanted := []string{"user.registered", "code.sent", "code.failed", "identifier.verified", "session.created",
		"login.succeeded", "login.failed", "profile.updated", "recovery.started", "recovery.finished",
		"deletion.requested", "user.deleted"}
	if sawBackoff {
		wanted = append(wanted, "login.backoff")
		if e := seen["login.backoff"]; e.RID != backoffRID || backoffRID == "" {
			t.Errorf("login.backoff carries request id %q, the caller saw %q", e.RID, backoffRID)
		}
	} else {
		t.Log("the machine took over 1 s between the fifth failure and the next login: login.backoff not checked")
	}
	for _, want := range wanted {
		if _, ok := seen[want]; !ok {
			t.Errorf("no audit event %s for the user", want)
		}
	}
	if e := seen["profile.updated"]; e.Actor != "user:"+id {
		t.Errorf("profile.updated actor %q, want the user", e.Actor)
	}
	_ = proc.cmd.Process.Signal(syscall.SIGTERM)
	<-proc.done
}
