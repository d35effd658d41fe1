//go:build unix

package argon2

import "syscall"

type usage struct{ minflt, sysNs int64 }

// rusage is the process's minor page faults and system CPU time so far.
func rusage() usage {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return usage{}
	}
	return usage{minflt: int64(r.Minflt), sysNs: r.Stime.Nano()}
}
