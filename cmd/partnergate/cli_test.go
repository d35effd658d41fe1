package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLI drives the administrative commands in process against one data
// directory, as an operator would beside a running server.
func TestCLI(t *testing.T) {
	env := map[string]string{"PARTNERGATE_DATA_DIR": t.TempDir()}
	steps := []struct {
		name    string
		args    []string
		code    int
		outHas  string
		errHas  string
		capture func(out string)
	}{
		{name: "version", args: []string{"version"}, outHas: "partnergate "},
		{name: "migrate", args: []string{"migrate"}, outHas: "migrations applied (sqlite)"},
		{name: "migrate twice", args: []string{"migrate"}, outHas: "migrations applied"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, errHas: "unknown command"},
		{name: "create without scopes", args: []string{"partners", "create", "--name", "x"}, code: 1, errHas: "scope"},
		{name: "create with a bad scope", args: []string{"partners", "create", "--name", "x", "--scopes", "a b!"}, code: 1, errHas: "invalid scope"},
		{name: "grant to nobody", args: []string{"users", "grant", "--email", "nobody@example.com", "--role", "admin"}, code: 1, errHas: "not found"},
		{name: "grant an unknown role", args: []string{"users", "grant", "--email", "nobody@example.com", "--role", "wizard"}, code: 1, errHas: "no such role"},
		{name: "product without a title", args: []string{"products", "add", "--id", "chess"}, code: 1, errHas: "title"},
		{name: "product added", args: []string{"products", "add", "--id", "chess", "--title", "Chess", "--description", "Play chess."}, outHas: "product chess saved"},
		{name: "keys rotate", args: []string{"keys", "rotate"}, outHas: "is current"},
		{name: "keys rotate again", args: []string{"keys", "rotate"}, outHas: "is current"},
		{name: "keys without rotate", args: []string{"keys"}, code: 1, errHas: "usage: keys rotate"},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0},
		{name: "bad setting", args: []string{"serve"}, code: 1, errHas: "PARTNERGATE_MAX_BATCH"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			e := env
			if s.name == "bad setting" {
				e = map[string]string{"PARTNERGATE_DATA_DIR": env["PARTNERGATE_DATA_DIR"], "PARTNERGATE_MAX_BATCH": "zero"}
			}
			code, out, errOut := runCLI(e, s.args...)
			if code != s.code || !strings.Contains(out, s.outHas) || !strings.Contains(errOut, s.errHas) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, s.code, out, errOut)
			}
		})
	}

	code, out, errOut := runCLI(env, "partners", "create", "--name", "acme", "--scopes", "auth,user")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var key struct{ KID, Secret string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &key); err != nil || !strings.HasPrefix(key.KID, "pk_") || !strings.HasPrefix(key.Secret, "pks_") {
		t.Fatalf("create printed %q", out)
	}
	code, out, _ = runCLI(env, "partners", "list")
	if code != 0 || !strings.Contains(out, key.KID) || !strings.Contains(out, "auth,user") || strings.Contains(out, key.Secret) {
		t.Fatalf("list: %s", out)
	}
	if code, out, _ = runCLI(env, "partners", "revoke", key.KID); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %s", out)
	}
	code, out, _ = runCLI(env, "partners", "list")
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[0] == key.KID && (code != 0 || f[4] == "-") {
			t.Fatalf("revoked key not shown as revoked: %s", out)
		}
	}
}

// TestSubcommandHelp: every subcommand answers -h and --help with its usage
// and exit status 0, before opening anything (no settings are given, so a
// subcommand that tried to open the store would fail instead).
func TestSubcommandHelp(t *testing.T) {
	cases := []struct {
		args []string
		want string // in stdout or stderr
	}{
		{[]string{}, ""},
		{[]string{"help"}, "usage: partnergate"},
		{[]string{"serve"}, "-addr"},
		{[]string{"migrate"}, "Usage of migrate"},
		{[]string{"partners"}, "partners create --name"},
		{[]string{"partners", "create"}, "-scopes"},
		{[]string{"partners", "list"}, "Usage of partners list"},
		{[]string{"partners", "revoke"}, "Usage of partners revoke"},
		{[]string{"products"}, "products add --id"},
		{[]string{"products", "add"}, "-title"},
		{[]string{"users"}, "users grant --email"},
		{[]string{"users", "grant"}, "-role"},
		{[]string{"call"}, "-secret"},
		{[]string{"version"}, "usage: partnergate version"},
	}
	for _, tc := range cases {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, tc.args...), h)
			want := tc.want
			if want == "" {
				want = "usage: partnergate [command]"
			}
			code, out, errs := runCLI(nil, args...)
			if code != 0 || !strings.Contains(out+errs, want) {
				t.Errorf("partnergate %v = %d, stdout %q, stderr %q; want 0 and %q", args, code, out, errs, want)
			}
			if strings.Contains(out+errs, "unknown") {
				t.Errorf("partnergate %v answered %q", args, out+errs)
			}
		}
	}
	if code, _, errs := runCLI(nil, "partners", "bogus"); code == 0 || !strings.Contains(errs, "partners create --name") {
		t.Errorf("partners bogus = %d, %q; want an error with the usage", code, errs)
	}
}
