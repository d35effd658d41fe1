// Command pgbench is `make bench`: it builds the real partnergate binary,
// starts it on loopback (against PostgreSQL and Redis when they are
// available, the embedded default otherwise), drives it with vegeta and
// prints one table in which every figure is measured side by side with the
// limit of this machine and quoted as a ratio. docs/benchmarks.md explains
// how to read it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	dur        time.Duration // per side of a row of fast calls
	hashDur    time.Duration // per side of a row of hashing calls
	rounds     int           // per row of fast calls
	hashRounds int           // per row of hashing calls
	conc       int
	slots      int
	over       int // overload: concurrent logins per hashing slot
	overSlots  int // overload: its hashing slots
	growth     []int
	conns      int
	pprofDir   string
	mode       string
	gobench    bool
	out        string
	keep       bool
	strict     bool
	only       map[string]bool
	logLevel   string
	memLimit   string
}

func parseFlags() config {
	var cfg config
	quick := flag.Bool("quick", false, "about 1 s per side, growth up to 100k users: a smoke run")
	flag.DurationVar(&cfg.dur, "d", 6*time.Second, "measuring time per side of each row of fast calls (split over -rounds)")
	flag.DurationVar(&cfg.hashDur, "hash-d", 12*time.Second, "measuring time per side of each row of hashing calls: logins, registrations (split over -hash-rounds)")
	flag.IntVar(&cfg.rounds, "rounds", 12, "interleaved rounds per row of fast calls: figure and baseline take turns")
	flag.IntVar(&cfg.hashRounds, "hash-rounds", 4, "interleaved rounds per row of hashing calls")
	flag.IntVar(&cfg.conc, "c", 32, "concurrent connections (and callers) per row")
	flag.IntVar(&cfg.slots, "slots", 2*runtime.NumCPU(), "hashing slots the gateway runs (its default, 2 × cores)")
	flag.IntVar(&cfg.over, "overload", 20, "overload row: concurrent logins per hashing slot")
	flag.IntVar(&cfg.overSlots, "overload-slots", 1, "overload row: PARTNERGATE_HASH_SLOTS of its gateway")
	growth := flag.String("growth", "10k,100k,1M", "user counts for the growth rows; the first is the baseline")
	flag.IntVar(&cfg.conns, "conns", 1000, "open connections for the RSS row")
	flag.StringVar(&cfg.pprofDir, "pprof", "", "directory: start every gateway with PARTNERGATE_PPROF_ADDR and save a CPU profile of each gateway side")
	flag.StringVar(&cfg.mode, "mode", "auto", "auto (Postgres+Redis when available), embedded or postgres")
	flag.BoolVar(&cfg.gobench, "gobench", true, "also run go test -bench -benchmem ./rpc/ for allocations per call")
	flag.StringVar(&cfg.out, "o", "", "also write the report to this file")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (logs, databases)")
	flag.BoolVar(&cfg.strict, "strict", false, "exit 3 when a row misses its target")
	flag.StringVar(&cfg.logLevel, "log-level", "", "PARTNERGATE_LOG_LEVEL for every gateway (default: unset, the gateway's info)")
	flag.StringVar(&cfg.memLimit, "gomemlimit", "", "GOMEMLIMIT for every gateway, e.g. 120MiB (default: unset)")
	only := flag.String("only", "", "comma-separated rows to run: conns,ping,batch,session,seed004,login,register,overload,growth,embedded (default all)")
	flag.Parse()
	for _, k := range strings.Split(*only, ",") {
		if k = strings.TrimSpace(k); k != "" {
			if cfg.only == nil {
				cfg.only = map[string]bool{}
			}
			cfg.only[k] = true
		}
	}
	if *quick {
		cfg.dur, cfg.rounds, cfg.hashDur, cfg.hashRounds = 2*time.Second, 4, 3*time.Second, 1
		if !flagSet("growth") {
			*growth = "10k,100k"
		}
	}
	for _, s := range strings.Split(*growth, ",") {
		if n := parseCount(strings.TrimSpace(s)); n > 0 {
			cfg.growth = append(cfg.growth, n)
		}
	}
	cfg.rounds, cfg.hashRounds = max(cfg.rounds, 1), max(cfg.hashRounds, 1)
	return cfg
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseCount(s string) int {
	mul := 1
	switch {
	case strings.HasSuffix(s, "k"):
		mul, s = 1000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mul, s = 1_000_000, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n * mul
}

func countName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare-server" {
		runBareServer()
		return
	}
	cfg := parseFlags()
	missed, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgbench:", err)
		os.Exit(1)
	}
	if missed && cfg.strict {
		os.Exit(3)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s pgbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the partnergate module")
	}
	return filepath.Dir(gomod), nil
}

func run(cfg config) (missed bool, err error) {
	root, err := moduleRoot()
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return false, err
	}
	if cfg.keep {
		logf("temporary directory %s (kept)", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if cfg.pprofDir != "" {
		if err := os.MkdirAll(cfg.pprofDir, 0o755); err != nil {
			return false, err
		}
	}

	bin := filepath.Join(tmp, "partnergate")
	logf("go build ./cmd/partnergate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/partnergate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return false, fmt.Errorf("go build: %v\n%s", err, out)
	}

	st := &services{key: randomKey()}
	mode, how := "embedded (SQLite + in-process Redis)", "forced by -mode"
	if cfg.mode != "embedded" {
		pg, rd, why := discover(root)
		how = why
		if pg != "" && rd != "" {
			st.pg, st.redis = pg, rd
			mode = "postgres+redis (" + redactURL(pg) + ", " + redactURL(rd) + ")"
		} else if cfg.mode == "postgres" {
			return false, fmt.Errorf("-mode postgres: %s", why)
		}
	}
	defer st.dropAll()

	b := &bench{cfg: cfg, bin: bin, tmp: tmp, st: st, root: root}
	defer b.stopAll()
	// Interrupted: stop the gateways and drop what this run created.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		logf("interrupted: stopping gateways")
		b.stopAll()
		st.dropAll()
		if !cfg.keep {
			os.RemoveAll(tmp)
		}
		os.Exit(130)
	}()
	var report bytes.Buffer
	header(&report, mode, how, cfg)
	logf("%s", strings.SplitN(report.String(), "\n", 4)[2])
	if err := b.rows(context.Background()); err != nil {
		return false, err
	}
	b.stopAll()

	fmt.Fprintln(&report)
	table(&report, b.results)
	for _, r := range b.results {
		missed = missed || r.verdict == miss
	}
	if len(b.notes) > 0 {
		fmt.Fprintln(&report)
		for _, n := range b.notes {
			fmt.Fprintln(&report, "- "+n)
		}
	}
	if cfg.gobench {
		logf("go test -bench ./rpc/ (allocations per call)")
		fmt.Fprintln(&report)
		if err := goBench(&report, root, cfg); err != nil {
			fmt.Fprintf(&report, "go test -bench failed: %v\n", err)
		}
	}
	if cfg.pprofDir != "" {
		fmt.Fprintf(&report, "\nCPU profiles of each gateway side: %s (go tool pprof -top FILE)\n", cfg.pprofDir)
	}
	os.Stdout.Write(report.Bytes())
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, report.Bytes(), 0o644); err != nil {
			return missed, err
		}
	}
	return missed, nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
