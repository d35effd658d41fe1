package resource_test

// FuzzOTPParams drives the params of resource.otp.* through the
// transport's strict decoder (rpc.Handler.Call), each registered on an
// echo method with the real method's name and positional order, under
// rpctest.CheckParams' oracle: no panic, nothing accepted that
// encoding/json would read differently, no member but the type's own, every
// required member present, every string maximum kept. The code itself is
// fuzzed by core/otp's FuzzParseCode.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"partnergate/methods/resource"
	"partnergate/methods/resource/resourcewire"
	"partnergate/rpc"
	"partnergate/rpc/rpctest"
)

type otpEcho[P any] struct{}

func (otpEcho[P]) Call(_ *http.Request, p *P, res *P) error { *res = *p; return nil }

var otpEchoes = map[string]any{
	"resource.otp.generate_qrcode": otpEcho[resourcewire.OTPEmpty]{},
	"resource.otp.enable":          otpEcho[resourcewire.OTPCodeParams]{},
	"resource.otp.disable":         otpEcho[resourcewire.OTPCodeParams]{},
	"resource.otp.verify":          otpEcho[resourcewire.OTPCodeParams]{},
}

func otpEchoHandler(tb testing.TB) (*rpc.Handler, []*rpc.Method) {
	tb.Helper()
	real := rpc.NewRegistry(nil)
	if err := real.Register(&resource.OTP{}, (&resource.OTP{}).Methods()...); err != nil {
		tb.Fatal(err)
	}
	reg := rpc.NewRegistry(nil)
	for _, m := range real.Methods() {
		e, ok := otpEchoes[m.Name]
		if !ok {
			tb.Fatalf("%s has no echo: add otpEcho[%s]{} to otpEchoes", m.Name, m.Params().Name())
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
	if len(reg.Methods()) != len(otpEchoes) {
		tb.Fatalf("%d methods, %d echoes: remove echoes of methods that are gone", len(reg.Methods()), len(otpEchoes))
	}
	return rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()}), reg.Methods()
}

var otpParamsSeeds = []string{
	`{}`, `[]`, `{"code":"123456"}`, `["123456"]`, `["123456","x"]`, `{"code":""}`, `{"Code":"123456"}`,
	`{"code":"1","code":"2"}`, `{"code":123456}`, `{"code":null}`, `{"code":"ABCDE-FGHIJ-KLMNO-PQRST"}`,
	`{"code":"` + strings.Repeat("1", 65) + `"}`, "{\"code\":\"\\ud800\"}", `{"code":"123456","otp":true}`,
}

func FuzzOTPParams(f *testing.F) {
	h, ms := otpEchoHandler(f)
	for i, s := range otpParamsSeeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, sel uint8, raw []byte) {
		rpctest.CheckParams(t, h, ms[int(sel)%len(ms)], raw)
	})
}

func TestOTPParamsSeeds(t *testing.T) {
	h, ms := otpEchoHandler(t)
	for _, m := range ms {
		for _, s := range otpParamsSeeds {
			rpctest.CheckParams(t, h, m, []byte(s))
		}
	}
}
