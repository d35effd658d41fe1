// Command partnergate serves the account and authentication gateway and
// administers it: serve, migrate, partners, users, call, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"partnergate/cmd/partnergate/gateway"
)

// Build information, set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	// Log times, audit events' included, are UTC whatever the host's time
	// zone (SECURITY.md 20); zerolog keeps this setting process-wide.
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	gateway.SetBuild(version, commit)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: partnergate [command] [flags]

commands:
  serve                         serve the gateway (the default)
  migrate                       apply database migrations and exit
  partners create --name N --scopes S   create a partner key; prints {"kid","secret"}
  keys rotate                          make a new access-JWT signing key current
  partners list                 list partner keys (no secrets)
  partners revoke KID           revoke a partner key
  users grant --email E --role R        set a user's role ("" removes it)
  products add --id ID --title T [...]  add or replace a product of the user.products catalogue
  call [--url U] [--key KID --secret S] METHOD [JSON]   sign and post one call
  version                       print the version

Settings come from the environment or flags: partnergate serve -h lists them.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (len(args[0]) == 0 || args[0][0] != '-' || isHelp(args[0])) {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, args, getenv, stderr)
	case "migrate":
		err = runMigrate(ctx, args, getenv, stdout, stderr)
	case "partners":
		err = runPartners(ctx, args, getenv, stdout, stderr)
	case "keys":
		err = runKeys(ctx, args, getenv, stdout, stderr)
	case "products":
		err = runProducts(ctx, args, getenv, stdout, stderr)
	case "users":
		err = runUsers(ctx, args, getenv, stdout, stderr)
	case "call":
		err = runCall(ctx, args, getenv, stdout, stderr)
	case "version":
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprint(stdout, versionUsage)
			return 0
		}
		fmt.Fprintf(stdout, "partnergate %s (%s)\n", version, commit)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "partnergate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "partnergate %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
