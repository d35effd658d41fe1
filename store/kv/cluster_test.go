package kv

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store/kvtest"
)

// startCluster runs three redis-server --cluster-enabled nodes on loopback,
// joins them with redis-cli --cluster create (no replicas) and returns their
// addresses once every slot is served. Every process it starts is killed when
// the test ends, pass or fail.
func startCluster(t *testing.T) []string {
	t.Helper()
	server := requireBinary(t, "redis-server")
	cli := requireBinary(t, "redis-cli")
	var addrs []string
	for range 3 {
		port := freePort(t)
		// The cluster bus listens on port+10000; a free port can still have a
		// busy bus port, which shows up as a failed create below.
		startRedis(t, server, port, "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port), "--cluster-node-timeout", "2000")
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range addrs { // wait until each node answers
		host, port, _ := strings.Cut(a, ":")
		for {
			if out, _ := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "ping").Output(); strings.TrimSpace(string(out)) == "PONG" {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("redis node %s never answered", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	host, port, _ := strings.Cut(addrs[0], ":")
	for { // create returns before every node agrees the cluster is ok
		out, _ := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "cluster", "info").Output()
		if strings.Contains(string(out), "cluster_state:ok") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster never reached state ok:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addrs
}

// TestRealCluster runs the whole State suite and the key checks on a real
// three-master Redis Cluster reached through Open's address-list form: any
// multi-key command or script whose keys hash to different slots fails here
// with CROSSSLOT, which miniredis and a single server never report.
func TestRealCluster(t *testing.T) {
	addrs := startCluster(t)
	newClient := func(t *testing.T) redis.UniversalClient {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := Open(ctx, strings.Join(addrs, ","))
		if err != nil {
			t.Fatalf("Open(cluster): %v", err)
		}
		if _, ok := c.(*redis.ClusterClient); !ok {
			t.Fatalf("Open(%d addresses) = %T, want a cluster client", len(addrs), c)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	t.Run("suite", func(t *testing.T) { kvtest.Run(t, openState(newClient)) })
	runKeys(t, newClient)
}
