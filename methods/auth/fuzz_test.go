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
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"partnergate/methods/auth/authwire"
	"partnergate/rpc"
	"partnergate/rpc/rpctest"
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
	"auth.registerUser":              echo[authwire.RegisterUserParams]{},
	"auth.getUserByEmailAndPassword": echo[authwire.GetUserParams]{},
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
		rpctest.CheckParams(t, h, ms[int(sel)%len(ms)], raw)
	})
}

// TestParamsSeeds runs the oracle over the seeds on every method, so `make
// test` checks it without fuzzing.
func TestParamsSeeds(t *testing.T) {
	h, ms := echoHandler(t)
	for _, m := range ms {
		for _, s := range paramsSeeds {
			rpctest.CheckParams(t, h, m, []byte(s))
		}
	}
}
