package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"partnergate/core/fault"
	"partnergate/rpc"
)

// arith is a test service with the specification's example methods.
type arith struct{}

type SubParams struct {
	Minuend    int `json:"minuend"`
	Subtrahend int `json:"subtrahend"`
}

func (arith) Subtract(_ *http.Request, p *SubParams, res *int) error {
	*res = p.Minuend - p.Subtrahend
	return nil
}

type SumParams struct {
	A, B, C int
}

func (arith) Sum(_ *http.Request, p *SumParams, res *int) error {
	*res = p.A + p.B + p.C
	return nil
}

type AnyParams struct {
	V []int `json:"v"`
}

func (arith) Nop(_ *http.Request, _ *AnyParams, res *bool) error { *res = true; return nil }

type Empty struct{}

func (arith) GetData(_ *http.Request, _ *Empty, res *[]any) error {
	*res = []any{"hello", 5}
	return nil
}

func (arith) Panics(_ *http.Request, _ *Empty, _ *Empty) error { panic("boom") }

func (arith) Fails(_ *http.Request, _ *Empty, _ *Empty) error { return fault.New(fault.NotFound) }

func (arith) Internal(_ *http.Request, _ *Empty, _ *Empty) error {
	return errors.New("db exploded with secret hunter2")
}

type EchoParams struct {
	Text   string         `json:"text" rpc:"max=10"`
	Nested map[string]any `json:"nested"`
}

func (arith) Echo(_ *http.Request, p *EchoParams, res *string) error { *res = p.Text; return nil }

type NeedsParams struct {
	Name string `json:"name" rpc:"required"`
}

func (arith) Needs(_ *http.Request, p *NeedsParams, res *string) error { *res = p.Name; return nil }

func (arith) Private(_ *http.Request, _ *Empty, res *string) error {
	*res = "secret data"
	return nil
}

func testMethods() []rpc.Method {
	ms := []rpc.Method{
		{Name: "subtract", Go: "Subtract", Access: rpc.Public, Doc: "a-b", Positional: []string{"minuend", "subtrahend"}},
		{Name: "sum", Go: "Sum", Access: rpc.Public, Doc: "sum", Positional: []string{"A", "B", "C"}},
		{Name: "update", Go: "Nop", Access: rpc.Public, Doc: "nop", Positional: []string{"v"}},
		{Name: "notify_sum", Go: "Sum", Access: rpc.Public, Doc: "sum", Positional: []string{"A", "B", "C"}},
		{Name: "notify_hello", Go: "Nop", Access: rpc.Public, Doc: "nop", Positional: []string{"v"}},
		{Name: "get_data", Go: "GetData", Access: rpc.Public, Doc: "data"},
		{Name: "panics", Go: "Panics", Access: rpc.Public, Doc: "panics"},
		{Name: "fails", Go: "Fails", Access: rpc.Public, Doc: "fails"},
		{Name: "internal", Go: "Internal", Access: rpc.Public, Doc: "internal"},
		{Name: "echo", Go: "Echo", Access: rpc.Public, Doc: "echo"},
		{Name: "needs", Go: "Needs", Access: rpc.Public, Doc: "needs a name"},
		{Name: "user.settings.get", Go: "Private", Access: rpc.SessionUser, Doc: "session"},
		{Name: "auth.private", Go: "Private", Access: rpc.PartnerScope, Doc: "partner"},
		{Name: "admin.users.list", Go: "Private", Access: rpc.AdminPermission, Permission: "users.read", Doc: "admin"},
	}
	for i := range ms {
		ms[i].RateClass = rpc.NoLimit
	}
	return ms
}

// headerAuth trusts X-Test-Caller: a stand-in for the real authenticator,
// which has its own tests; here only the transport's policy is under test.
type headerAuth struct{}

func (headerAuth) Authenticate(_ context.Context, r *http.Request, _ []byte, c *rpc.Caller) error {
	switch r.Header.Get("X-Test-Caller") {
	case "user":
		c.Kind, c.UserID = rpc.CallerUser, "u1"
	case "admin":
		c.Kind, c.UserID = rpc.CallerUser, "admin1"
	case "partner":
		c.Kind, c.PartnerKID, c.Scopes = rpc.CallerPartner, "pk", []string{"auth"}
	case "partner-other":
		c.Kind, c.PartnerKID, c.Scopes = rpc.CallerPartner, "pk2", []string{"authx", "user"}
	case "bad":
		return fault.New(fault.SignatureInvalid)
	}
	return nil
}

type testServer struct {
	h   *rpc.Handler
	reg *rpc.Registry
	log *bytes.Buffer
}

// idGate admits by caller id alone: a stand-in for core/access's gate,
// which has its own tests; here only what the transport does with the
// gate's answer is under test.
type idGate struct{}

func (idGate) Admit(_ context.Context, m *rpc.Method, c *rpc.Caller) error {
	allowed := map[string][]string{
		"user.settings.get": {"u1", "admin1"},
		"auth.private":      {"pk"},
		"admin.users.list":  {"admin1"},
	}
	ids, guarded := allowed[m.Name]
	if !guarded {
		return nil
	}
	for _, id := range ids {
		if id == c.UserID || id == c.PartnerKID {
			return nil
		}
	}
	if c.Kind == rpc.CallerNone {
		return fault.New(fault.Unauthenticated)
	}
	return fault.New(fault.Forbidden)
}

func newTestServer(t testing.TB, limits rpc.Limits) *testServer {
	t.Helper()
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h := rpc.NewHandler(rpc.Config{
		Registry: reg, Auth: headerAuth{}, Gate: idGate{}, Log: zerolog.New(&log), Limits: limits,
	})
	return &testServer{h: h, reg: reg, log: &log}
}

func (s *testServer) post(t testing.TB, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("reply mismatch\n got: %s\nwant: %s", got, want)
	}
}

// TestSpecTranscripts replays testdata/spec.golden.
func TestSpecTranscripts(t *testing.T) {
	f, err := os.Open("testdata/spec.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newTestServer(t, rpc.DefaultLimits)
	sc := bufio.NewScanner(f)
	var req string
	n := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "-->"):
			req = strings.TrimSpace(strings.TrimPrefix(line, "-->"))
		case strings.HasPrefix(line, "<--"):
			want := strings.TrimSpace(strings.TrimPrefix(line, "<--"))
			n++
			w := s.post(t, "/rpc", req)
			if want == "204" {
				if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
					t.Errorf("%s\n want 204 with no body, got %d %q", req, w.Code, w.Body.String())
				}
				continue
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q", req, ct)
			}
			t.Run(req, func(t *testing.T) { jsonEqual(t, w.Body.String(), want) })
		}
	}
	if n < 30 {
		t.Fatalf("only %d transcripts read", n)
	}
}

func TestTransportFaults(t *testing.T) {
	s := newTestServer(t, rpc.Limits{MaxBody: 2048, MaxBatch: 3, MaxDepth: 5})
	deep := strings.Repeat("[", 6) + strings.Repeat("]", 6)
	big := `{"jsonrpc":"2.0","method":"echo","params":{"text":"` + strings.Repeat("a", 3000) + `"},"id":1}`
	cases := []struct {
		name, method, ctype, body string
		status                    int
		want                      string
	}{
		{"GET", http.MethodGet, "application/json", "", 405,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"HTTP method must be POST"},"id":null}`},
		{"form content type", http.MethodPost, "text/plain", `{}`, 415,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"Content-Type must be application/json"},"id":null}`},
		{"body too large", http.MethodPost, "application/json", big, 413,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request body exceeds 2048 bytes"},"id":null}`},
		{"too deep", http.MethodPost, "application/json", deep, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"JSON nesting depth 6 exceeds 5"},"id":null}`},
		{"batch too big", http.MethodPost, "application/json", `[1,2,3,4]`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch of 4 calls exceeds 3"},"id":null}`},
		{"invalid UTF-8 in params", http.MethodPost, "application/json", "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"text\":\"\xff\"},\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"field text: invalid UTF-8 or escape"},"id":1}`},
		{"invalid UTF-8 in method", http.MethodPost, "application/json", "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\",\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method is not valid UTF-8"},"id":1}`},
		{"uncoded error is internal", http.MethodPost, "application/json", `{"jsonrpc":"2.0","method":"internal","id":1}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}`},
		{"path style", http.MethodPost, "application/json", `{"minuend":5,"subtrahend":2}`, 200,
			`{"data":3,"error":{"status":false,"code":0,"message":""}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/rpc"
			if c.name == "path style" {
				path = rpc.PathPrefix + "subtract"
			}
			r := httptest.NewRequest(c.method, path, strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ctype)
			w := httptest.NewRecorder()
			s.h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			jsonEqual(t, w.Body.String(), c.want)
		})
	}
	if strings.Contains(s.log.String(), "hunter2") == false && !strings.Contains(s.log.String(), "db exploded") {
		t.Errorf("internal error cause not logged: %s", s.log.String())
	}
}

func TestPathStyle(t *testing.T) {
	s := newTestServer(t, rpc.DefaultLimits)
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"unknown method", rpc.PathPrefix + "nope", `{}`, 404,
			`{"data":null,"error":{"status":true,"code":-32601,"message":"Method not found"}}`},
		{"bad params", rpc.PathPrefix + "subtract", `{"x":1}`, 400,
			`{"data":null,"error":{"status":true,"code":-32602,"message":"Invalid params: field x: unknown field"}}`},
		{"not an object", rpc.PathPrefix + "subtract", `[1,2]`, 400,
			`{"data":null,"error":{"status":true,"code":-32600,"message":"Invalid Request: body must be the params object"}}`},
		{"parse error", rpc.PathPrefix + "subtract", `{`, 400,
			`{"data":null,"error":{"status":true,"code":-32700,"message":"Parse error"}}`},
		{"Empty body", rpc.PathPrefix + "get_data", ``, 200,
			`{"data":["hello",5],"error":{"status":false,"code":0,"message":""}}`},
		{"coded failure", rpc.PathPrefix + "fails", `{}`, 200,
			`{"data":null,"error":{"status":true,"code":2007,"message":"Not found."}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := s.post(t, c.path, c.body)
			if w.Code != c.status {
				t.Errorf("status %d, want %d", w.Code, c.status)
			}
			jsonEqual(t, w.Body.String(), c.want)
		})
	}
}

func TestAccessPolicy(t *testing.T) {
	s := newTestServer(t, rpc.DefaultLimits)
	ok, unauth, forbidden, refused := 0, int(fault.Unauthenticated), int(fault.Forbidden), int(fault.SignatureInvalid)
	cases := []struct {
		method string
		want   map[string]int // caller → envelope code
	}{
		{"user.settings.get", map[string]int{"": unauth, "user": ok, "admin": ok, "partner": forbidden, "bad": refused}},
		{"auth.private", map[string]int{"": unauth, "user": forbidden, "partner": ok, "partner-other": forbidden, "bad": refused}},
		{"admin.users.list", map[string]int{"": unauth, "user": forbidden, "admin": ok, "partner": forbidden, "bad": refused}},
		{"get_data", map[string]int{"": ok, "user": ok, "partner": ok, "bad": refused}},
	}
	for _, c := range cases {
		for caller, want := range c.want {
			w := s.post(t, "/rpc", `{"jsonrpc":"2.0","method":"`+c.method+`","id":1}`, "X-Test-Caller", caller)
			var resp struct {
				Result rpc.Envelope
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Result.Error.Code != want {
				t.Errorf("%s as %q: code %d, want %d", c.method, caller, resp.Result.Error.Code, want)
			}
			if want != ok && resp.Result.Data != nil {
				t.Errorf("%s as %q: refused call returned data %v", c.method, caller, resp.Result.Data)
			}
		}
	}
}

// A handler built without a gate admits public methods only; a gate's
// uncoded error is an internal failure, never "retry later".
func TestGateDefaultsAndFaults(t *testing.T) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		gate   rpc.Gate
		caller string
		method string
		code   int // envelope code, or the JSON-RPC error code when < 0
	}{
		{"no gate, public", nil, "", "get_data", 0},
		{"no gate, session method, anonymous", nil, "", "user.settings.get", int(fault.Unauthenticated)},
		{"no gate, session method, user", nil, "user", "user.settings.get", int(fault.Forbidden)},
		{"no gate, admin method, admin", nil, "admin", "admin.users.list", int(fault.Forbidden)},
		{"uncoded gate error", brokenGate{}, "user", "get_data", rpc.CodeInternal},
		{"authentication refusal wins", brokenGate{}, "bad", "get_data", int(fault.SignatureInvalid)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &testServer{h: rpc.NewHandler(rpc.Config{Registry: reg, Auth: headerAuth{}, Gate: c.gate, Log: zerolog.New(&log)}), reg: reg, log: &log}
			w := s.post(t, "/rpc", `{"jsonrpc":"2.0","method":"`+c.method+`","id":1}`, "X-Test-Caller", c.caller)
			var resp struct {
				Result *rpc.Envelope
				Error  *rpc.ProtocolError
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			got := 0
			switch {
			case resp.Error != nil:
				got = resp.Error.Code
			case resp.Result != nil:
				got = resp.Result.Error.Code
			}
			if got != c.code {
				t.Errorf("code %d, want %d (body %s)", got, c.code, w.Body.String())
			}
		})
	}
}

type brokenGate struct{}

func (brokenGate) Admit(context.Context, *rpc.Method, *rpc.Caller) error {
	return errors.New("gate: misconfigured")
}

func TestRegisterRefusesBadDeclarations(t *testing.T) {
	cases := []struct {
		name string
		m    rpc.Method
	}{
		{"no policy", rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Echo", Doc: "d"}},
		{"no doc", rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Echo", Access: rpc.Public}},
		{"no rate class", rpc.Method{Name: "x.y", Go: "Echo", Access: rpc.Public, Doc: "d"}},
		{"Empty segment", rpc.Method{RateClass: rpc.NoLimit, Name: "x..y", Go: "Echo", Access: rpc.Public, Doc: "d"}},
		{"missing Go method", rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Nope", Access: rpc.Public, Doc: "d"}},
		{"admin without permission", rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Echo", Access: rpc.AdminPermission, Doc: "d"}},
		{"bad positional", rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Echo", Access: rpc.Public, Doc: "d", Positional: []string{"zzz"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := rpc.NewRegistry(nil)
			if err := reg.Register(arith{}, c.m); err == nil {
				t.Fatal("registered")
			}
		})
	}
	reg := rpc.NewRegistry(nil)
	m := rpc.Method{RateClass: rpc.NoLimit, Name: "x.y", Go: "Echo", Access: rpc.Public, Doc: "d"}
	if err := reg.Register(arith{}, m); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(arith{}, m); err == nil {
		t.Fatal("same name registered twice")
	}
}

func TestLogAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := rpc.NewRegistry(reg)
	if err := r.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h := rpc.NewHandler(rpc.Config{Registry: r, Log: zerolog.New(&log)})
	body := `[{"jsonrpc":"2.0","method":"echo","params":{"text":"s3cr3tpass"},"id":1},{"jsonrpc":"2.0","method":"fails","id":2},{"jsonrpc":"2.0","method":"nope","id":3}]`
	req := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one log line per call, got %d:\n%s", len(lines), log.String())
	}
	if strings.Contains(log.String(), "s3cr3tpass") {
		t.Fatal("params reached the log")
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"rid", "method", "caller", "code", "dur"} {
			if _, ok := e[k]; !ok {
				t.Errorf("log line lacks %q: %s", k, l)
			}
		}
	}
	n, err := testutil.GatherAndCount(reg, "partnergate_rpc_calls_total")
	if err != nil || n == 0 {
		t.Fatalf("calls metric: %d %v", n, err)
	}
	fails := `
# HELP partnergate_rpc_errors_total Calls that failed, by method and error code (envelope or JSON-RPC).
# TYPE partnergate_rpc_errors_total counter
partnergate_rpc_errors_total{code="-32601",method="_unknown"} 1
partnergate_rpc_errors_total{code="2007",method="fails"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fails), "partnergate_rpc_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestDiscovery(t *testing.T) {
	reg := rpc.NewRegistry(nil)
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	d, err := rpc.NewDiscovery(reg, rpc.Info{Title: "t", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	d.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openrpc.json", nil))
	var doc struct {
		OpenRPC string `json:"openrpc"`
		Methods []struct {
			Name   string `json:"name"`
			Params []struct {
				Name   string      `json:"name"`
				Schema *rpc.Schema `json:"schema"`
			} `json:"params"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenRPC, "1.") || len(doc.Methods) != len(testMethods())+1 {
		t.Fatalf("document: %s", w.Body.String())
	}
	for _, m := range doc.Methods {
		if m.Name == "echo" {
			if m.Params[1].Name != "text" || m.Params[1].Schema.MaxLength != 10 {
				t.Errorf("echo params: %+v", m.Params)
			}
		}
	}
	io.Discard.Write(nil)
}

// countingWriter counts writes, as a log sink.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// TestBatchLogsInOneWrite: a batch's lines reach the log writer at once.
func TestBatchLogsInOneWrite(t *testing.T) {
	reg := rpc.NewRegistry(nil)
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	var out countingWriter
	h := rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.New(&out), LogOut: &out})
	body := `[{"jsonrpc":"2.0","method":"get_data","id":1},{"jsonrpc":"2.0","method":"fails","id":2},{"jsonrpc":"2.0","method":"nope","id":3}]`
	r := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(body))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if lines := strings.Count(out.String(), "\n"); out.writes != 1 || lines != 3 {
		t.Fatalf("%d writes holding %d lines, want 1 write of 3", out.writes, lines)
	}
	r = httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(`{"jsonrpc":"2.0","method":"get_data","id":1}`))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if out.writes != 2 {
		t.Fatalf("single call: %d writes in all", out.writes)
	}
}

// TestAuditHook: the hook hears every admitted call once, after it ran,
// with its params and outcome code; refused calls never reach it.
func TestAuditHook(t *testing.T) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		t.Fatal(err)
	}
	type heard struct {
		method, params string
		code           int
	}
	var got []heard
	h := rpc.NewHandler(rpc.Config{Registry: reg, Auth: headerAuth{}, Gate: idGate{}, Log: zerolog.Nop(),
		Audit: func(_ context.Context, m *rpc.Method, _ *rpc.Caller, params []byte, code int) {
			got = append(got, heard{m.Name, string(params), code})
		}})
	s := &testServer{h: h, reg: reg}
	s.post(t, "/rpc", `[{"jsonrpc":"2.0","method":"echo","params":{"text":"hi"},"id":1},`+
		`{"jsonrpc":"2.0","method":"fails","id":2},`+
		`{"jsonrpc":"2.0","method":"echo","params":{"bogus":1},"id":3},`+
		`{"jsonrpc":"2.0","method":"admin.users.list","id":4},`+
		`{"jsonrpc":"2.0","method":"nosuch","id":5}]`, "X-Test-Caller", "user")
	want := []heard{
		{"echo", `{"text":"hi"}`, 0},
		{"fails", "", int(fault.NotFound)},
		{"echo", `{"bogus":1}`, rpc.CodeInvalidParams},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("heard %+v, want %+v", got, want)
	}
}
