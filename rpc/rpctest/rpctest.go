// Package rpctest holds test support for code built on package rpc: the
// oracle that params fuzz targets in every namespace share.
package rpctest

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"partnergate/rpc"
)

// CheckParams is the oracle of the params fuzz targets: raw, called on m
// through h (the transport's strict decoder, echoed back by the method),
// must either be refused with -32602 or decode to exactly what
// encoding/json makes of it, hold only the params type's own members (exact
// case, once each), carry every required member, and keep every string
// within its declared maximum, valid UTF-8 and free of NUL.
func CheckParams(t *testing.T, h *rpc.Handler, m *rpc.Method, raw []byte) {
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
