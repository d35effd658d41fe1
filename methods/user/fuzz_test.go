package user

// FuzzParams drives every params type of the user.* namespace through the
// transport's strict decoder (rpc.Handler.Call, the path every call takes),
// each registered on an echo method with the real method's name and
// positional order. It must never panic, and whatever it accepts must be
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

	"partnergate/methods/user/userwire"
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
	return []interface{ Methods() []rpc.Method }{
		&Auth{}, &Settings{}, &Products{}, &Tracking{}, &Data{}, &Blocks{}, &Socket{},
	}
}

// echoes maps each method to an echo of its params type.
var echoes = map[string]any{
	"user.auth.registration":   echo[userwire.RegistrationParams]{},
	"user.auth.verify":         echo[userwire.VerifyParams]{},
	"user.auth.resend":         echo[userwire.ResendParams]{},
	"user.auth.login":          echo[userwire.LoginParams]{},
	"user.auth.check":          echo[userwire.Empty]{},
	"user.auth.recovery":       echo[userwire.RecoveryParams]{},
	"user.auth.recovery_done":  echo[userwire.RecoveryDoneParams]{},
	"user.auth.delete":         echo[userwire.Empty]{},
	"user.auth.delete_done":    echo[userwire.DeleteDoneParams]{},
	"user.settings.get":        echo[userwire.Empty]{},
	"user.settings.set":        echo[userwire.SetParams]{},
	"user.products.get":        echo[userwire.ProductsGetParams]{},
	"user.products.activate":   echo[userwire.ProductsChangeParams]{},
	"user.products.deactivate": echo[userwire.ProductsChangeParams]{},
	"user.tracking.set":        echo[userwire.TrackingSetParams]{},
	"user.data.backup":         echo[userwire.DataBackupParams]{},
	"user.auth.block":          echo[userwire.BlocksParams]{},
	"user.auth.websocket":      echo[userwire.SocketTicketParams]{},
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
	`{}`, `[]`, `{"email":"a@example.com","password":"correct horse battery staple","name":"A","lang":"en"}`,
	`{"user_id":"0195","email_code":"123456"}`, `{"code":"123456"}`, `{"login":"a@example.com","password":"x"}`,
	`["a@example.com","pw"]`, `{"token":"t","code":"123456"}`, `{"first_name":"A","sex":1,"news":true,"birthday":631152000,"dating.model":"m"}`,
	`{"role":"admin"}`, `{"Role":"admin"}`, `{"first_name":"a","First_Name":"b"}`, `{"email":"a","email":"b"}`,
	`{"state":"active","email_verified":true}`, `{"product_id":"webstat"}`, `{"location":[1.5,2.5],"screen":[1,2],"web_uri":["https://x"]}`,
	`{"battery_charge":50,"provider_quality":0.5}`, `{"id":"x","reason":3}`, `{"password":"123456"}`,
	"{\"email\":\"\\ud800\"}", "{\"name\":\"a\\u0000b\"}", `{"lang":"` + strings.Repeat("x", 3) + `"}`,
	`{"first_name":{"a":1}}`, `{"sex":"1"}`, `{"sex":1e400}`, `{"birthday":-1}`, `{"location":[[1]]}`,
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
