package rpc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"partnergate/rpc"
)

const pingBody = `{"jsonrpc":"2.0","method":"get_data","id":1}`

// BenchmarkHandler is one call through the transport in process: codec,
// dispatch, envelope, metrics; logging off as in a quiet server.
func BenchmarkHandler(b *testing.B) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		b.Fatal(err)
	}
	h := rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()})
	benchBody(b, h, pingBody)
}

// BenchmarkBareHandler is the baseline: decode the same request with
// encoding/json and encode the same reply, nothing else.
func BenchmarkBareHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JSONRPC string          `json:"jsonrpc"`
			Method  string          `json:"method"`
			Params  json.RawMessage `json:"params"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
			"result": map[string]any{"data": []any{"hello", 5}, "error": map[string]any{"status": false, "code": 0, "message": ""}}})
	})
	benchBody(b, h, pingBody)
}

// BenchmarkHandlerParams adds strict params decoding.
func BenchmarkHandlerParams(b *testing.B) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		b.Fatal(err)
	}
	h := rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()})
	benchBody(b, h, `{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":1}`)
}

// BenchmarkBatch100 is a batch of 100 calls in one request.
func BenchmarkBatch100(b *testing.B) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		b.Fatal(err)
	}
	h := rpc.NewHandler(rpc.Config{Registry: reg, Log: zerolog.Nop()})
	calls := make([]string, 100)
	for i := range calls {
		calls[i] = pingBody
	}
	benchBody(b, h, "["+strings.Join(calls, ",")+"]")
}

func benchBody(b *testing.B, h http.Handler, body string) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkHandlerLogged is BenchmarkHandler with the server's logger: info
// level and a timestamp, one line per call (to io.Discard, so no syscall).
func BenchmarkHandlerLogged(b *testing.B) {
	reg := rpc.NewRegistry(prometheus.NewRegistry())
	if err := reg.Register(arith{}, testMethods()...); err != nil {
		b.Fatal(err)
	}
	log := zerolog.New(io.Discard).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	h := rpc.NewHandler(rpc.Config{Registry: reg, Log: log, LogOut: io.Discard})
	benchBody(b, h, pingBody)
}
