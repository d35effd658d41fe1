package kv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSentinelURL(t *testing.T) {
	tests := []struct {
		raw                string
		wantErr            bool
		addrs              string
		master, user, pass string
		db                 int
		sentinelPass       string
	}{
		{raw: "redis-sentinel://10.0.0.1:26379/mymaster", addrs: "10.0.0.1:26379", master: "mymaster"},
		{raw: "redis-sentinel://:s%40cret@a:1,b:2, c:3/m?db=2", addrs: "a:1,b:2,c:3", master: "m", pass: "s@cret", db: 2},
		{raw: "redis-sentinel://u:p@a:1/m?sentinel_password=x", addrs: "a:1", master: "m", user: "u", pass: "p", sentinelPass: "x"},
		{raw: "redis-sentinel://a:1/", wantErr: true},
		{raw: "redis-sentinel://a:1", wantErr: true},
		{raw: "redis-sentinel:///m", wantErr: true},
		{raw: "redis-sentinel://a/m", wantErr: true},
		{raw: "redis-sentinel://a:1/m?db=-1", wantErr: true},
		{raw: "redis-sentinel://a:1/m?db=x", wantErr: true},
		{raw: "redis-sentinel://a:1/m?bogus=1", wantErr: true},
		{raw: "redis-sentinel://a:1/m/n", wantErr: true},
		{raw: "redis-sentinel://:%zz@a:1/m", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			opt, err := parseSentinelURL(tc.raw)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed: %+v", opt)
				}
				if strings.Contains(err.Error(), "zz") {
					t.Fatalf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(strings.Join(opt.SentinelAddrs, ","), opt.MasterName, opt.Username, opt.Password, opt.DB, opt.SentinelPassword)
			want := fmt.Sprint(tc.addrs, tc.master, tc.user, tc.pass, tc.db, tc.sentinelPass)
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// requireBinary skips when a server binary is missing, except in CI where the
// test must run.
func requireBinary(t *testing.T, name string) string {
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

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs one redis-server (extra args appended) until the test ends.
func startRedis(t *testing.T, bin string, port int, args ...string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir}, args...)...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// TestOpenSentinel puts one real sentinel in front of one real redis-server
// and checks Open reaches the master through it.
func TestOpenSentinel(t *testing.T) {
	bin := requireBinary(t, "redis-server")
	master, sentinel := freePort(t), freePort(t)
	startRedis(t, bin, master)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	// The sentinel rewrites its config file, so it must be writable.
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor pgm 127.0.0.1 %d 1\n", sentinel, master)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := fmt.Sprintf("redis-sentinel://127.0.0.1:%d/pgm?db=1", sentinel)
	var lastErr error
	for ctx.Err() == nil {
		c, err := Open(ctx, url)
		if err == nil {
			defer c.Close()
			if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
				t.Fatalf("set through sentinel: %v", err)
			}
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond) // the sentinel needs a moment to answer
	}
	t.Fatalf("Open(%s) never succeeded: %v", url, lastErr)
}
