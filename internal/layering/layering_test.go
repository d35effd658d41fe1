// Package layering holds one test: partnergate's floors and what each may
// import, read off the real import graph (`go list -json`), so that a wrong
// import fails `make test` naming the import. docs/architecture.md quotes
// these rules; this file is where they live.
package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "partnergate"

// rule refuses an import from a package matched by from to one matched by
// to (both relative to the module, "" is the module root); why is what the
// failure says.
type rule struct {
	from, to func(pkg string) bool
	why      string
}

// under reports whether pkg is dir or below it.
func under(dir string) func(string) bool {
	return func(pkg string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
}

func and(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if !f(p) {
				return false
			}
		}
		return true
	}
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

func anyOf(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if f(p) {
				return true
			}
		}
		return false
	}
}

var rules = []rule{
	{under("rpc"), not(anyOf(under("rpc"), under("core/fault"))),
		"the transport knows nothing of the floors above it; of the project it imports only the error catalogue (core/fault, a standard-library leaf)"},
	{under("store"), anyOf(under("core"), under("methods"), under("rpc"), under("client"), under("cmd")),
		"backends implement the storage contract and the core uses it: store never looks up at the core, the dialects or the transport"},
	{under("core"), anyOf(under("methods"), under("client"), under("cmd")),
		"the domain core serves every dialect and so depends on none of them"},
	{and(under("core"), not(under("core/access"))), under("rpc"),
		"the core takes the call as a core.Call value; only core/access, the transport's gate, speaks rpc's types"},
	{under("core/fault"), func(string) bool { return true }, leafWhy},
	{under("client"), anyOf(under("core"), under("store"), under("rpc"), under("cmd")),
		"the Go SDK links none of the server: it speaks the wire types of methods/*/ leaf packages"},
	{not(anyOf(under("cmd"), under("internal/testkit"))), under("cmd"),
		"cmd wires the floors together; nothing but cmd itself and the test kit (which starts a gateway as the binary does) imports it"},
}

const leafWhy = "the catalogue is imported by the core, the transport and clients alike, so it imports only the standard library"

// A dialect is one namespace: methods/<ns>/... may not import another
// namespace's packages.
const dialectWhy = "each dialect is a thin adapter over the core; what two namespaces share belongs in core/, not in one another"

type pkg struct {
	ImportPath string
	Imports    []string
}

func loadGraph(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH: cannot read the import graph")
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", mod+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the graph cannot be that small", len(pkgs))
	}
	return pkgs
}

// local returns pkg relative to the module and whether it is the module's.
func local(path string) (string, bool) {
	if path == mod {
		return "", true
	}
	if strings.HasPrefix(path, mod+"/") {
		return strings.TrimPrefix(path, mod+"/"), true
	}
	return "", false
}

// seed002 is Barong's three namespaces: they alone may import
// methods/barong, the shapes (user object, error keys) they present alike.
var seed002 = map[string]bool{"identity": true, "resource": true, "admin": true}

func namespace(pkg string) (string, bool) {
	rest, ok := strings.CutPrefix(pkg, "methods/")
	if !ok {
		return "", false
	}
	ns, _, _ := strings.Cut(rest, "/")
	return ns, true
}

// violations lists every refused import of the graph, one line each.
func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		from, ok := local(p.ImportPath)
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			to, ok := local(imp)
			if !ok {
				// A module path's first element has a dot; the standard
				// library's never does.
				if under("core/fault")(from) && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					bad = append(bad, p.ImportPath+" imports "+imp+": "+leafWhy)
				}
				continue
			}
			for _, r := range rules {
				if r.from(from) && r.to(to) {
					bad = append(bad, p.ImportPath+" imports "+imp+": "+r.why)
				}
			}
			if a, ok := namespace(from); ok {
				if b, ok := namespace(to); ok && a != b && !(b == "barong" && seed002[a]) {
					bad = append(bad, p.ImportPath+" imports "+imp+": "+dialectWhy)
				}
			}
		}
	}
	return bad
}

func TestLayering(t *testing.T) {
	for _, v := range violations(loadGraph(t)) {
		t.Error(v)
	}
}

// TestRulesBite feeds the checker a graph with one wrong import per rule, so
// that a rule which can no longer fail is itself a failure.
func TestRulesBite(t *testing.T) {
	bad := []pkg{
		{ImportPath: mod + "/rpc", Imports: []string{mod + "/core/accounts"}},
		{ImportPath: mod + "/rpc", Imports: []string{mod + "/store"}},
		{ImportPath: mod + "/store/kv", Imports: []string{mod + "/core/fault"}},
		{ImportPath: mod + "/core/accounts", Imports: []string{mod + "/methods/user"}},
		{ImportPath: mod + "/core/accounts", Imports: []string{mod + "/rpc"}},
		{ImportPath: mod + "/core/fault", Imports: []string{mod + "/store"}},
		{ImportPath: mod + "/core/fault", Imports: []string{"github.com/rs/zerolog"}},
		{ImportPath: mod + "/client", Imports: []string{mod + "/core/accounts"}},
		{ImportPath: mod + "/methods/user", Imports: []string{mod + "/cmd/partnergate"}},
		{ImportPath: mod + "/core/accounts", Imports: []string{mod + "/cmd/partnergate/gateway"}},
		{ImportPath: mod + "/methods/user", Imports: []string{mod + "/methods/auth"}},
		{ImportPath: mod + "/methods/identity", Imports: []string{mod + "/methods/resource/wire"}},
		{ImportPath: mod + "/methods/users", Imports: []string{mod + "/methods/barong"}},
	}
	for _, p := range bad {
		if v := violations([]pkg{p}); len(v) == 0 {
			t.Errorf("%s importing %v passed the rules", p.ImportPath, p.Imports)
		}
	}
	good := []pkg{
		{ImportPath: mod + "/rpc", Imports: []string{mod + "/core/fault", "net/http", "github.com/gorilla/rpc/v2"}},
		{ImportPath: mod + "/rpc/rpctest", Imports: []string{mod + "/rpc"}},
		{ImportPath: mod + "/core/access", Imports: []string{mod + "/rpc", mod + "/core/accounts", mod + "/store"}},
		{ImportPath: mod + "/methods/user", Imports: []string{mod + "/methods/user/wire", mod + "/core/accounts", mod + "/rpc"}},
		{ImportPath: mod + "/core/fault", Imports: []string{"errors", "fmt"}},
		{ImportPath: mod + "/internal/testkit", Imports: []string{mod + "/cmd/partnergate/gateway", mod + "/client"}},
		{ImportPath: mod + "/cmd/partnergate", Imports: []string{mod + "/cmd/partnergate/gateway"}},
		{ImportPath: mod + "/methods/resource", Imports: []string{mod + "/methods/barong", mod + "/methods/barong/barongwire"}},
	}
	for _, p := range good {
		if v := violations([]pkg{p}); len(v) != 0 {
			t.Errorf("%s: %v", p.ImportPath, v)
		}
	}
}
