package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxString caps every string member of params whose field carries no
// explicit `max` in its rpc tag.
const DefaultMaxString = 1024

// ParamsError is a params value that cannot be decoded into the method's
// params type. It becomes -32602 with Detail as the error's data.
type ParamsError struct {
	Detail string
}

func (e *ParamsError) Error() string { return "invalid params: " + e.Detail }

func paramsErrorf(format string, args ...any) *ParamsError {
	return &ParamsError{Detail: fmt.Sprintf(format, args...)}
}

// typeInfo is what strict decoding needs to know about one Go type, computed
// once per type so a call does no tag parsing.
type typeInfo struct {
	kind   reflect.Kind
	fields map[string]*fieldInfo // struct: JSON name → field
	elem   *typeInfo             // slice, array, map value, pointer target
	max    int                   // string: maximum length in code points
	// required lists the struct's required members, checked even when a
	// call sends no params at all.
	required []string
}

type fieldInfo struct {
	name     string
	required bool
	info     *typeInfo
}

var typeCache sync.Map // reflect.Type → *typeInfo

func infoOf(t reflect.Type) *typeInfo { return infoOfMax(t, DefaultMaxString) }

func infoOfMax(t reflect.Type, max int) *typeInfo {
	if max == DefaultMaxString {
		if ti, ok := typeCache.Load(t); ok {
			return ti.(*typeInfo)
		}
	}
	ti := buildInfo(t, max, map[reflect.Type]*typeInfo{})
	if max == DefaultMaxString {
		typeCache.Store(t, ti)
	}
	return ti
}

func buildInfo(t reflect.Type, max int, seen map[reflect.Type]*typeInfo) *typeInfo {
	if ti, ok := seen[t]; ok && max == DefaultMaxString {
		return ti
	}
	ti := &typeInfo{kind: t.Kind(), max: max}
	if max == DefaultMaxString {
		seen[t] = ti
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		ti.elem = buildInfo(t.Elem(), max, seen)
	case reflect.Map:
		ti.elem = buildInfo(t.Elem(), DefaultMaxString, seen)
	case reflect.Struct:
		if t == timeType || t == rawType {
			break
		}
		ti.fields = map[string]*fieldInfo{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fmax, required := parseRPCTag(f.Tag.Get("rpc"))
			ti.fields[name] = &fieldInfo{name: name, required: required, info: buildInfo(f.Type, fmax, seen)}
			if required {
				ti.required = append(ti.required, name)
			}
		}
	}
	return ti
}

// parseRPCTag reads `rpc:"required,max=254"`.
func parseRPCTag(tag string) (max int, required bool) {
	max = DefaultMaxString
	for _, part := range strings.Split(tag, ",") {
		switch {
		case part == "required":
			required = true
		case strings.HasPrefix(part, "max="):
			if n, err := strconv.Atoi(part[4:]); err == nil && n > 0 {
				max = n
			}
		}
	}
	return max, required
}

// checkAbsent is decodeParams for a call without params: only the required
// members can be at fault.
func checkAbsent(dst any) error {
	if ti := infoOf(reflect.TypeOf(dst).Elem()); len(ti.required) > 0 {
		return paramsErrorf("field %s: required", ti.required[0])
	}
	return nil
}

// decodeParams decodes raw (an object, valid JSON) into dst strictly: every
// key must be one of the type's JSON names spelled exactly, no key may appear
// twice in any case, every string must be valid UTF-8 and within its maximum,
// and every value must have the field's JSON type.
func decodeParams(raw []byte, dst any) error {
	ti := infoOf(reflect.TypeOf(dst).Elem())
	if err := check(raw, ti, ""); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "params"
			}
			return paramsErrorf("field %s: expected %s, got JSON %s", field, jsonTypeName(te.Type), te.Value)
		}
		return paramsErrorf("%v", err)
	}
	return nil
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// check walks raw against ti. Type mismatches are left to json.Unmarshal,
// which reports them with the field's path; check covers what encoding/json
// lets through.
func check(raw []byte, ti *typeInfo, path string) error {
	for ti.kind == reflect.Pointer {
		ti = ti.elem
	}
	switch raw[0] {
	case '"':
		s, err := unquote(raw)
		if err != nil {
			return paramsErrorf("field %s: invalid UTF-8 or escape", orParams(path))
		}
		if ti.kind == reflect.String && utf8.RuneCountInString(s) > ti.max {
			return paramsErrorf("field %s: longer than %d characters", orParams(path), ti.max)
		}
	case '{':
		return checkObject(raw, ti, path)
	case '[':
		if ti.kind != reflect.Slice && ti.kind != reflect.Array && ti.kind != reflect.Interface {
			return nil
		}
		var elem *typeInfo
		if ti.elem != nil {
			elem = ti.elem
		} else {
			elem = &typeInfo{kind: reflect.Interface, max: DefaultMaxString}
		}
		n := 0
		return eachElem(raw, func(v []byte) error {
			err := check(v, elem, path+"["+strconv.Itoa(n)+"]")
			n++
			return err
		})
	}
	return nil
}

func orParams(path string) string {
	if path == "" {
		return "params"
	}
	return path
}

func checkObject(raw []byte, ti *typeInfo, path string) error {
	var seen []string
	err := eachMember(raw, func(q, v []byte) error {
		key, err := unquote(q)
		if err != nil {
			return paramsErrorf("%s: key is not valid UTF-8", orParams(path))
		}
		for _, s := range seen {
			if strings.EqualFold(s, key) {
				return paramsErrorf("field %s: duplicate key (keys are case-sensitive and may appear once)", join(path, key))
			}
		}
		seen = append(seen, key)
		var next *typeInfo
		switch {
		case ti.kind == reflect.Struct && ti.fields != nil:
			f, ok := ti.fields[key]
			if !ok {
				for name := range ti.fields {
					if strings.EqualFold(name, key) {
						return paramsErrorf("field %s: unknown field, did you mean %q (names are case-sensitive)", join(path, key), name)
					}
				}
				return paramsErrorf("field %s: unknown field", join(path, key))
			}
			next = f.info
		case ti.kind == reflect.Map:
			next = ti.elem
		default:
			// interface{} or a type mismatch json.Unmarshal will report.
			next = &typeInfo{kind: reflect.Interface, max: DefaultMaxString}
		}
		return check(v, next, join(path, key))
	})
	if err != nil || ti.kind != reflect.Struct {
		return err
	}
	for _, name := range ti.required {
		if !contains(seen, name) {
			return paramsErrorf("field %s: required", join(path, name))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
