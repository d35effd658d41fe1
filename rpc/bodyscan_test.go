package rpc

import (
	"encoding/json"
	"strings"
	"testing"
)

// oldScan is what the transport did before bodyScan, four walks: depth,
// validity, the batch split and each call's members. The fuzz target holds
// the pass to it, and BenchmarkScanBody measures one against the other.
func oldScan(b []byte, limit int) (scanResult, [][]byte, [][][2][]byte) {
	i := skipSpace(b, 0)
	if maxDepth(b) > limit {
		return scanDeep, nil, nil
	}
	if i == len(b) {
		return scanEmpty, nil, nil
	}
	if !json.Valid(b) {
		return scanBad, nil, nil
	}
	var calls [][]byte
	if b[i] == '[' {
		_ = eachElem(b[i:], func(v []byte) error { calls = append(calls, v); return nil })
	} else {
		calls = [][]byte{b[i:endOfValue(b, i)]}
	}
	members := make([][][2][]byte, len(calls))
	for k, c := range calls {
		if c[0] == '{' {
			_ = eachMember(c, func(q, v []byte) error { members[k] = append(members[k], [2][]byte{q, v}); return nil })
		}
	}
	return scanOK, calls, members
}

var scanCases = []struct {
	name string
	body string
	want scanResult
}{
	{"call", `{"jsonrpc":"2.0","method":"m","params":{"a":[1,2.5e-3,true,null]},"id":1}`, scanOK},
	{"batch", ` [ {"id":1} , 5 , "s" ] `, scanOK},
	{"empty batch", `[]`, scanOK},
	{"empty", " \n\t", scanEmpty},
	{"scalar", `-0.5E+10`, scanOK},
	{"escapes", `{"k\u00e9\n":"\"\\\/\b\f\r\t"}`, scanOK},
	{"trailing garbage", `{} x`, scanBad},
	{"two values", `{} {}`, scanBad},
	{"trailing comma", `[1,]`, scanBad},
	{"leading zero", `01`, scanBad},
	{"bare minus", `-`, scanBad},
	{"dot without digits", `1.`, scanBad},
	{"exponent without digits", `1e+`, scanBad},
	{"control character", "\"a\x01\"", scanBad},
	{"bad escape", `"\x"`, scanBad},
	{"short unicode escape", `"\u12"`, scanBad},
	{"unterminated", `{"a":"b`, scanBad},
	{"missing colon", `{"a" 1}`, scanBad},
	{"non-string key", `{1:2}`, scanBad},
	{"bad literal", `tru`, scanBad},
	{"too deep", strings.Repeat("[", 9) + strings.Repeat("]", 9), scanDeep},
	{"too deep and invalid", `{"a":` + strings.Repeat("[", 9) + `x`, scanDeep},
	{"invalid before too deep", `x` + strings.Repeat("[", 9), scanDeep},
	{"at the limit", strings.Repeat("[", 8) + strings.Repeat("]", 8), scanOK},
	{"invalid UTF-8 in a string", "\"\xff\"", scanOK},
}

// The pass gives what the four walks gave, on hand-picked bodies.
func TestBodyScan(t *testing.T) {
	for _, tc := range scanCases {
		t.Run(tc.name, func(t *testing.T) {
			var sc bodyScan
			if got := sc.scan([]byte(tc.body), 8); got != tc.want {
				t.Fatalf("scan = %d, want %d", got, tc.want)
			}
			checkScan(t, []byte(tc.body), 8)
		})
	}
}

// checkScan holds bodyScan to oldScan on b.
func checkScan(t *testing.T, b []byte, limit int) {
	t.Helper()
	var sc bodyScan
	got := sc.scan(b, limit)
	want, calls, members := oldScan(b, limit)
	if got != want {
		t.Fatalf("scan(%q) = %d, the four walks say %d", b, got, want)
	}
	if got != scanOK {
		return
	}
	if len(sc.calls) != len(calls) {
		t.Fatalf("scan(%q): %d calls, the split found %d", b, len(sc.calls), len(calls))
	}
	for k, c := range sc.calls {
		if string(b[c.start:c.end]) != string(calls[k]) {
			t.Fatalf("scan(%q): call %d is %q, the split found %q", b, k, b[c.start:c.end], calls[k])
		}
		if c.obj != (calls[k][0] == '{') {
			t.Fatalf("scan(%q): call %d object = %v", b, k, c.obj)
		}
		ms := sc.members[c.m0:c.m1]
		if len(ms) != len(members[k]) {
			t.Fatalf("scan(%q): call %d has %d members, eachMember saw %d", b, k, len(ms), len(members[k]))
		}
		for j, m := range ms {
			if string(b[m.k0:m.k1]) != string(members[k][j][0]) || string(b[m.v0:m.v1]) != string(members[k][j][1]) {
				t.Fatalf("scan(%q): call %d member %d is %q:%q, eachMember saw %q:%q", b, k, j,
					b[m.k0:m.k1], b[m.v0:m.v1], members[k][j][0], members[k][j][1])
			}
		}
	}
}

// FuzzBodyScan holds the one pass to the four walks it replaced (json.Valid
// among them) on any input, with a small and a large depth limit.
func FuzzBodyScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, tc := range scanCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b, 4)
		checkScan(t, b, 32)
	})
}

func benchScan(b *testing.B, body []byte, one bool) {
	b.ReportAllocs()
	for b.Loop() {
		if one {
			sc := getScan()
			if sc.scan(body, 32) != scanOK {
				b.Fatal("not ok")
			}
			putScan(sc)
		} else if r, _, _ := oldScan(body, 32); r != scanOK {
			b.Fatal("not ok")
		}
	}
}

// BenchmarkScanBody: the transport's work on a body before dispatch, four
// walks (before) against one pass (after), for one call with params and a
// batch of 100 of them.
func BenchmarkScanBody(b *testing.B) {
	call := `{"jsonrpc":"2.0","method":"auth.getUserByEmailAndPassword","params":{"email":"ann@example.com","password":"glacier-Umbrella-93"},"id":1}`
	batch := "[" + strings.TrimSuffix(strings.Repeat(call+",", 100), ",") + "]"
	for _, c := range []struct{ name, body string }{{"call", call}, {"batch100", batch}} {
		b.Run(c.name+"/four-walks", func(b *testing.B) { benchScan(b, []byte(c.body), false) })
		b.Run(c.name+"/one-pass", func(b *testing.B) { benchScan(b, []byte(c.body), true) })
	}
}
