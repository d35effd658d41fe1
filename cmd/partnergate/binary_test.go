package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"partnergate/client"
	"partnergate/internal/testkit"
	"partnergate/methods/auth/authwire"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildBinary builds the real command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "partnergate-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "partnergate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// process is the real binary serving on a free port.
type process struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	logs *testkit.LogBuffer
}

func startBinary(t *testing.T, env []string) *process {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "serve")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), logs: &testkit.LogBuffer{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			var e struct{ Message, Addr string }
			if json.Unmarshal([]byte(line), &e) == nil && e.Message == "listening" {
				addr <- e.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case a := <-addr:
		p.url = "http://" + a
	case err := <-p.done:
		t.Fatalf("binary exited before listening: %v\n%s", err, p.logs.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("binary did not listen\n%s", p.logs.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return p
}

// TestBinary drives the real binary as a newcomer would: serve, create a
// partner with the CLI while it runs, call through `partnergate call`, then
// SIGTERM it in the middle of a burst of registrations and check that every
// acknowledged registration survived the restart.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	env := []string{
		"PARTNERGATE_ADDR=127.0.0.1:0", "PARTNERGATE_DATA_DIR=" + dir,
		"PARTNERGATE_ARGON2_MEMORY=256", "PARTNERGATE_ARGON2_ITERATIONS=1", "PARTNERGATE_HASH_WAIT=5s",
		"DATABASE_URL=", "REDIS_URL=",
	}
	p := startBinary(t, env)

	cli := exec.Command(buildBinary(t), "partners", "create", "--name", "e2e", "--scopes", "auth,system")
	cli.Env = append(os.Environ(), env...)
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("partners create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var key struct{ KID, Secret string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &key); err != nil || key.KID == "" || key.Secret == "" {
		t.Fatalf("partners create printed %q", out)
	}

	call := exec.Command(buildBinary(t), "call", "--url", p.url, "--key", key.KID, "--secret", key.Secret,
		"auth.registerUser", `{"email":"cli@example.com","password":"`+strongPassword+`"}`)
	out, err = call.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"userId"`) {
		t.Fatalf("partnergate call: %v\n%s", err, out)
	}

	c := client.New(p.url).WithPartner(key.KID, key.Secret)
	ctx := context.Background()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stopAt := time.Now().Add(10 * time.Second)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(stopAt); i++ {
				email := fmt.Sprintf("burst-%d-%d@example.com", w, i)
				_, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: email, Password: strongPassword})
				if err != nil {
					return // the server went away mid-burst: this call was not acknowledged
				}
				mu.Lock()
				acked = append(acked, email)
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no registration was acknowledged before SIGTERM")
	}
	if !strings.Contains(p.logs.String(), "stopped") {
		t.Errorf("no graceful stop logged:\n%s", p.logs.String())
	}

	p2 := startBinary(t, env)
	c2 := client.New(p2.url).WithPartner(key.KID, key.Secret)
	for _, email := range acked {
		if _, err := client.Call[authwire.GetUserResult](ctx, c2, "auth.getUserByEmailAndPassword", authwire.GetUserParams{Email: email, Password: strongPassword}); err != nil {
			t.Fatalf("acknowledged %s lost after restart: %v", email, err)
		}
	}
	t.Logf("%d acknowledged registrations all present after SIGTERM and restart", len(acked))
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done
}
