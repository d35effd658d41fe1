//go:build !unix

package argon2

type usage struct{ minflt, sysNs int64 }

// rusage reports nothing where getrusage is missing.
func rusage() usage { return usage{} }
