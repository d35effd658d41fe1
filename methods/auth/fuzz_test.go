package auth

// FuzzParams drives every params type of the auth.* namespace (seed 001)
// through the transport's strict decoder (rpc.Handler.Call, the path every
// call takes), each registered on an echo method with the real method's
// name and positional order. It must never panic, and whatever it accepts must be
// exactly what encoding/json would make of the same object, hold only the
// type's own members (exact case, once each: no role, no state, no
// "Email" twice), carry every required member, and respect every declared
// string maximum. TestFuzzCoversEveryParamsType fails when a method is
// added without its params type here.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"partnergate/rpc"
)

// echo returns its params as its result, so the fuzzer sees the decoder's
// output and nothing else.
type echo[P any] struct{}

func (echo[P]) Call(_ *http.Request, p *P, res *P) error { *res = *p; return nil }

// services are the namespace's receivers, zero-valued: registering them
// only reads their method declarations.
func services() []interface{ Methods() []rpc.Method } {
	return []interface{ Methods() []rpc.Method }{&Service{}}
}

// echoes maps each method to an echo of its params type.
var echoes = map[string]any{
	"auth.registerUser":              echo[RegisterUserParams]{},
	"auth.getUserByEmailAndPassword": echo[GetUserParams]{},
}

// realMethods registers the real services and returns their methods.
func realMethods(tb testing.TB) []*rpc.Method {
	tb.Helper()
	reg := rpc.NewRegistry(nil)
	for _, s := range services() {
		if err := reg.Register(s, s.Methods()...); err != nil {
			tb.Fatal(err)
		}
	}
	return reg.Methods()
}

// echoHandler registers an echo per real method, same name, same
// positional order, and returns the transport over them.
func echoHandler(tb testing.TB) (*rpc.Handler, []*rpc.Method) {
	tb.Helper()
	reg := rpc.NewRegistry(nil)
	for _, m := range realMethods(tb) {
		e, ok := echoes[m.Name]
		if !ok {
			tb.Fatalf("%s has no echo: add echo[%s]{} to echoes", m.Name, m.Params().Name())
		}
		if err := reg.Register(e, rpc.Method{Name: m.Name, Go: "Call", Access: rpc.Public, RateClass: rpc.NoLimit,
			Doc: "fuzz echo", Positional: m.Positional}); err != nil {
			tb.Fatal(err)
		}
		em, _ := reg.Lookup(m.Name)
		if em.Params() != m.Params() {
			tb.Fatalf("%s: echo decodes %s, the method %s", m.Name, em.Params(), m.Params())
		}
	}
	return rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()}), reg.Methods()
}

func TestFuzzCoversEveryParamsType(t *testing.T) {
	_, ms := echoHandler(t)
	if len(ms) != len(echoes) {
		t.Fatalf("%d methods, %d echoes: remove echoes of methods that are gone", len(ms), len(echoes))
	}
}

var paramsSeeds = []string{
	`{}`, `[]`, `{"email":"a@example.com","password":"correct horse battery staple","firstName":"A","lastName":"B"}`,
	`["a@example.com","pw","A","B"]`, `["a@example.com","pw","A","B","extra"]`, `{"email":"a@example.com","password":"x"}`,
	`{"email":"a@example.com"}`, `{"password":"x"}`, `{"EMAIL":"a","password":"x"}`, `{"email":"a","Email":"b","password":"x"}`,
	`{"email":"a","password":"x","role":"admin"}`, `{"email":"a","password":"x","emailVerified":true}`,
	`{"email":"a","password":"x","isDisabled":false}`, `{"email":1,"password":"x"}`, `{"email":null,"password":null}`,
	"{\"email\":\"\\ud800\",\"password\":\"x\"}", "{\"email\":\"a\\u0000\",\"password\":\"x\"}",
	`{"email":"` + strings.Repeat("a", 255) + `","password":"x"}`, `{"email":"a","password":"` + strings.Repeat("é", 1025) + `"}`,
	`{"email":"a","password":"x","firstName":{"a":[1]}}`,
}

func FuzzParams(f *testing.F) {
	h, ms := echoHandler(f)
	for i, s := range paramsSeeds {
		for j := range ms {
			if (i+j)%3 == 0 {
				f.Add(uint8(j), []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, raw []byte) {
		checkParams(t, h, ms[int(sel)%len(ms)], raw)
	})
}

// checkParams is the oracle, shared with the seed test below.
func checkParams(t *testing.T, h *rpc.Handler, m *rpc.Method, raw []byte) {
	raw = bytes.TrimSpace(raw)
	// What the transport lets through to decoding: a valid JSON object or
	// array (the outer checks refuse the rest before any method is found).
	if !json.Valid(raw) || (raw[0] != '{' && raw[0] != '[') {
		return
	}
	c := &rpc.Caller{Kind: rpc.CallerNone, RequestID: "fuzz"}
	env, perr := h.Call(context.Background(), c, m.Name, raw)
	if perr != nil {
		if perr.Code != rpc.CodeInvalidParams {
			t.Fatalf("%s %q: JSON-RPC error %d %v", m.Name, raw, perr.Code, perr.Data)
		}
		return
	}
	if env == nil || env.Error.Status {
		t.Fatalf("%s %q: echo failed: %+v", m.Name, raw, env)
	}
	if raw[0] == '[' {
		return // positional: mapped to members by the transport
	}
	got := reflect.ValueOf(env.Data).Elem().Interface()
	want := reflect.New(m.Params())
	if err := json.Unmarshal(raw, want.Interface()); err != nil {
		t.Fatalf("%s %q: strict decoding accepted what encoding/json refuses: %v", m.Name, raw, err)
	}
	if !reflect.DeepEqual(got, want.Elem().Interface()) {
		t.Fatalf("%s %q: strict decoding gave %+v, encoding/json %+v", m.Name, raw, got, want.Elem().Interface())
	}
	fields := jsonFields(m.Params())
	keys := topKeys(t, raw)
	for i, k := range keys {
		if _, ok := fields[k]; !ok {
			t.Fatalf("%s %q: accepted member %q, which %s does not declare", m.Name, raw, k, m.Params())
		}
		for _, other := range keys[:i] {
			if strings.EqualFold(k, other) {
				t.Fatalf("%s %q: accepted %q twice", m.Name, raw, k)
			}
		}
	}
	for name, f := range fields {
		if f.required && !contains(keys, name) {
			t.Fatalf("%s %q: accepted without required %q", m.Name, raw, name)
		}
	}
	checkStrings(t, m.Name, raw, want.Elem())
}

type fieldRule struct {
	required bool
	max      int
}

func rules(tag string) fieldRule {
	r := fieldRule{max: rpc.DefaultMaxString}
	for _, part := range strings.Split(tag, ",") {
		if part == "required" {
			r.required = true
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(part, "max=")); err == nil && strings.HasPrefix(part, "max=") {
			r.max = n
		}
	}
	return r
}

func jsonFields(t reflect.Type) map[string]fieldRule {
	out := map[string]fieldRule{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = rules(f.Tag.Get("rpc"))
	}
	return out
}

// checkStrings holds every string member (and string array element) to its
// declared maximum, in code points, and to valid UTF-8 without NUL.
func checkStrings(t *testing.T, method string, raw []byte, v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		r := rules(f.Tag.Get("rpc"))
		var strs []string
		fv := v.Field(i)
		for fv.Kind() == reflect.Pointer && !fv.IsNil() {
			fv = fv.Elem()
		}
		switch {
		case fv.Kind() == reflect.String:
			strs = append(strs, fv.String())
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			for j := 0; j < fv.Len(); j++ {
				strs = append(strs, fv.Index(j).String())
			}
		}
		for _, s := range strs {
			if n := utf8.RuneCountInString(s); n > r.max || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("%s %q: member %s accepted with %d code points (max %d), valid UTF-8 %v", method, raw, f.Name, n, r.max, utf8.ValidString(s))
			}
		}
	}
}

// topKeys lists the object's member names in order, duplicates included.
func topKeys(t *testing.T, raw []byte) []string {
	d := json.NewDecoder(bytes.NewReader(raw))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestParamsSeeds runs the oracle over the seeds on every method, so `make
// test` checks it without fuzzing.
func TestParamsSeeds(t *testing.T) {
	h, ms := echoHandler(t)
	for _, m := range ms {
		for _, s := range paramsSeeds {
			checkParams(t, h, m, []byte(s))
		}
	}
}
