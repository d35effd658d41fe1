package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// result is one line of the table.
type result struct {
	row, figure, baseline, ratio, target, verdict, p50, p99, note string
}

const (
	pass = "pass"
	miss = "MISS"
	info = "info"
	na   = "n/a"
)

func fmtRate(r float64) string {
	switch {
	case r >= 1000:
		return commas(int64(r+0.5)) + "/s"
	case r >= 100:
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtCPU(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// errNote describes a side's failures, if any.
func errNote(label string, s *sample) string {
	if s.failed == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d failed (%s)", label, s.failed, s.firstErr())
}

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// ratioResult is a row whose figure is measured against a baseline side:
// ratio = figure/baseline, passing at ≥ want with no failed call.
func ratioResult(name string, fig, base *sample, want float64, target, baseLabel string, notes ...string) result {
	r := result{row: name, figure: fmtRate(fig.rate()), baseline: fmtRate(base.rate()) + " " + baseLabel,
		target: target, p50: fmtDur(pct(fig.lat, .50)), p99: fmtDur(pct(fig.lat, .99))}
	ratio := pairedRatio(fig, base)
	switch {
	case ratio >= 10:
		r.ratio = fmt.Sprintf("%.1f×", ratio)
	case ratio < want && fmt.Sprintf("%.2f", ratio) == fmt.Sprintf("%.2f", want):
		// Two decimals would round a miss up to the target.
		r.ratio = fmt.Sprintf("%.3f", ratio)
	default:
		r.ratio = fmt.Sprintf("%.2f", ratio)
	}
	r.verdict = pass
	if ratio < want || fig.failed > 0 || base.failed > 0 || fig.calls == 0 {
		r.verdict = miss
	}
	if fig.refused > 0 {
		notes = append(notes, fmt.Sprintf("%d calls refused (1003)", fig.refused))
	}
	if f, b := fig.cpuPerCall(), base.cpuPerCall(); f > 0 && b > 0 {
		notes = append(notes, fmt.Sprintf("server CPU per call %s (sys %s) vs %s (sys %s): %.2f",
			fmtCPU(f), fmtCPU(fig.sysPerCall()), fmtCPU(b), fmtCPU(base.sysPerCall()), float64(b)/float64(f)))
	}
	r.note = joinNotes(append(notes, errNote("gateway", fig), errNote("baseline", base))...)
	return r
}

// pairedRatio is figure/baseline. With three or more rounds it is the median
// of the rounds' ratios (round k of the figure against round k of the
// baseline, run back to back), which a burst of outside load on one round
// cannot move far; otherwise the ratio of the totals.
func pairedRatio(fig, base *sample) float64 {
	if n := len(fig.rounds); n >= 3 && n == len(base.rounds) {
		rs := make([]float64, 0, n)
		for k := range fig.rounds {
			if base.rounds[k] > 0 {
				rs = append(rs, fig.rounds[k]/base.rounds[k])
			}
		}
		if len(rs) > 0 {
			slices.Sort(rs)
			if len(rs)%2 == 1 {
				return rs[len(rs)/2]
			}
			return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
		}
	}
	if base.rate() <= 0 {
		return 0
	}
	return fig.rate() / base.rate()
}

// header describes the run: machine, mode, command.
func header(w io.Writer, mode, how string, cfg config) {
	fmt.Fprintf(w, "partnergate make bench — %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %s; %d cores (GOMAXPROCS %d); %s RAM; Linux %s; %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), osRelease(), runtime.Version())
	fmt.Fprintf(w, "mode: %s (%s)\n", mode, how)
	fmt.Fprintf(w, "command: %s\n", strings.Join(append([]string{"go run ./cmd/pgbench"}, os.Args[1:]...), " "))
	fmt.Fprintf(w, "each side measured %s in %d interleaved rounds (hashing rows %s in %d) after a warm-up; ratio = median of the rounds' ratios; %d connections; %d hashing slots\n",
		cfg.dur, cfg.rounds, cfg.hashDur, cfg.hashRounds, cfg.conc, cfg.slots)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kib int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
			return fmt.Sprintf("%.0f GiB", float64(kib)/(1<<20))
		}
	}
	return "?"
}

func osRelease() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// table prints the results as one Markdown table.
func table(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| row | figure (calls/s) | baseline (calls/s) | ratio | target | result | p50 | p99 | notes |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.row, r.figure, r.baseline, r.ratio, r.target, r.verdict, r.p50, r.p99, r.note)
	}
}
