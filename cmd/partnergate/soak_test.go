package main

// The soak (make soak): the real binary on PostgreSQL and Redis, a mixed
// workload (registrations, logins right and wrong, session checks,
// settings, batches, bad input) first as fast as it goes to measure
// capacity, then paced at half of it for PARTNERGATE_SOAK_DURATION (default
// 5m). It reports calls, outcomes by code, p50/p99 by kind, and the
// gateway's RSS and goroutines sampled over the run; it fails on any
// -32603, any unanswered call, or RSS or goroutines that keep growing.
// `make test` skips it unless PARTNERGATE_SOAK=1.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/rpc"
)

// soakOp is one kind of work; run makes one call (or one batch) and
// returns its outcome codes.
type soakOp struct {
	name   string
	weight int
	run    func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int
}

// soakWorld is the state the operations share: verified users with a
// session each, a partner key, a pool of client addresses.
type soakWorld struct {
	anon    apiCaller
	partner apiCaller
	users   []soakUser
	ips     []string
	seq     atomic.Int64
}

type soakUser struct {
	email, token string
}

func (w *soakWorld) client(rnd *rand.Rand) apiCaller {
	return w.anon.withXFF(w.ips[rnd.IntN(len(w.ips))])
}
func (w *soakWorld) user(rnd *rand.Rand) soakUser { return w.users[rnd.IntN(len(w.users))] }

func codesOf(rs ...gwReply) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.code()
	}
	return out
}

var soakOps = []soakOp{
	{"register", 10, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		email := fmt.Sprintf("soak-%d-%d@example.com", time.Now().UnixNano(), w.seq.Add(1))
		if rnd.IntN(2) == 0 {
			return codesOf(w.partner.call(ctx, "auth.registerUser", map[string]string{"email": email, "password": strongPassword}))
		}
		return codesOf(w.client(rnd).call(ctx, "user.auth.registration", map[string]string{"email": email, "password": strongPassword, "name": "Soak"}))
	}},
	{"login", 20, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		u := w.user(rnd)
		if rnd.IntN(2) == 0 {
			return codesOf(w.partner.call(ctx, "auth.getUserByEmailAndPassword", map[string]string{"email": u.email, "password": strongPassword}))
		}
		return codesOf(w.client(rnd).call(ctx, "user.auth.login", map[string]string{"login": u.email, "password": strongPassword}))
	}},
	{"login wrong", 5, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		// Unknown users, so the real users never back off.
		return codesOf(w.client(rnd).call(ctx, "user.auth.login", map[string]string{
			"login": fmt.Sprintf("ghost-%d@example.com", rnd.IntN(1_000_000)), "password": "not the password"}))
	}},
	{"session check", 25, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		return codesOf(w.client(rnd).withToken(w.user(rnd).token).call(ctx, "user.auth.check", nil))
	}},
	{"settings", 15, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		c := w.client(rnd).withToken(w.user(rnd).token)
		if rnd.IntN(2) == 0 {
			return codesOf(c.call(ctx, "user.settings.get", nil))
		}
		return codesOf(c.call(ctx, "user.settings.set", map[string]any{"first_name": fmt.Sprintf("Soak%d", rnd.IntN(1000)), "news": rnd.IntN(2) == 0}))
	}},
	{"batch", 10, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		rs, err := w.client(rnd).withToken(w.user(rnd).token).batch(ctx,
			rpcBody("system.ping", 1, nil), rpcBody("user.auth.check", 2, nil),
			rpcBody("user.settings.get", 3, nil), rpcBody("user.products.get", 4, nil))
		if err != nil {
			return []int{-1}
		}
		return codesOf(rs...)
	}},
	{"bad input", 15, func(ctx context.Context, w *soakWorld, rnd *rand.Rand) []int {
		c := w.client(rnd)
		switch rnd.IntN(6) {
		case 0:
			return codesOf(c.rpc(ctx, []byte(`{"jsonrpc":"2.0","method":"user.auth.login","params":{"login":`)))
		case 1:
			return codesOf(c.call(ctx, "user.auth.login", map[string]any{"login": "a@example.com", "password": "x", "role": "admin"}))
		case 2:
			return codesOf(c.call(ctx, "user.auth.registration", map[string]string{"email": strings.Repeat("a", 300)}))
		case 3:
			return codesOf(c.call(ctx, "no.such.method", nil))
		case 4:
			return codesOf(c.withToken("pgs_"+strings.Repeat("A", 43)).call(ctx, "user.auth.check", nil))
		default:
			return codesOf(c.rpc(ctx, []byte("{\"jsonrpc\":\"2.0\",\"method\":\"user.auth.login\",\"params\":{\"login\":\"\xff\",\"password\":\"x\"},\"id\":1}")))
		}
	}},
}

// soakStats collects outcomes and latencies.
type soakStats struct {
	mu    sync.Mutex
	calls int
	codes map[int]int
	lat   map[string][]time.Duration
}

func newSoakStats() *soakStats {
	return &soakStats{codes: map[int]int{}, lat: map[string][]time.Duration{}}
}

func (s *soakStats) add(op string, d time.Duration, codes []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls += len(codes)
	for _, c := range codes {
		s.codes[c]++
	}
	s.lat[op] = append(s.lat[op], d)
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func pickOp(rnd *rand.Rand) soakOp {
	total := 0
	for _, o := range soakOps {
		total += o.weight
	}
	n := rnd.IntN(total)
	for _, o := range soakOps {
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	return soakOps[0]
}

// gatewayVitals reads the process's resident memory and the gateway's
// goroutine count.
func gatewayVitals(t *testing.T, pid int, url string) (rss int64, goroutines int) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				rss = kb << 10
			}
		}
		f.Close()
	}
	resp, err := testHTTP.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			goroutines, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return rss, goroutines
}

func TestSoak(t *testing.T) {
	if os.Getenv("PARTNERGATE_SOAK") != "1" {
		t.Skip("the soak runs with PARTNERGATE_SOAK=1 (make soak)")
	}
	pgURL, redisURL := os.Getenv("PARTNERGATE_TEST_DATABASE_URL"), os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if pgURL == "" || redisURL == "" {
		t.Fatal("the soak needs PARTNERGATE_TEST_DATABASE_URL and PARTNERGATE_TEST_REDIS_URL (make soak starts them)")
	}
	duration := 5 * time.Minute
	if v := os.Getenv("PARTNERGATE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PARTNERGATE_SOAK_DURATION: %v", err)
		}
		duration = d
	}
	// Production settings but for one: clients arrive through a trusted
	// proxy with addresses of their own, as real traffic would.
	env := []string{
		"PARTNERGATE_ADDR=127.0.0.1:0", "PARTNERGATE_DATA_DIR=" + t.TempDir(), "PARTNERGATE_DEV=true",
		"DATABASE_URL=" + testkit.FreshDatabase(t, pgURL), "REDIS_URL=" + redisURL, "PARTNERGATE_SECRET_KEY=" + testKey(),
		"PARTNERGATE_TRUSTED_PROXIES=127.0.0.1/32",
	}
	proc := startBinary(t, env)
	ctx := context.Background()
	cli := newPartnerKey(t, env)
	w := &soakWorld{anon: apiCaller{base: proc.url}, partner: apiCaller{base: proc.url, kid: cli.KID, secret: cli.Secret}}
	for i := 0; i < 256; i++ {
		w.ips = append(w.ips, fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250))
	}
	// Verified users with a session each, through the seed 000 flow.
	for i := 0; i < 40; i++ {
		email := fmt.Sprintf("soak-user-%d-%s@example.com", i, uniq())
		c := w.anon.withXFF(w.ips[i])
		r := c.call(ctx, "user.auth.registration", map[string]string{"email": email, "password": strongPassword})
		var id string
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &id) != nil {
			t.Fatalf("registration: %v", r)
		}
		code := soakCode(t, w.anon, email)
		r = c.call(ctx, "user.auth.verify", map[string]string{"user_id": id, "email_code": code})
		var u struct{ Session struct{ Token string } }
		if r.code() != 0 || json.Unmarshal(r.Env.Data, &u) != nil {
			t.Fatalf("verify: %v", r)
		}
		w.users = append(w.users, soakUser{email, u.Session.Token})
	}

	pid := proc.cmd.Process.Pid
	workers := 8 * runtime.NumCPU()

	// Capacity: closed loop, every worker as fast as it can, for 20 s
	// after 5 s of warm-up.
	measure := func(d time.Duration, st *soakStats) {
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(seed, 7))
				for time.Now().Before(stop) {
					op := pickOp(rnd)
					start := time.Now()
					codes := op.run(ctx, w, rnd)
					if st != nil {
						st.add(op.name, time.Since(start), codes)
					}
				}
			}(uint64(i))
		}
		wg.Wait()
	}
	measure(5*time.Second, nil)
	capStats := newSoakStats()
	measure(20*time.Second, capStats)
	opsPerSec := 0.0
	for _, l := range capStats.lat {
		opsPerSec += float64(len(l))
	}
	opsPerSec /= 20
	target := opsPerSec / 2
	t.Logf("capacity: %.0f operations/s with %d clients (%d calls, p99 %s); soak at %.0f/s for %s",
		opsPerSec, workers, capStats.calls, pct(flatten(capStats.lat), 0.99), target, duration)

	// The soak: open loop, one operation every 1/target, on a pool of
	// workers; an operation that finds every worker busy waits its turn
	// and counts as late.
	st := newSoakStats()
	type job struct {
		op soakOp
		at time.Time // when it was due: latency counts any wait for a worker
	}
	jobs := make(chan job, 1024)
	var late atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < workers*2; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, 11))
			for j := range jobs {
				codes := j.op.run(ctx, w, rnd)
				st.add(j.op.name, time.Since(j.at), codes)
			}
		}(uint64(100 + i))
	}
	type vital struct {
		at         time.Duration
		rss        int64
		goroutines int
	}
	var vitals []vital
	sampleEvery := max(duration/30, time.Second)
	rnd := rand.New(rand.NewPCG(1, 2))
	began := time.Now()
	next := began
	nextSample := began
	interval := time.Duration(float64(time.Second) / target)
	for time.Since(began) < duration {
		if now := time.Now(); !now.Before(nextSample) {
			rss, g := gatewayVitals(t, pid, proc.url)
			vitals = append(vitals, vital{now.Sub(began), rss, g})
			nextSample = nextSample.Add(sampleEvery)
		}
		j := job{pickOp(rnd), next}
		select {
		case jobs <- j:
		default:
			late.Add(1)
			jobs <- j
		}
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
	close(jobs)
	wg.Wait()
	rss, g := gatewayVitals(t, pid, proc.url)
	vitals = append(vitals, vital{time.Since(began), rss, g})

	// The report.
	var b strings.Builder
	fmt.Fprintf(&b, "\n== soak: %s at %.0f operations/s (half of %.0f), %d clients\n", duration, target, opsPerSec, workers*2)
	fmt.Fprintf(&b, "calls %d (%.0f/s), operations behind schedule %d\n", st.calls, float64(st.calls)/duration.Seconds(), late.Load())
	codes := make([]int, 0, len(st.codes))
	for c := range st.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	fmt.Fprintf(&b, "outcomes by code:")
	for _, c := range codes {
		name := "ok"
		switch {
		case c == -1:
			name = "no answer"
		case c < 0:
			name = "json-rpc"
		case c > 0:
			name = fault.Code(c).Message()
		}
		fmt.Fprintf(&b, " %d (%s) %d;", c, name, st.codes[c])
	}
	fmt.Fprintf(&b, "\nlatency p50 / p99 by kind:\n")
	names := make([]string, 0, len(st.lat))
	for n := range st.lat {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-14s %6d  %8s / %8s\n", n, len(st.lat[n]), pct(st.lat[n], 0.5).Round(10*time.Microsecond), pct(st.lat[n], 0.99).Round(10*time.Microsecond))
	}
	all := flatten(st.lat)
	fmt.Fprintf(&b, "  %-14s %6d  %8s / %8s\n", "all", len(all), pct(all, 0.5).Round(10*time.Microsecond), pct(all, 0.99).Round(10*time.Microsecond))
	fmt.Fprintf(&b, "gateway RSS and goroutines:")
	for _, v := range vitals {
		fmt.Fprintf(&b, " %s %.1f MiB/%d;", v.at.Round(time.Second), float64(v.rss)/(1<<20), v.goroutines)
	}
	t.Log(b.String())

	if st.codes[rpc.CodeInternal] > 0 || st.codes[-1] > 0 {
		t.Errorf("%d internal errors (-32603) and %d unanswered calls", st.codes[rpc.CodeInternal], st.codes[-1])
	}
	// Flat: the last third of the samples against the first third after
	// warm-up. A leak grows with the calls; a heap that breathes does not.
	third := max(len(vitals)/3, 1)
	median := func(vs []vital, f func(vital) float64) float64 {
		xs := make([]float64, len(vs))
		for i, v := range vs {
			xs[i] = f(v)
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	head, tail := vitals[:third], vitals[len(vitals)-third:]
	rss0, rss1 := median(head, func(v vital) float64 { return float64(v.rss) }), median(tail, func(v vital) float64 { return float64(v.rss) })
	g0, g1 := median(head, func(v vital) float64 { return float64(v.goroutines) }), median(tail, func(v vital) float64 { return float64(v.goroutines) })
	t.Logf("start → end: RSS %.1f → %.1f MiB, goroutines %.0f → %.0f", rss0/(1<<20), rss1/(1<<20), g0, g1)
	if rss1 > rss0*1.25+32<<20 {
		t.Errorf("RSS grew from %.1f to %.1f MiB", rss0/(1<<20), rss1/(1<<20))
	}
	if g1 > g0*1.25+20 {
		t.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	_ = proc.cmd.Process.Signal(syscall.SIGTERM)
	<-proc.done
}

func flatten(m map[string][]time.Duration) []time.Duration {
	var out []time.Duration
	for _, ds := range m {
		out = append(out, ds...)
	}
	return out
}

// newPartnerKey creates a key with the CLI, as an operator would.
func newPartnerKey(t *testing.T, env []string) struct{ KID, Secret string } {
	t.Helper()
	var key struct{ KID, Secret string }
	code, out, errOut := runCLI(envMap(env), "partners", "create", "--name", "soak", "--scopes", "*")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &key) != nil {
		t.Fatalf("partners create: %d %s %s", code, out, errOut)
	}
	return key
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// soakCode reads the newest code sent to an address from the dev outbox.
func soakCode(t *testing.T, c apiCaller, to string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		r := c.call(context.Background(), "dev.outbox.list", map[string]string{"to": to})
		var res struct{ Messages []struct{ Body string } }
		if r.code() == 0 && json.Unmarshal(r.Env.Data, &res) == nil && len(res.Messages) > 0 {
			if code := sixDigits.FindString(res.Messages[0].Body); code != "" {
				return code
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no code for %s", to)
	return ""
}
