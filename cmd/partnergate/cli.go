package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"partnergate/client"
	"partnergate/cmd/partnergate/gateway"
	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/partners"
	"partnergate/core/products"
	"partnergate/core/tokens"
	"partnergate/store"
	"partnergate/store/kv"
)

// openAdmin opens what the administrative commands need: the SQL store and
// the keys, not Redis, so they work beside running servers in embedded mode.
func openAdmin(ctx context.Context, fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer) (*gateway.Main, error) {
	fs.SetOutput(stderr)
	cfg, err := gateway.LoadConfig(fs, args, getenv)
	if err != nil {
		return nil, err
	}
	cfg.LogLevel = "warn"
	m := gateway.NewMain(cfg, stderr)
	if err := m.OpenStore(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := gateway.LoadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	m := gateway.NewMain(cfg, stderr)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	if err := m.Listen(); err != nil {
		return err
	}
	return m.Serve(ctx)
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	m, err := openAdmin(ctx, flag.NewFlagSet("migrate", flag.ContinueOnError), args, getenv, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", m.DB().Dialect())
	return nil
}

// Each group's usage, printed for -h, --help or help in the place of its
// subcommand; the flags of a subcommand are listed by its own -h.
const (
	partnersUsage = `usage: partnergate partners create --name N --scopes S   create a partner key; prints {"kid","secret"}
       partnergate partners list                          list partner keys (no secrets)
       partnergate partners revoke KID                    revoke a partner key
partnergate partners SUBCOMMAND -h lists the subcommand's flags.
`
	productsUsage = `usage: partnergate products add --id ID --title T [--description D --policy P --icon I --info URL --subscription-cancel URL --position N --disabled]
partnergate products add -h lists the flags.
`
	usersUsage = `usage: partnergate users grant --email E --role R
partnergate users grant -h lists the flags.
`
	versionUsage = "usage: partnergate version\nprints the version and commit.\n"
)

// isHelp reports whether arg asks for usage rather than naming a
// subcommand.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// groupHelp handles a command group's first argument: help prints usage
// to stdout and ends the command successfully (flag.ErrHelp), a missing
// subcommand is an error that carries the usage.
func groupHelp(args []string, usage string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSuffix(usage, "\n"))
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	return nil
}

func runPartners(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := groupHelp(args, partnersUsage, stdout); err != nil {
		return err
	}
	switch args[0] {
	case "create", "list", "revoke":
	default:
		return fmt.Errorf("unknown partners command %q\n%s", args[0], partnersUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("partners "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "partner name")
	scopes := fs.String("scopes", "", `comma- or space-separated scopes: namespace prefixes ("auth", "admin.users") or "*"`)
	m, err := openAdmin(ctx, fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	ps := partners.New(m.Store(), nil, m.Ring(), nil)
	switch sub {
	case "create":
		sc := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ',' || r == ' ' })
		created, err := ps.Create(ctx, *name, sc)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(created)
		fmt.Fprintln(stdout, string(b))
	case "list":
		list, err := ps.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, p := range list {
			revoked := "-"
			if p.Revoked != nil {
				revoked = p.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.KID, p.Name, strings.Join(p.Scopes, ","), p.Created.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("usage: partners revoke KID")
		}
		if err := ps.Revoke(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (running servers stop accepting it within %s)\n", fs.Arg(0), partners.CacheTTL)
	}
	return nil
}

// runKeys rotates the access-JWT signing key. Running gateways sign with
// the new key within 5 s; the old one verifies until its tokens expire.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: keys rotate")
	}
	m, err := openAdmin(ctx, flag.NewFlagSet("keys rotate", flag.ContinueOnError), args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	ts := &tokens.Service{Store: m.Store(), Ring: m.Ring(), Alg: m.Config.JWTAlg}
	kid, err := ts.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing key %s is current (running servers sign with it within 5s; older keys verify until their tokens expire)\n", kid)
	return nil
}

func runProducts(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := groupHelp(args, productsUsage, stdout); err != nil {
		return err
	}
	if args[0] != "add" {
		return fmt.Errorf("unknown products command %q\n%s", args[0], productsUsage)
	}
	fs := flag.NewFlagSet("products add", flag.ContinueOnError)
	var p store.Product
	fs.StringVar(&p.ID, "id", "", "product id (letters, digits, '_', '-')")
	fs.StringVar(&p.Title, "title", "", "title")
	fs.StringVar(&p.Description, "description", "", "description")
	fs.StringVar(&p.Policy, "policy", "", "the user agreement text activation consents to")
	fs.StringVar(&p.Icon, "icon", "", "icon name")
	fs.StringVar(&p.Info, "info", "", "URL of an information page")
	fs.StringVar(&p.SubscriptionCancel, "subscription-cancel", "", "URL where a paid subscription is cancelled")
	fs.IntVar(&p.Position, "position", 0, "catalogue order")
	fs.BoolVar(&p.Disabled, "disabled", false, "listed but cannot be activated")
	m, err := openAdmin(ctx, fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := (&products.Service{Store: m.Store(), Log: m.Log}).Put(ctx, p); err != nil {
		if fe, ok := fault.As(err); ok && len(fe.Fields) > 0 {
			return fmt.Errorf("%s %v", fe.Message, fe.Fields)
		}
		return err
	}
	fmt.Fprintf(stdout, "product %s saved\n", p.ID)
	return nil
}

func runUsers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := groupHelp(args, usersUsage, stdout); err != nil {
		return err
	}
	if args[0] != "grant" {
		return fmt.Errorf("unknown users command %q\n%s", args[0], usersUsage)
	}
	fs := flag.NewFlagSet("users grant", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", "", `role to set: one of the roles table's (superadmin bootstraps the first admin; empty or "member" removes the role)`)
	m, err := openAdmin(ctx, fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	e, err := accounts.ParseEmail(*email)
	if err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	// In-process Redis belongs to the running server and cannot be reached
	// from here: its copy of the user then lives out its TTL and the
	// sessions their timeouts.
	var k *kv.KV
	if m.Config.RedisURL != "" {
		cl, err := kv.Open(ctx, m.Config.RedisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer cl.Close()
		k = kv.New(cl, kv.WithPrefix(m.Config.RedisPrefix))
		// The grant writes through the same wrapper as the servers, so
		// their copy of the user is cleared with it.
		m.CacheUsersIn(k)
	}
	if *role == "member" {
		*role = ""
	}
	if *role != "" {
		roles, err := m.Store().Roles(ctx)
		if err != nil {
			return fmt.Errorf("read roles: %w", err)
		}
		known := false
		var names []string
		for _, r := range roles {
			known = known || r.Name == *role
			names = append(names, r.Name)
		}
		if !known {
			return fmt.Errorf("--role %q: no such role (known: %s)", *role, strings.Join(names, ", "))
		}
	}
	u, err := m.Store().UserByIdentifier(ctx, store.KindEmail, e.Norm)
	if err != nil {
		return fmt.Errorf("find %s: %w", *email, err)
	}
	if err := m.Store().SetUserRole(ctx, u.ID, *role); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s now has role %q\n", u.ID, *role)
	// A privilege change ends the user's sessions, so the next one starts
	// under the new role (SECURITY.md 11).
	if k == nil {
		fmt.Fprintln(stdout, "note: embedded Redis is private to the server; the user's sessions end at its restart")
		return nil
	}
	n, err := k.DeleteUserSessions(ctx, u.ID, "")
	if err != nil {
		return fmt.Errorf("role set, but sessions not revoked: %w", err)
	}
	fmt.Fprintf(stdout, "revoked %d session(s)\n", n)
	return nil
}

func runCall(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := getenv("PARTNERGATE_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	def := getenv("PARTNERGATE_URL")
	if def == "" {
		def = "http://" + addr
	}
	url := fs.String("url", def, "gateway base URL (env PARTNERGATE_URL)")
	kid := fs.String("key", getenv("PARTNERGATE_KEY"), "partner key id (env PARTNERGATE_KEY)")
	secret := fs.String("secret", getenv("PARTNERGATE_SECRET"), "partner secret (env PARTNERGATE_SECRET)")
	token := fs.String("token", getenv("PARTNERGATE_TOKEN"), "bearer session token (env PARTNERGATE_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return errors.New(`usage: partnergate call [--key KID --secret S] METHOD ['{"param":"value"}']`)
	}
	var params any
	if fs.NArg() == 2 {
		raw := json.RawMessage(fs.Arg(1))
		if !json.Valid(raw) {
			return errors.New("params are not valid JSON")
		}
		params = raw
	}
	c := client.New(*url)
	switch {
	case *kid != "":
		c = c.WithPartner(*kid, *secret)
	case *token != "":
		c = c.WithToken(*token)
	}
	resp, err := c.CallRaw(ctx, fs.Arg(0), params)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(resp)
	var out bytes.Buffer
	_ = json.Indent(&out, b, "", "  ")
	fmt.Fprintln(stdout, out.String())
	if err := resp.Decode(nil); err != nil {
		return err
	}
	return nil
}
