package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
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

	"partnergate/client"
	"partnergate/internal/testkit"
	"partnergate/methods/auth/authwire"
	"partnergate/methods/user/userwire"
)

// pgbouncer starts PgBouncer in transaction pooling mode in front of the
// PostgreSQL server of admin (a URL) with a pool far smaller than the
// gateways' connections, so consecutive transactions of one client land on
// different server connections; it returns the URL of database name
// through it. Skipped when pgbouncer is not installed, except in CI
// (.ci/run installs it). As root it runs as the postgres OS user, since
// PgBouncer refuses to run as root.
func pgbouncer(t *testing.T, admin, name string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr == nil {
			bin = "/usr/sbin/pgbouncer"
		} else if os.Getenv("CI") == "true" {
			t.Fatal("pgbouncer not found (CI=true: .ci/run installs it with apt-get install pgbouncer)")
		} else {
			t.Skip("pgbouncer not found (apt-get install pgbouncer): the PgBouncer test is SKIPPED")
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Not t.TempDir: its parent is private to this user, and as root
	// pgbouncer runs as another one that must read the files.
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pgUser := u.User.Username()
	pw, _ := u.User.Password()
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, name, u.Hostname(), u.Port(), name, port, filepath.Join(dir, "users.txt"))
	if pw != "" {
		ini = strings.Replace(ini, "dbname="+name, "dbname="+name+" password="+pw, 1)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o600))
	must(os.WriteFile(filepath.Join(dir, "users.txt"), []byte(fmt.Sprintf("%q \"\"\n", pgUser)), 0o600))
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	if os.Geteuid() == 0 {
		pgOS, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres OS user for pgbouncer: %v", err)
		}
		uid, _ := strconv.Atoi(pgOS.Uid)
		gid, _ := strconv.Atoi(pgOS.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "users.txt")} {
			must(os.Chown(p, uid, gid))
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	logs := &testkit.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	must(cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("pgbouncer exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := *u
	b.Host = fmt.Sprintf("127.0.0.1:%d", port)
	b.Path = "/" + name
	return b.String()
}

// TestPgBouncerTransactionPooling runs two real gateway processes whose
// DATABASE_URL is PgBouncer in transaction mode, with two server
// connections for both: migrations, registrations (user, identifiers,
// credential and code in one transaction), logins, the seed 000 flow and
// session checks, concurrently, all answer without a fault. The gateway
// holds no session-level state on a connection (no named prepared
// statement, no session advisory lock, no SET) that a pooled server
// connection could lose between two transactions.
func TestPgBouncerTransactionPooling(t *testing.T) {
	pg, rd := realServices(t)
	direct := testkit.FreshDatabase(t, pg)
	du, _ := url.Parse(direct)
	pooled := pgbouncer(t, pg, strings.TrimPrefix(du.Path, "/"))
	env := processEnv(pooled, rd)
	gws := []*process{
		startBinary(t, append(env, "PARTNERGATE_DATA_DIR="+t.TempDir())),
		startBinary(t, append(env, "PARTNERGATE_DATA_DIR="+t.TempDir())),
	}
	kid, secret := createPartner(t, env, t.TempDir())
	ctx := context.Background()

	const workers, perWorker = 8, 8
	var (
		mu     sync.Mutex
		faults []string
		wg     sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		faults = append(faults, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				g, other := gws[(w+i)%2], gws[(w+i+1)%2]
				pc := client.New(g.url).WithPartner(kid, secret)
				email := fmt.Sprintf("bouncer-%d-%d@example.com", w, i)
				if _, err := client.Call[authwire.RegisterUserResult](ctx, pc, "auth.registerUser",
					authwire.RegisterUserParams{Email: email, Password: strongPassword}); err != nil {
					fail("auth.registerUser %s: %v", email, err)
					continue
				}
				oc := client.New(other.url).WithPartner(kid, secret)
				if _, err := client.Call[authwire.GetUserResult](ctx, oc, "auth.getUserByEmailAndPassword",
					authwire.GetUserParams{Email: email, Password: strongPassword}); err != nil {
					fail("login %s on the other gateway: %v", email, err)
				}
			}
			// The seed 000 flow and its session, across the two.
			email := fmt.Sprintf("bouncer-flow-%d@example.com", w)
			token := registerAndVerify(t, client.New(gws[w%2].url), email)
			for _, g := range gws {
				if _, err := client.Call[userwire.Object](ctx, client.New(g.url).WithToken(token), "user.auth.check", nil); err != nil {
					fail("user.auth.check %s: %v", email, err)
				}
			}
		}()
	}
	wg.Wait()
	if len(faults) > 0 {
		t.Fatalf("%d calls failed behind PgBouncer, first: %s\ngateway log:\n%s", len(faults), faults[0], lastLines(gws[0].logs.String(), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
