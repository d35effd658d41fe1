package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/client"
	"partnergate/internal/testkit"
	"partnergate/methods/user/userwire"
)

// lookBinary skips when a server binary is missing, except in CI.
func lookBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true: apt-get install redis-server redis-tools)", name)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

// redisCluster starts three --cluster-enabled redis-server nodes on free
// loopback ports, joins them with redis-cli --cluster create and returns the
// address list REDIS_URL takes. The nodes are killed when the test ends.
func redisCluster(t *testing.T) string {
	t.Helper()
	server, cli := lookBinary(t, "redis-server"), lookBinary(t, "redis-cli")
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", t.TempDir(), "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	redisCLI := func(addr string, args ...string) string {
		host, port, _ := strings.Cut(addr, ":")
		out, _ := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, args...)...).Output()
		return string(out)
	}
	for _, a := range addrs {
		for strings.TrimSpace(redisCLI(a, "ping")) != "PONG" {
			if ctx.Err() != nil {
				t.Fatalf("redis node %s never answered", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		for !strings.Contains(redisCLI(a, "cluster", "info"), "cluster_state:ok") {
			if ctx.Err() != nil {
				t.Fatalf("node %s never saw cluster_state:ok", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return strings.Join(addrs, ",")
}

// TestClusterGateways runs three gateways on one PostgreSQL database and a
// real three-master Redis Cluster and checks that what one gateway does
// holds on the others: a session, the 90 s resend hold, the login failure
// throttle, a role change made
// with the CLI, and that
// stopping one gateway under load loses no acknowledged registration.
func TestClusterGateways(t *testing.T) {
	pg := os.Getenv(testkit.EnvDatabaseURL)
	if pg == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(testkit.EnvDatabaseURL + " must be set in CI")
		}
		t.Skip("set " + testkit.EnvDatabaseURL + " to run the cluster test")
	}
	settings := map[string]string{
		"DATABASE_URL":             testkit.FreshDatabase(t, pg),
		"REDIS_URL":                redisCluster(t),
		"PARTNERGATE_SECRET_KEY":   testkit.NewSecretKey(),
		"PARTNERGATE_REDIS_PREFIX": "cl:",
	}
	env := testkit.Env(settings)
	gws := []*testkit.Gateway{testkit.MustRunMain(t, env), testkit.MustRunMain(t, env), testkit.MustRunMain(t, env)}
	a, b, c := gws[0], gws[1], gws[2]

	t.Run("session made on one gateway works on the others", func(t *testing.T) {
		_, token := a.RegisterUser(t, "cluster-session@example.com", strongPassword)
		for i, g := range gws {
			if e := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil); e.Error.Status {
				t.Fatalf("gateway %d: check = %+v", i, e.Error)
			}
		}
	})

	t.Run("resend hold holds across gateways", func(t *testing.T) {
		id, err := client.Call[string](context.Background(), a.Client(), "user.auth.registration",
			userwire.RegistrationParams{Email: "cluster-resend@example.com", Password: strongPassword})
		if err != nil {
			t.Fatal(err)
		}
		e := b.Call(t, "user.auth.resend", map[string]string{"user_id": id, "type": "email"})
		if e.Error.Code != 1003 || e.Error.RetryAfter <= 0 {
			t.Fatalf("resend through B right after A sent the code = %+v, want 1003 with retryAfter", e.Error)
		}
	})

	t.Run("login failure throttle counts across gateways", func(t *testing.T) {
		a.RegisterUser(t, "cluster-throttle@example.com", strongPassword)
		bad := userwire.LoginParams{Login: "cluster-throttle@example.com", Password: "wrong " + strongPassword}
		for i := range 5 { // the default budget, spread over the three gateways
			if e := gws[i%3].Call(t, "user.auth.login", bad); e.Error.Code == 1003 || !e.Error.Status {
				t.Fatalf("failure %d = %+v, want a refusal that is not yet the throttle", i+1, e.Error)
			}
		}
		if e := c.Call(t, "user.auth.login", bad); e.Error.Code != 1003 {
			t.Fatalf("sixth failure (on C) = %+v, want 1003: the five before it came through A, B and C", e.Error)
		}
	})

	t.Run("a role change from the CLI ends the session on every gateway within 5 s", func(t *testing.T) {
		token := a.Login(t, "cluster-session@example.com", strongPassword)
		if e := b.CallAs(t, b.Client().WithToken(token), "user.auth.check", nil); e.Error.Status {
			t.Fatalf("check on B before the grant = %+v", e.Error)
		}
		grant := exec.Command(buildBinary(t), "users", "grant", "--email", "cluster-session@example.com", "--role", "")
		grant.Env = os.Environ()
		for k, v := range settings {
			grant.Env = append(grant.Env, k+"="+v)
		}
		if out, err := grant.CombinedOutput(); err != nil || !strings.Contains(string(out), "revoked") {
			t.Fatalf("users grant: %v\n%s", err, out)
		}
		deadline := time.Now().Add(5 * time.Second)
		for i, g := range gws {
			for {
				e := g.CallAs(t, g.Client().WithToken(token), "user.auth.check", nil)
				if e.Error.Code == 1020 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("gateway %d: session still answers %+v 5 s after the role change", i, e.Error)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("stopping a gateway under load loses no acknowledged write", func(t *testing.T) {
		var (
			mu    sync.Mutex
			acked = map[string]string{} // email → user id
			wg    sync.WaitGroup
		)
		ctx := context.Background()
		stop := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					email := fmt.Sprintf("cluster-load-%d-%d@example.com", w, i)
					id, err := client.Call[string](ctx, c.Client(), "user.auth.registration",
						userwire.RegistrationParams{Email: email, Password: strongPassword})
					if err != nil {
						return // c went away: not acknowledged
					}
					mu.Lock()
					acked[email] = id
					mu.Unlock()
				}
			}()
		}
		for { // let some registrations through before the stop
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 8 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = c.Stop()
		close(stop)
		wg.Wait()
		for email, id := range acked {
			// An existing, unverified user is held (1003), a missing one
			// answers 2007: each acknowledged registration must be there.
			if e := a.Call(t, "user.auth.resend", map[string]string{"user_id": id, "type": "email"}); e.Error.Code == 2007 {
				t.Fatalf("acknowledged %s (%s) missing after the stop", email, id)
			}
		}
		t.Logf("%d acknowledged registrations present after stopping the gateway", len(acked))
	})
}
