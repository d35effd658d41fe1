package main

// Faults (SECURITY.md 21, 22): a dependency dies under traffic, or the
// gateway is told to stop in the middle of a burst. The tests start and stop
// their own redis-server and PostgreSQL (on free ports, in temporary
// directories), so killing them disturbs nothing else. Without the binaries
// they skip with a message, and fail under CI=true.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/rpc"
	"partnergate/store"
	"partnergate/store/sqlstore"
	"partnergate/store/usercache"
)

// needService skips (or fails under CI=true) when a service binary is
// missing.
func needService(t *testing.T, what string, found bool) {
	t.Helper()
	if found {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: fault tests cannot run (CI=true)", what)
	}
	t.Skipf("%s not found: fault test SKIPPED", what)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisServer is a redis-server of the test's own, persisting every write
// (appendfsync always) so a restart brings back what was acknowledged, as a
// production Redis with AOF does.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	needService(t, "redis-server", err == nil)
	r := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for !r.ping() {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server on port %d does not answer:\n%s", r.port, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping speaks RESP directly, so the check needs no client library state.
func (r *redisServer) ping() bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// kill stops the server abruptly (SIGKILL), as a crash or an OOM kill would.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// pgServer is a PostgreSQL cluster of the test's own.
type pgServer struct {
	t    *testing.T
	bin  string
	root string
	port int
}

func pgBinDir() string {
	cands := []string{os.Getenv("PARTNERGATE_PG_BIN"), "/usr/lib/postgresql/15/bin"}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			cands = append(cands, filepath.Dir(real))
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	cands = append(cands, matches...)
	for _, d := range cands {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

// asPostgres runs a PostgreSQL tool, as the postgres OS user when we are
// root (initdb and postgres refuse to run as root).
func (p *pgServer) asPostgres(name string, args ...string) *exec.Cmd {
	tool := filepath.Join(p.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", tool}, args...)...)
	}
	return exec.Command(tool, args...)
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBinDir()
	needService(t, "PostgreSQL (initdb, pg_ctl)", bin != "")
	if os.Geteuid() == 0 {
		_, err := user.Lookup("postgres")
		_, rerr := exec.LookPath("runuser")
		needService(t, "the postgres OS user and runuser (running as root)", err == nil && rerr == nil)
	}
	// t.TempDir's parents are private to root; the cluster's directory must
	// be reachable by the postgres user.
	root, err := os.MkdirTemp("", "partnergate-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &pgServer{t: t, bin: bin, root: root, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, _ := user.Lookup("postgres")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.asPostgres("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start()
	t.Cleanup(func() { p.stop("immediate") })
	return p
}

func (p *pgServer) data() string { return filepath.Join(p.root, "data") }

func (p *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", p.port)
}

func (p *pgServer) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", p.port, p.root)
	if out, err := p.asPostgres("pg_ctl", "start", "-D", p.data(), "-l", filepath.Join(p.root, "log"), "-w", "-t", "30", "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.root, "log"))
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop stops the server; "immediate" is a crash for the clients: every
// connection is cut without a goodbye.
func (p *pgServer) stop(mode string) {
	_ = p.asPostgres("pg_ctl", "stop", "-D", p.data(), "-m", mode, "-w", "-t", "30").Run()
}

// probe is one kind of call a traffic worker keeps making.
type probe struct {
	name string
	call func(ctx context.Context, i int) gwReply
}

// sample is one call's outcome and when it ran.
type sample struct {
	probe      string
	start, end time.Time
	r          gwReply
}

// traffic runs each probe in a loop (a few calls per second each) until
// stop, recording every call.
type traffic struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	wg      sync.WaitGroup
}

func runTraffic(probes ...probe) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	for _, p := range probes {
		tr.wg.Add(1)
		go func(p probe) {
			defer tr.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				start := time.Now()
				r := p.call(context.Background(), i)
				tr.mu.Lock()
				tr.samples = append(tr.samples, sample{probe: p.name, start: start, end: time.Now(), r: r})
				tr.mu.Unlock()
				time.Sleep(25 * time.Millisecond)
			}
		}(p)
	}
	return tr
}

func (tr *traffic) finish() []sample {
	close(tr.stop)
	tr.wg.Wait()
	return tr.samples
}

// within returns the samples of probe that started at or after from and
// ended before to.
func within(ss []sample, probe string, from, to time.Time) []sample {
	var out []sample
	for _, s := range ss {
		if s.probe == probe && !s.start.Before(from) && s.end.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// waitFor polls cond every 50 ms for up to d and returns how long it took.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func readyz(g *testkit.Gateway) (int, string) {
	resp, err := testHTTP.Get(g.URL + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

// checkOutage holds the invariants of every fault test: no internal error
// and no missing answer anywhere; during the outage the calls that need the
// dead store answer 1004 quickly and never succeed, and the others succeed.
func checkOutage(t *testing.T, ss []sample, down, up time.Time, needs, independent []string) {
	t.Helper()
	for _, s := range ss {
		if c := s.r.code(); c == rpc.CodeInternal || c == -1 || s.r.Status >= 500 {
			t.Errorf("%s at %s: %v", s.probe, s.start.Format("15:04:05.000"), s.r)
		}
	}
	for _, p := range needs {
		during := within(ss, p, down, up)
		if len(during) == 0 {
			t.Fatalf("no %s call ran during the outage", p)
		}
		var slowest time.Duration
		for _, s := range during {
			if s.r.code() != int(fault.Unavailable) {
				t.Errorf("%s during the outage: want 1004, got %v", p, s.r)
			} else if s.r.Env.Error.Message != fault.Unavailable.Message() {
				t.Errorf("%s: unclear message %q", p, s.r.Env.Error.Message)
			}
			slowest = max(slowest, s.end.Sub(s.start))
		}
		// Fail fast: an outage must not turn every call into a hang.
		if slowest > 5*time.Second {
			t.Errorf("%s during the outage took up to %s", p, slowest)
		}
		t.Logf("%s during the outage: %d calls, all 1004, slowest %s", p, len(during), slowest.Round(time.Millisecond))
	}
	for _, p := range independent {
		for _, s := range within(ss, p, down, up) {
			if s.r.code() != 0 {
				t.Errorf("%s does not need the store but failed during the outage: %v", p, s.r)
			}
		}
	}
}

// TestRedisOutage: redis-server is killed under traffic. Logins, session
// checks and partner calls fail closed with 1004 and a clear message, fast;
// no login is checked without its failure being counted; what needs no
// Redis keeps working; /readyz names Redis; and once Redis is back (with
// its AOF) the gateway serves again by itself within seconds, sessions
// included.
func TestRedisOutage(t *testing.T) {
	rs := startRedis(t)
	g := mustRunMain(t, trustLoopback, looseRates, map[string]string{"REDIS_URL": rs.url()})
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	_, tok := newVerifiedUser(t, g, "redis-u@example.com", strongPassword)
	p := anon.withPartner(g.Partner(t, "auth"))
	victim := registerPartner(t, p, "redis-victim@example.com")
	ipGood, ipBad := testIP(), testIP()

	probes := []probe{
		{"login", func(ctx context.Context, _ int) gwReply {
			return anon.withXFF(ipGood).call(ctx, "user.auth.login", map[string]string{"login": "redis-u@example.com", "password": strongPassword})
		}},
		{"wrong password", func(ctx context.Context, i int) gwReply {
			return anon.withXFF(ipBad).call(ctx, "user.auth.login", map[string]string{"login": "redis-victim@example.com", "password": fmt.Sprintf("guess %d", i)})
		}},
		{"session check", func(ctx context.Context, _ int) gwReply { return anon.withToken(tok).call(ctx, "user.auth.check", nil) }},
		{"partner call", func(ctx context.Context, _ int) gwReply {
			return p.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": "redis-u@example.com", "password": strongPassword})
		}},
		{"ping", func(ctx context.Context, _ int) gwReply { return anon.call(ctx, "system.ping", nil) }},
	}
	tr := runTraffic(probes...)
	time.Sleep(time.Second)

	rs.kill()
	down := time.Now()
	time.Sleep(4 * time.Second)
	if st, body := readyz(g); st != http.StatusServiceUnavailable || !strings.Contains(body, "redis") {
		t.Errorf("/readyz with Redis down: %d %s", st, body)
	}
	up := time.Now()
	rs.start()
	back := waitFor(t, 10*time.Second, "a login after Redis came back", func() bool {
		return probes[0].call(ctx, 0).code() == 0
	})
	t.Logf("Redis answered again; the gateway served a login %s later", back.Round(time.Millisecond))
	time.Sleep(time.Second)
	ss := tr.finish()

	checkOutage(t, ss, down, up, []string{"login", "wrong password", "partner call"}, []string{"ping"})
	// A session check reads the session from the process's copy
	// (store/usercache Sessions), filled at most LocalTTL before: while it
	// lives it may still answer (with Redis down nothing can end the
	// session), once it has expired every check fails closed.
	expired := down.Add(usercache.LocalTTL + 500*time.Millisecond)
	var lateFailures int
	for _, s := range within(ss, "session check", down, up) {
		switch c := s.r.code(); {
		case c == int(fault.Unavailable):
			if s.start.After(expired) {
				lateFailures++
			}
		case c == 0 && s.start.Before(expired):
		default:
			t.Errorf("session check %s after Redis was killed: %v", s.start.Sub(down).Round(time.Millisecond), s.r)
		}
	}
	if lateFailures == 0 {
		t.Error("no session check failed closed once the session copy expired")
	}
	// After the return, everything works, the session from before included.
	for _, p := range []string{"login", "session check", "partner call", "ping"} {
		after := within(ss, p, time.Now().Add(-500*time.Millisecond), time.Now())
		if len(after) == 0 || after[len(after)-1].r.code() != 0 {
			t.Errorf("%s after Redis came back: %v", p, after)
		}
	}
	if st, body := readyz(g); st != http.StatusOK {
		t.Errorf("/readyz after: %d %s", st, body)
	}
	// Every wrong-password answer is in the victim's counter: no password
	// was checked while the counter could not be written.
	wrong := 0
	for _, s := range ss {
		if s.probe == "wrong password" && s.r.code() == int(fault.WrongCredentials) {
			wrong++
		}
	}
	f, err := g.Accounts().KV.Failures(ctx, "u:"+victim)
	if err != nil || f.Count < int64(wrong) || wrong == 0 {
		t.Fatalf("victim's counter %d (%v), wrong-password answers %d", f.Count, err, wrong)
	}
}

// TestPostgresOutage: PostgreSQL is stopped (immediate: every connection
// cut) under traffic and started again. Logins, session checks,
// registrations and partner calls fail closed with 1004; what needs no
// database keeps working; every registration acknowledged before, during
// or after is in the database; and the gateway serves again by itself
// within seconds of PostgreSQL's return.
func TestPostgresOutage(t *testing.T) {
	pg := startPostgres(t)
	g := mustRunMain(t, trustLoopback, looseRates, map[string]string{"DATABASE_URL": pg.url(), "PARTNERGATE_SECRET_KEY": testKey()})
	ctx := context.Background()
	anon := apiCaller{base: g.URL}
	_, tok := newVerifiedUser(t, g, "pg-u@example.com", strongPassword)
	p := anon.withPartner(g.Partner(t, "auth"))
	ip := testIP()
	run := uniq()

	var ackMu sync.Mutex
	var acked []string
	probes := []probe{
		{"login", func(ctx context.Context, _ int) gwReply {
			return anon.withXFF(ip).call(ctx, "user.auth.login", map[string]string{"login": "pg-u@example.com", "password": strongPassword})
		}},
		{"session check", func(ctx context.Context, _ int) gwReply { return anon.withToken(tok).call(ctx, "user.auth.check", nil) }},
		{"settings", func(ctx context.Context, _ int) gwReply {
			return anon.withToken(tok).call(ctx, "user.settings.get", nil)
		}},
		{"registration", func(ctx context.Context, i int) gwReply {
			email := fmt.Sprintf("pg-reg-%s-%d@example.com", run, i)
			r := p.call(ctx, "auth.registerUser", map[string]string{"email": email, "password": strongPassword})
			if r.code() == 0 {
				ackMu.Lock()
				acked = append(acked, email)
				ackMu.Unlock()
			}
			return r
		}},
		{"ping", func(ctx context.Context, _ int) gwReply { return anon.call(ctx, "system.ping", nil) }},
	}
	tr := runTraffic(probes...)
	time.Sleep(time.Second)

	pg.stop("immediate")
	down := time.Now()
	// Longer than the partner key cache (5 s), so partner calls meet the
	// dead database too.
	time.Sleep(6 * time.Second)
	if st, body := readyz(g); st != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("/readyz with PostgreSQL down: %d %s", st, body)
	}
	up := time.Now()
	pg.start()
	back := waitFor(t, 10*time.Second, "a login after PostgreSQL came back", func() bool {
		return probes[0].call(ctx, 0).code() == 0
	})
	t.Logf("PostgreSQL answered again; the gateway served a login %s later", back.Round(time.Millisecond))
	time.Sleep(time.Second)
	ss := tr.finish()

	checkOutage(t, ss, down, up, []string{"login", "settings", "registration"}, []string{"ping"})
	// A session check reads the user from its Redis copy (store/usercache):
	// while the copy lives it may still answer (nothing can change the user
	// while the database is down), once it expires it fails closed like the
	// rest.
	expired := down.Add(usercache.DefaultTTL + 500*time.Millisecond)
	var lateFailures int
	for _, s := range within(ss, "session check", down, up) {
		switch c := s.r.code(); {
		case c == int(fault.Unavailable):
			if s.start.After(expired) {
				lateFailures++
			}
		case c == 0 && s.start.Before(expired):
		default:
			t.Errorf("session check %s after PostgreSQL stopped: %v", s.start.Sub(down).Round(time.Millisecond), s.r)
		}
	}
	if lateFailures == 0 {
		t.Error("no session check failed closed once the cached user expired")
	}
	for _, p := range []string{"login", "session check", "settings", "registration", "ping"} {
		after := within(ss, p, time.Now().Add(-500*time.Millisecond), time.Now())
		if len(after) == 0 || after[len(after)-1].r.code() != 0 {
			t.Errorf("%s after PostgreSQL came back: %v", p, after)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no registration acknowledged")
	}
	for _, email := range acked {
		if _, err := g.Store().UserByIdentifier(ctx, store.KindEmail, email); err != nil {
			t.Fatalf("acknowledged registration %s lost: %v", email, err)
		}
	}
	t.Logf("%d acknowledged registrations all in the database", len(acked))
}

// TestSIGTERMMidBurst: the real binary on PostgreSQL and Redis gets SIGTERM
// while 12 clients register users as fast as they can through both seed
// namespaces. It exits 0; every call in flight either completes or gets an
// error (none hangs, none answers -32603); and every registration
// acknowledged as a success is in the database after a restart. (TestBinary
// does the same on the embedded stores.)
func TestSIGTERMMidBurst(t *testing.T) {
	pgURL, redisURL := os.Getenv("PARTNERGATE_TEST_DATABASE_URL"), os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	needService(t, "PARTNERGATE_TEST_DATABASE_URL and PARTNERGATE_TEST_REDIS_URL", pgURL != "" && redisURL != "")
	env := []string{
		"PARTNERGATE_ADDR=127.0.0.1:0", "PARTNERGATE_DATA_DIR=" + t.TempDir(),
		"DATABASE_URL=" + testkit.FreshDatabase(t, pgURL), "REDIS_URL=" + redisURL, "PARTNERGATE_SECRET_KEY=" + testKey(),
		"PARTNERGATE_ARGON2_MEMORY=256", "PARTNERGATE_ARGON2_ITERATIONS=1", "PARTNERGATE_HASH_WAIT=5s",
		"PARTNERGATE_TRUSTED_PROXIES=127.0.0.1/32", "PARTNERGATE_DEV=", "PARTNERGATE_RATES=" + looseRates["PARTNERGATE_RATES"],
	}
	proc := startBinary(t, env)
	cli := exec.Command(buildBinary(t), "partners", "create", "--name", "sigterm", "--scopes", "auth")
	cli.Env = append(os.Environ(), env...)
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("partners create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var key struct{ KID, Secret string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &key); err != nil {
		t.Fatal(err)
	}
	anon := apiCaller{base: proc.url}.withXFF(testIP())
	partner := anon
	partner.kid, partner.secret = key.KID, key.Secret

	type result struct {
		email string
		r     gwReply
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	var sigterm time.Time
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				email := fmt.Sprintf("term-%d-%d@example.com", w, i)
				var r gwReply
				if w%2 == 0 {
					r = partner.call(context.Background(), "auth.registerUser", map[string]string{"email": email, "password": strongPassword})
				} else {
					r = anon.call(context.Background(), "user.auth.registration", map[string]string{"email": email, "password": strongPassword})
				}
				mu.Lock()
				results = append(results, result{email, r})
				mu.Unlock()
				if r.Err != nil {
					return // the server is gone
				}
			}
		}(w)
	}
	time.Sleep(time.Second)
	sigterm = time.Now()
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-proc.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, proc.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	exited := time.Since(sigterm)
	clientsDone := make(chan struct{})
	go func() { wg.Wait(); close(clientsDone) }()
	select {
	case <-clientsDone:
	case <-time.After(30 * time.Second):
		t.Fatal("a call in flight at SIGTERM never returned")
	}
	// Exit status 0 is the proof (serve returns nil only after a graceful
	// shutdown); the log line may still be in the pipe, or lost when Wait
	// closed it, so it is only reported.
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(proc.logs.String(), `"stopped"`) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(proc.logs.String(), `"stopped"`) {
		t.Log("exit 0, but the \"stopped\" line did not reach the test")
	}

	var acked []string
	errs := map[string]int{}
	for _, res := range results {
		switch c := res.r.code(); {
		case c == 0:
			acked = append(acked, res.email)
		case c == -1:
			errs["no answer (connection refused or closed)"]++
		case c == rpc.CodeInternal || res.r.Status >= 500:
			t.Errorf("%s: %v", res.email, res.r)
		default:
			errs[fmt.Sprint(c)]++
		}
	}
	if len(acked) == 0 {
		t.Fatal("no registration acknowledged")
	}

	st, err := sqlstore.Open(context.Background(), envValue(env, "DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	proc2 := startBinary(t, env)
	c2 := apiCaller{base: proc2.url}
	c2.kid, c2.secret = key.KID, key.Secret
	for _, email := range acked {
		if _, err := st.UserByIdentifier(context.Background(), store.KindEmail, email); err != nil {
			t.Fatalf("acknowledged %s is not in the database: %v", email, err)
		}
	}
	// And the restarted gateway serves them.
	for _, email := range acked[:min(len(acked), 20)] {
		r := c2.call(context.Background(), "auth.getUserByEmailAndPassword", map[string]string{"email": email, "password": strongPassword})
		if c := r.code(); c != 0 && c != int(fault.EmailNotVerified) {
			t.Fatalf("%s after restart: %v", email, r)
		}
	}
	t.Logf("SIGTERM → exit 0 in %s; %d calls: %d acknowledged (all in the database), refused %v",
		exited.Round(time.Millisecond), len(results), len(acked), errs)
	_ = proc2.cmd.Process.Signal(syscall.SIGTERM)
	<-proc2.done
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
