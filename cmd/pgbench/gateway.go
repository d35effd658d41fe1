package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"partnergate/client"
	"partnergate/core/partners"
	"partnergate/methods/auth/authwire"
	"partnergate/methods/dev/devwire"
	"partnergate/methods/user/userwire"
)

// benchPassword passes the password policy; every bench user has it.
const benchPassword = "correct horse battery staple"

// gateway is one real partnergate process serving on a free loopback port.
type gateway struct {
	name    string
	bin     string
	dataDir string
	dbURL   string // "" in embedded mode: SQLite under dataDir
	env     []string
	logPath string
	pprof   string // host:port of its pprof server, or ""

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	exitErr error
	url     string
	pid     int

	kid, secret string
	users       []string // emails registered with benchPassword
	tokens      []string // live session tokens
}

// sqlitePath is the embedded store's file.
func (g *gateway) sqlitePath() string { return filepath.Join(g.dataDir, "partnergate.db") }

func (g *gateway) embedded() bool { return g.dbURL == "" }

// cleanEnv is the bench's environment without any partnergate setting, so
// nothing from the caller's shell leaks into a gateway.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PARTNERGATE_") || k == "DATABASE_URL" || k == "REDIS_URL" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// newGateway prepares (does not start) a gateway. extra are KEY=VALUE.
// With pg it gets a fresh database on st's Postgres and st's Redis.
func newGateway(name, bin, root string, st *services, pg bool, extra ...string) (*gateway, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	g := &gateway{name: name, bin: bin, dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "gateway.log")}
	env := append(cleanEnv(),
		"PARTNERGATE_DATA_DIR="+g.dataDir,
	)
	if pg {
		db, err := st.freshDatabase(name)
		if err != nil {
			return nil, err
		}
		g.dbURL = db
		env = append(env, "DATABASE_URL="+db, "REDIS_URL="+st.redis, "PARTNERGATE_SECRET_KEY="+st.key)
	}
	g.env = append(env, extra...)
	return g, nil
}

// cli runs a partnergate command against the gateway's store.
func (g *gateway) cli(args ...string) (string, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("partnergate %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// migrate applies the schema without serving, so a store can be seeded
// before the gateway starts.
func (g *gateway) migrate() error {
	_, err := g.cli("migrate")
	return err
}

// start runs `partnergate serve` on a free loopback port, its output in the
// log file, and waits until /healthz answers.
func (g *gateway) start() error {
	if g.pprof != "" {
		g.env = append(g.env, "PARTNERGATE_PPROF_ADDR="+g.pprof)
	}
	logf, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	addr := freeAddr()
	cmd := exec.Command(g.bin, "serve")
	cmd.Env = append(g.env, "PARTNERGATE_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	logf.Close()
	g.cmd, g.pid, g.done = cmd, cmd.Process.Pid, make(chan struct{})
	go func() { g.exitErr = cmd.Wait(); close(g.done) }()
	g.url = "http://" + addr
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			return fmt.Errorf("%s exited at start (%v); log %s:\n%s", g.name, g.exitErr, g.logPath, tail(g.logPath, 20))
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := hc.Get(g.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	g.stop()
	return fmt.Errorf("%s did not answer /healthz within 90s; log %s", g.name, g.logPath)
}

// stop sends SIGTERM and waits for a graceful stop; it may be called more
// than once, from more than one goroutine.
func (g *gateway) stop() {
	if g.cmd == nil {
		return
	}
	select {
	case <-g.done:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// status reads a /proc/PID/status field in KiB (VmRSS, VmHWM).
func status(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime is the CPU time (user + system) the process has used so far, and
// the system part of it.
func cpuTime(pid int) (total, sys time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th of them, in clock ticks (100 a second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, time.Duration(st) * 10 * time.Millisecond
}

// selfCPU is the bench process's own CPU time, for baselines it runs.
func selfCPU() (total, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano())
}

func (g *gateway) rssKiB() int64 { return status(g.pid, "VmRSS") }
func (g *gateway) hwmKiB() int64 { return status(g.pid, "VmHWM") }

// resetPeak makes VmHWM start again from the current RSS.
func (g *gateway) resetPeak() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", g.pid), []byte("5"), 0) == nil
}

// createPartner makes a partner key with `partnergate partners create`.
func (g *gateway) createPartner() error {
	out, err := g.cli("partners", "create", "--name", "bench", "--scopes", "auth")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var c partners.Created
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &c); err != nil || c.KID == "" {
		return fmt.Errorf("partners create printed %q", out)
	}
	g.kid, g.secret = c.KID, c.Secret
	return nil
}

func (g *gateway) client() *client.Client { return client.New(g.url) }

func (g *gateway) partner() *client.Client { return g.client().WithPartner(g.kid, g.secret) }

// registerUsers registers n users through auth.registerUser (argon2 each).
func (g *gateway) registerUsers(ctx context.Context, prefix string, n int) error {
	c := g.partner()
	emails := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range emails {
		emails[i] = fmt.Sprintf("%s-%d@bench.example", prefix, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// A gateway with few slots and the default wait may refuse
			// (1003) while others hash: wait and try again.
			for try := 0; ; try++ {
				_, errs[i] = client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: emails[i], Password: benchPassword, FirstName: "Bench", LastName: "User"})
				if !client.IsCode(errs[i], 1003) || try == 50 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: register users: %w", g.name, err)
	}
	g.users = append(g.users, emails...)
	return nil
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// sessionByRegistration is the seed 000 flow: user.auth.registration, the
// code from dev.outbox.list (dev mode), user.auth.verify → a session.
func (g *gateway) sessionByRegistration(ctx context.Context, email string) error {
	c := g.client()
	id, err := client.Call[string](ctx, c, "user.auth.registration", userwire.RegistrationParams{Email: email, Password: benchPassword, Name: "Bench"})
	if err != nil {
		return fmt.Errorf("%s: user.auth.registration: %w", g.name, err)
	}
	out, err := client.Call[devwire.OutboxResult](ctx, c, "dev.outbox.list", devwire.OutboxParams{To: strings.ToLower(email)})
	if err != nil {
		return fmt.Errorf("%s: dev.outbox.list: %w", g.name, err)
	}
	if len(out.Messages) == 0 {
		return fmt.Errorf("%s: no code sent to %s", g.name, email)
	}
	code := sixDigits.FindString(out.Messages[0].Body)
	u, err := client.Call[userwire.Object](ctx, c, "user.auth.verify", userwire.VerifyParams{UserID: id, EmailCode: code})
	if err != nil {
		return fmt.Errorf("%s: user.auth.verify: %w", g.name, err)
	}
	if u.Session == nil {
		return fmt.Errorf("%s: verify returned no session", g.name)
	}
	g.tokens = append(g.tokens, u.Session.Token)
	return nil
}

// sessionsByLogin logs the given (verified) users in with user.auth.login.
func (g *gateway) sessionsByLogin(ctx context.Context, emails []string) error {
	c := g.client()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(emails))
	sem := make(chan struct{}, 4)
	for i, e := range emails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := client.Call[userwire.Object](ctx, c, "user.auth.login", userwire.LoginParams{Login: e, Password: benchPassword})
			if err == nil && u.Session == nil {
				err = errors.New("no session")
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: user.auth.login %s: %w", g.name, e, err)
				return
			}
			mu.Lock()
			g.tokens = append(g.tokens, u.Session.Token)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer ln.Close()
	return ln.Addr().String()
}

// profile fetches a CPU profile of secs seconds from the gateway's pprof
// server into path; it runs beside a measurement.
func (g *gateway) profile(path string, secs int) error {
	return g.fetchPprof(path, fmt.Sprintf("profile?seconds=%d", secs))
}

// trace fetches an execution trace of secs seconds into path (go tool trace
// -pprof=sched shows how long goroutines waited for a CPU).
func (g *gateway) trace(path string, secs int) error {
	return g.fetchPprof(path, fmt.Sprintf("trace?seconds=%d", secs))
}

func (g *gateway) fetchPprof(path, what string) error {
	if g.pprof == "" {
		return errors.New("pprof off")
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s", g.pprof, what))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
