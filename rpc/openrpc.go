package rpc

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// OpenRPC document, generated from the registry so it cannot drift from what
// the server dispatches.

// Schema is a JSON Schema subset, enough to describe params and results.
type Schema struct {
	Type                 any                `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	MaxLength            int                `json:"maxLength,omitempty"`
}

var schemaTime = reflect.TypeFor[time.Time]()

// SchemaOf describes a params type t as the strict decoder sees it.
func SchemaOf(t reflect.Type) *Schema { return schemaOf(t, DefaultMaxString, 0) }

// ResultSchemaOf describes a result type: no length limits, which only
// apply to what callers send.
func ResultSchemaOf(t reflect.Type) *Schema { return stripMax(schemaOf(t, DefaultMaxString, 0)) }

func stripMax(s *Schema) *Schema {
	if s == nil {
		return nil
	}
	s.MaxLength = 0
	for _, p := range s.Properties {
		stripMax(p)
	}
	stripMax(s.Items)
	if a, ok := s.AdditionalProperties.(*Schema); ok {
		stripMax(a)
	}
	return s
}

func schemaOf(t reflect.Type, max, depth int) *Schema {
	if depth > 8 {
		return &Schema{}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == schemaTime:
		return &Schema{Type: "string", Format: "date-time"}
	case t == rawType:
		return &Schema{}
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: "string", MaxLength: max}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer"}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		return &Schema{Type: "array", Items: schemaOf(t.Elem(), max, depth+1)}
	case reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: schemaOf(t.Elem(), DefaultMaxString, depth+1)}
	case reflect.Struct:
		s := &Schema{Type: "object", Properties: map[string]*Schema{}, AdditionalProperties: false}
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
			s.Properties[name] = schemaOf(f.Type, fmax, depth+1)
			if required {
				s.Required = append(s.Required, name)
			}
		}
		return s
	}
	return &Schema{}
}

// Info names the service in the OpenRPC document.
type Info struct {
	Title   string `json:"title"`
	Version string `json:"version"`
}

type openRPCDoc struct {
	OpenRPC string          `json:"openrpc"`
	Info    Info            `json:"info"`
	Methods []openRPCMethod `json:"methods"`
}

type openRPCMethod struct {
	Name           string             `json:"name"`
	Summary        string             `json:"summary"`
	ParamStructure string             `json:"paramStructure"`
	Params         []openRPCContent   `json:"params"`
	Result         openRPCContent     `json:"result"`
	Access         string             `json:"x-access"`
	Permission     string             `json:"x-permission,omitempty"`
	RateClass      string             `json:"x-rate-class"`
	Errors         []openRPCErrorCode `json:"errors,omitempty"`
}

type openRPCContent struct {
	Name     string  `json:"name"`
	Required bool    `json:"required,omitempty"`
	Schema   *Schema `json:"schema"`
}

type openRPCErrorCode struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// envelopeSchema wraps a result schema in the {data, error} envelope.
func envelopeSchema(data *Schema) *Schema {
	return &Schema{Type: "object", Properties: map[string]*Schema{
		"data": data,
		"error": {Type: "object", Properties: map[string]*Schema{
			"status":     {Type: "boolean"},
			"code":       {Type: "integer"},
			"message":    {Type: "string"},
			"fields":     {Type: "object", AdditionalProperties: &Schema{Type: "string"}},
			"retryAfter": {Type: "integer"},
		}, Required: []string{"status", "code", "message"}},
	}, Required: []string{"data", "error"}}
}

// Document builds the OpenRPC 1.x document of every registered method.
func (r *Registry) Document(info Info) any {
	doc := openRPCDoc{OpenRPC: "1.3.2", Info: info}
	for _, m := range r.Methods() {
		om := openRPCMethod{
			Name: m.Name, Summary: m.Doc, ParamStructure: "by-name",
			Access: m.Access.String(), Permission: m.Permission, RateClass: m.RateClass,
			Result: openRPCContent{Name: "envelope", Schema: envelopeSchema(ResultSchemaOf(m.result))},
		}
		if m.Positional != nil {
			om.ParamStructure = "either"
		}
		ps := SchemaOf(m.params)
		req := map[string]bool{}
		for _, n := range ps.Required {
			req[n] = true
		}
		names := make([]string, 0, len(ps.Properties))
		for n := range ps.Properties {
			names = append(names, n)
		}
		names = orderParams(names, m.Positional)
		for _, n := range names {
			om.Params = append(om.Params, openRPCContent{Name: n, Required: req[n], Schema: ps.Properties[n]})
		}
		if om.Params == nil {
			om.Params = []openRPCContent{}
		}
		doc.Methods = append(doc.Methods, om)
	}
	return doc
}

// orderParams puts the positional order first, the rest alphabetically.
func orderParams(names, first []string) []string {
	out := append([]string(nil), first...)
	in := map[string]bool{}
	for _, n := range first {
		in[n] = true
	}
	rest := []string{}
	for _, n := range names {
		if !in[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Discovery serves rpc.discover and GET /openrpc.json from one document,
// built on first use after every method is registered.
type Discovery struct {
	reg  *Registry
	info Info
	once sync.Once
	doc  json.RawMessage
}

// DiscoverParams is empty: rpc.discover takes nothing.
type DiscoverParams struct{}

// NewDiscovery registers rpc.discover on reg.
func NewDiscovery(reg *Registry, info Info) (*Discovery, error) {
	d := &Discovery{reg: reg, info: info}
	err := reg.Register(d, Method{
		Name: "rpc.discover", Go: "Discover", Access: Public, RateClass: NoLimit,
		Doc: "Returns the OpenRPC document of every method.",
	})
	return d, err
}

func (d *Discovery) document() json.RawMessage {
	d.once.Do(func() {
		d.doc, _ = json.Marshal(d.reg.Document(d.info))
	})
	return d.doc
}

// Discover is rpc.discover.
func (d *Discovery) Discover(_ *http.Request, _ *DiscoverParams, res *json.RawMessage) error {
	*res = d.document()
	return nil
}

// ServeHTTP serves GET /openrpc.json.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":"method not allowed"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(d.document())
}
