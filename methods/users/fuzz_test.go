package users

// FuzzParams drives every params type of users.* (DeviceInfo and the
// photo reference nested inside them) through the transport's strict
// decoder, each on an echo method with the real method's name and
// positional order: never a panic, and whatever is accepted agrees with
// encoding/json, holds only the type's own members, every required one and
// every string within its maximum (rpctest.CheckParams). What the core
// then parses (devices, push tokens) is fuzzed in core/accounts.

import (
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"partnergate/core/photos"
	"partnergate/methods/users/userswire"
	"partnergate/rpc"
	"partnergate/rpc/rpctest"
)

type echo[P any] struct{}

func (echo[P]) Call(_ *http.Request, p *P, res *P) error { *res = *p; return nil }

var echoes = map[string]any{
	"users.register":          echo[userswire.RegisterParams]{},
	"users.login":             echo[userswire.LoginParams]{},
	"users.me":                echo[userswire.Empty]{},
	"users.me.logout":         echo[userswire.Empty]{},
	"users.me.changePassword": echo[userswire.ChangePasswordParams]{},
	"users.me.setAccountKey":  echo[userswire.SetAccountKeyParams]{},
	"users.resetPassword":     echo[userswire.ResetPasswordParams]{},
	"users.me.update":         echo[userswire.UpdateParams]{},
	"users.me.device.update":  echo[userswire.DeviceUpdateParams]{},
	"users.me.devices.list":   echo[userswire.Empty]{},
	"users.me.devices.delete": echo[userswire.DevicesDeleteParams]{},
	"users.me.delete":         echo[userswire.DeleteParams]{},
	"users.get":               echo[userswire.GetParams]{},
	"users.search":            echo[userswire.SearchParams]{},
	"users.me.photos.add":     echo[userswire.PhotosAddParams]{},
	"users.me.photos.delete":  echo[userswire.PhotosDeleteParams]{},
}

func echoHandler(tb testing.TB) (*rpc.Handler, []*rpc.Method) {
	tb.Helper()
	real := rpc.NewRegistry(nil)
	svc := &Service{Photos: &photos.Service{}}
	if err := real.Register(svc, svc.Methods()...); err != nil {
		tb.Fatal(err)
	}
	reg := rpc.NewRegistry(nil)
	for _, m := range real.Methods() {
		e, ok := echoes[m.Name]
		if !ok {
			tb.Fatalf("%s has no echo: add echo[%s]{} to echoes", m.Name, m.Params().Name())
		}
		if err := reg.Register(e, rpc.Method{Name: m.Name, Go: "Call", Access: rpc.Public, RateClass: rpc.NoLimit,
			Doc: "fuzz echo", Positional: m.Positional}); err != nil {
			tb.Fatal(err)
		}
		if em, _ := reg.Lookup(m.Name); em.Params() != m.Params() {
			tb.Fatalf("%s: echo decodes %s, the method %s", m.Name, em.Params(), m.Params())
		}
	}
	if len(reg.Methods()) != len(echoes) {
		tb.Fatalf("%d methods, %d echoes: remove echoes of methods that are gone", len(reg.Methods()), len(echoes))
	}
	return rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()}), reg.Methods()
}

var paramsSeeds = []string{
	`{}`, `[]`,
	`{"name":"Ann","username":"ann","password":"correct horse battery staple","deviceInfo":{"deviceId":"d1","deviceName":"phone","deviceModel":"x","deviceToken":"00"}}`,
	`{"deviceInfo":{"deviceId":"d1"},"otpCode":"123456"}`, `{"deviceInfo":{"deviceId":"d1","DeviceId":"d2"}}`,
	`{"deviceInfo":{"deviceId":"d1","extra":1}}`, `{"deviceInfo":"d1"}`, `{"deviceInfo":null}`,
	`{"oldPassword":"a","newPassword":"b"}`, `{"userId":7,"accountKey":"k","newPassword":"p"}`, `{"userId":"u","accountKey":"k","newPassword":"p"}`,
	`{"name":null,"about":"x"}`, `{"deviceName":"n","deviceToken":""}`, `{"deviceId":"d"}`, `["d"]`, `{"id":"x"}`,
	`{"s":"ab","limit":50,"offset":0}`, `{"s":"ab","limit":1e400}`, `["ab"]`,
	`{"photo":{"id":"f","fileType":"png","fileSize":100000}}`, `{"photo":{"id":"f","fileSize":-1}}`, `{"photo":[]}`,
	"{\"name\":\"\\ud800\"}", "{\"about\":\"a\\u0000b\"}", `{"role":"admin"}`,
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

// TestParamsSeeds runs the oracle over the seeds on every method.
func TestParamsSeeds(t *testing.T) {
	h, ms := echoHandler(t)
	for _, m := range ms {
		for _, s := range paramsSeeds {
			rpctest.CheckParams(t, h, m, []byte(s))
		}
	}
}
