package rpc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

type FuzzParams struct {
	Email  string            `json:"email" rpc:"max=254"`
	N      int               `json:"n"`
	Tags   []string          `json:"tags"`
	Nested *FuzzParams       `json:"nested"`
	Map    map[string]string `json:"map"`
	Any    any               `json:"any"`
}

type FuzzSvc struct{}

func (FuzzSvc) Echo(_ *http.Request, p *FuzzParams, res *FuzzParams) error { *res = *p; return nil }

var fuzzSeeds = []string{
	`{"jsonrpc":"2.0","method":"f.echo","params":{"email":"a@b.c","n":1},"id":1}`,
	`[{"jsonrpc":"2.0","method":"f.echo","params":["a@b.c",2],"id":"x"},{"jsonrpc":"2.0","method":"f.echo"}]`,
	`[]`, `[1,2]`, `{"jsonrpc":"2.0","method":"f.echo","params":{"nested":{"nested":{"n":1}}},"id":null}`,
	`{"jsonrpc":"2.0","method":"f.echo","params":{"map":{"a":"1","A":"2"}},"id":1}`,
	"{\"jsonrpc\":\"2.0\",\"method\":\"f.echo\",\"params\":{\"email\":\"\\ud800\"},\"id\":1}",
	`{"jsonrpc":"2.0","method":"f.echo","params":{"any":[[[[{"a":{"b":"c"}}]]]]},"id":1}`,
	`   `, `"str"`, `{"jsonrpc":"2.0","method":"f.echo","params":{"email":"a"},"id":1} x`,
}

// FuzzHandler posts arbitrary bodies through the whole transport: it must
// never panic, and must always answer valid JSON (or 204 with no body).
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	reg := NewRegistry(nil)
	if err := reg.Register(FuzzSvc{}, Method{Name: "f.echo", Go: "Echo", Access: Public, RateClass: NoLimit, Doc: "echo", Positional: []string{"email", "n"}}); err != nil {
		f.Fatal(err)
	}
	h := NewHandler(Config{Registry: reg, Log: zerolog.Nop(), Limits: Limits{MaxBody: 1 << 16, MaxBatch: 10, MaxDepth: 8}})
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/rpc", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusNoContent {
			if w.Body.Len() != 0 {
				t.Fatalf("204 with a body")
			}
			return
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("reply is not JSON: %q", w.Body.String())
		}
	})
}

// FuzzSplit checks the scanner against encoding/json: for any valid array,
// eachElem yields exactly the elements json.Unmarshal finds.
func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		i := skipSpace(body, 0)
		if body[i] != '[' {
			if body[i] == '{' {
				var want map[string]json.RawMessage
				_ = json.Unmarshal(body, &want)
				n := 0
				_ = eachMember(body[i:], func(k, v []byte) error {
					if !json.Valid(v) || !json.Valid(k) {
						t.Fatalf("member %q: %q not valid", k, v)
					}
					n++
					return nil
				})
				if n < len(want) {
					t.Fatalf("eachMember saw %d members, json saw %d distinct", n, len(want))
				}
			}
			return
		}
		var want []json.RawMessage
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		_ = eachElem(body[i:], func(v []byte) error { got = append(got, v); return nil })
		if len(got) != len(want) {
			t.Fatalf("split %d elements, json %d: %q", len(got), len(want), body)
		}
		for k := range got {
			if string(got[k]) != strings.TrimSpace(string(want[k])) {
				t.Fatalf("element %d: %q vs %q", k, got[k], want[k])
			}
		}
		if d := maxDepth(body); d < 1 {
			t.Fatalf("depth %d for an array", d)
		}
	})
}

// FuzzDecodeParams: strict decoding never panics, and what it accepts
// encoding/json accepts too.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{`{"email":"a","n":1}`, `{"tags":["a","b"],"map":{"x":"y"}}`, `{"nested":{"email":"x"}}`, `{"Email":"a"}`, `{"any":{"a":1,"a":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		i := skipSpace(raw, 0)
		if raw[i] != '{' {
			return
		}
		raw = raw[i:endOfValue(raw, i)]
		var p FuzzParams
		if err := decodeParams(raw, &p); err == nil {
			var q FuzzParams
			if err := json.Unmarshal(raw, &q); err != nil {
				t.Fatalf("strict accepted what json refuses: %v", err)
			}
		}
	})
}
