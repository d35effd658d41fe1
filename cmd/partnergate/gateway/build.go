package gateway

// Build information, served by system.version and rpc.discover. The command
// keeps the -ldflags targets (main.version, main.commit) and hands them over
// with SetBuild, so the Makefile's flags need not name this package.
var (
	version = "dev"
	commit  = "unknown"
)

// SetBuild sets the build information. Call it before NewMain.
func SetBuild(v, c string) { version, commit = v, c }
