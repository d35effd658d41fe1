package rpc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"partnergate/rpc"
)

// TestMediaTypeVariantsReachTheMethod: every Content-Type the transport
// accepts runs the method. Through gorilla's ServeHTTP, which reparsed the
// header its own way, "application/json ; charset=utf-8" skipped the method
// and answered success with null data.
func TestMediaTypeVariantsReachTheMethod(t *testing.T) {
	s := newTestServer(t, rpc.DefaultLimits)
	for _, ct := range []string{"", "application/json", "Application/JSON", "application/json;charset=utf-8", "application/json ; charset=utf-8"} {
		r := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(`{"jsonrpc":"2.0","method":"subtract","params":[5,3],"id":1}`))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		jsonEqual(t, w.Body.String(), `{"jsonrpc":"2.0","result":{"data":2,"error":{"status":false,"code":0,"message":""}},"id":1}`)
	}
}

// TestBatchCallsShareNothingButTheCaller: the calls of a batch each get their
// own params and reply.
func TestBatchCallsShareNothingButTheCaller(t *testing.T) {
	s := newTestServer(t, rpc.DefaultLimits)
	w := s.post(t, "/rpc", `[{"jsonrpc":"2.0","method":"subtract","params":[5,3],"id":1},`+
		`{"jsonrpc":"2.0","method":"panics","id":2},`+
		`{"jsonrpc":"2.0","method":"subtract","params":{"minuend":9},"id":3},`+
		`{"jsonrpc":"2.0","method":"fails","id":4}]`)
	jsonEqual(t, w.Body.String(), `[{"jsonrpc":"2.0","result":{"data":2,"error":{"status":false,"code":0,"message":""}},"id":1},`+
		`{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":2},`+
		`{"jsonrpc":"2.0","result":{"data":9,"error":{"status":false,"code":0,"message":""}},"id":3},`+
		`{"jsonrpc":"2.0","result":{"data":null,"error":{"status":true,"code":2007,"message":"Not found."}},"id":4}]`)
}
