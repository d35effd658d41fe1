package main

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"partnergate/cmd/partnergate/gateway"
	"partnergate/internal/testkit"
)

// mustRunMain starts a gateway on 127.0.0.1:0 with a temporary data dir;
// env maps are settings, later ones winning.
func mustRunMain(tb testing.TB, env ...map[string]string) *testkit.Gateway {
	tb.Helper()
	return mustRunMainWith(tb, nil, env...)
}

// mustRunMainWith is mustRunMain with a hook that runs after Open and
// before Serve, for tests that adjust a service (say, its throttle) before
// any request can see it.
func mustRunMainWith(tb testing.TB, setup func(m *gateway.Main), env ...map[string]string) *testkit.Gateway {
	tb.Helper()
	var opts []testkit.Option
	if setup != nil {
		opts = append(opts, testkit.Setup(setup))
	}
	for _, e := range env {
		opts = append(opts, testkit.Env(e))
	}
	return testkit.MustRunMain(tb, opts...)
}

func testKey() string { return testkit.NewSecretKey() }

// runCLI runs a subcommand in-process with env and returns its output.
func runCLI(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func flagSet() *flag.FlagSet { return flag.NewFlagSet("test", flag.ContinueOnError) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
