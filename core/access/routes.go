package access

import (
	"fmt"
	"strings"

	"partnergate/core/fault"
	"partnergate/rpc"
	"partnergate/store"
)

// Route is one REST route a method stands for: Barong's verb and its path
// as a dotted method-name prefix ("GET /admin/users" is {GET admin.users}).
type Route struct {
	Verb string
	Path string
}

// verbs a permission row may name; ALL matches every one.
var verbs = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, store.VerbAll: true}

// RoutesOf returns m's routes: its declared Routes, else the ones METHODS.md's
// rule gives its name: list and get are GET of the collection, create POST,
// update PUT (and PATCH), delete DELETE; any other last word is an action,
// POST of the whole name.
func RoutesOf(m *rpc.Method) []Route {
	if len(m.Routes) > 0 {
		out := make([]Route, 0, len(m.Routes))
		for _, r := range m.Routes {
			verb, path, _ := strings.Cut(r, " ")
			p, err := NormalizePath(path)
			if err != nil {
				// A malformed declaration grants nothing; the registry
				// test (TestRoutesDeclared) keeps them well formed.
				continue
			}
			out = append(out, Route{Verb: strings.ToUpper(verb), Path: dotted(p)})
		}
		return out
	}
	i := strings.LastIndexByte(m.Name, '.')
	if i < 0 {
		return []Route{{Verb: "POST", Path: m.Name}}
	}
	head, last := m.Name[:i], m.Name[i+1:]
	switch last {
	case "list", "get":
		return []Route{{"GET", head}}
	case "create":
		return []Route{{"POST", head}}
	case "update":
		return []Route{{"PUT", head}, {"PATCH", head}}
	case "delete":
		return []Route{{"DELETE", head}}
	}
	return []Route{{"POST", m.Name}}
}

// NormalizePath turns a permission row's path into the form stored and
// shown: "/admin/users" (leading slash, no trailing one), or "*" for every
// route. Barong's own prefixes ("api/v2/barong", "api/v2") are dropped,
// so its seeded rows can be pasted as they are; a trailing "*" or "/" is
// ignored. Segments are letters, digits and underscores.
func NormalizePath(p string) (string, error) {
	p = strings.TrimSpace(p)
	p = strings.TrimSuffix(p, "*")
	p = strings.Trim(p, "/")
	for _, prefix := range []string{"api/v2/barong", "api/v2"} {
		if p == prefix {
			p = ""
			break
		}
		if rest, ok := strings.CutPrefix(p, prefix+"/"); ok {
			p = rest
			break
		}
	}
	if p == "" {
		return "*", nil
	}
	if len(p) > 200 {
		return "", fmt.Errorf("path longer than 200 characters")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return "", fmt.Errorf("empty segment in path")
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
				return "", fmt.Errorf("path segment %q: letters, digits and _ only", seg)
			}
		}
	}
	return "/" + p, nil
}

// dotted is a normalised path as a method-name prefix; "" matches all.
func dotted(p string) string {
	if p == "*" {
		return ""
	}
	return strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", ".")
}

// rule is a permission row compiled for matching.
type rule struct {
	verb, path, action, topic string
}

func (r rule) matches(rt Route) bool {
	if r.verb != store.VerbAll && r.verb != rt.Verb {
		return false
	}
	return r.path == "" || rt.Path == r.path || strings.HasPrefix(rt.Path, r.path+".")
}

// CheckPermission validates and normalises a permission row's verb, path,
// action and topic (the role is the store's to check). Verbs and actions
// are upper-cased ("all" is ALL, "*" too), as Barong's seeds spell them
// in lower case. Bad input is fault.Invalid naming the field.
func CheckPermission(p store.Permission) (store.Permission, error) {
	p.Role = strings.TrimSpace(p.Role)
	if p.Role == "" {
		return p, fault.Field(fault.Invalid, "role", "required")
	}
	p.Verb = strings.ToUpper(strings.TrimSpace(p.Verb))
	if p.Verb == "*" {
		p.Verb = store.VerbAll
	}
	if !verbs[p.Verb] {
		return p, fault.Field(fault.Invalid, "verb", "one of GET, POST, PUT, PATCH, DELETE, ALL")
	}
	path, err := NormalizePath(p.Path)
	if err != nil {
		return p, fault.Field(fault.Invalid, "path", err.Error())
	}
	p.Path = path
	p.Action = strings.ToUpper(strings.TrimSpace(p.Action))
	switch p.Action {
	case store.ActionAccept, store.ActionDrop, store.ActionAudit:
	default:
		return p, fault.Field(fault.Invalid, "action", "one of ACCEPT, DROP, AUDIT")
	}
	p.Topic = strings.TrimSpace(p.Topic)
	if len(p.Topic) > 64 {
		return p, fault.Field(fault.Invalid, "topic", "at most 64 characters")
	}
	return p, nil
}
