package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// goBench runs the transport's in-process benchmarks with -benchmem and
// prints their allocations per call.
func goBench(w io.Writer, root string, cfg config) error {
	times := "3000x"
	if cfg.dur < 2e9 {
		times = "500x"
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", times, "./rpc/"}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	fmt.Fprintf(w, "Allocations per call, in process (go %s):\n\n", strings.Join(args, " "))
	fmt.Fprintln(w, "| benchmark | ns/op | B/op | allocs/op |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", strings.TrimSuffix(f[0], "-"+lastDash(f[0])), f[2], f[4], f[6])
	}
	return nil
}

func lastDash(s string) string {
	if i := strings.LastIndex(s, "-"); i >= 0 {
		return s[i+1:]
	}
	return ""
}
