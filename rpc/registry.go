package rpc

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"unicode"

	grpc "github.com/gorilla/rpc/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Access is who may call a method. Every method declares one; there is no
// default, so a method without a policy cannot be registered.
type Access int

const (
	accessUnset Access = iota
	// Public methods need no caller.
	Public
	// SessionUser methods need a user's bearer session.
	SessionUser
	// PartnerScope methods need a signed partner whose scopes cover the name.
	PartnerScope
	// AdminPermission methods need a user whose role grants Permission.
	AdminPermission
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case SessionUser:
		return "session"
	case PartnerScope:
		return "partner"
	case AdminPermission:
		return "admin"
	}
	return "unset"
}

// Method declares one method. Its params and result types are read from the
// Go method's signature, func (s *S) M(r *http.Request, p *Params, res *Result) error.
type Method struct {
	Name       string // wire name, dot-separated, e.g. "auth.registerUser"
	Go         string // Go method name on the service receiver
	Access     Access
	Permission string // for AdminPermission
	// RateClass names the limiter class applied before the call. Every
	// method declares one; NoLimit is an explicit choice for methods that
	// touch no state (system.ping), never a default.
	RateClass string
	Doc       string
	// Routes are the REST routes the method stands for, "VERB /path"
	// (Barong's permission rows match these); nil derives them from the
	// name by METHODS.md's rule (core/access.RoutesOf).
	Routes []string
	// OpensSession marks the methods that start a session (a login):
	// blocklogin restrictions refuse these and only these.
	OpensSession bool
	// Positional lists the params members in their natural order when the
	// method also accepts params as an array; nil refuses arrays.
	Positional []string

	params, result reflect.Type
	// fn is the Go method as a function of (receiver, request, params,
	// result); rcvr is the receiver it is called on.
	fn, rcvr reflect.Value
	calls    prometheus.Counter
	latency  prometheus.Observer
	errs     *errCounters
}

// NoLimit is the rate class of methods that are never rate-limited.
const NoLimit = "none"

// Params returns the method's params type.
func (m *Method) Params() reflect.Type { return m.params }

// Result returns the method's result type.
func (m *Method) Result() reflect.Type { return m.result }

// Registry is the single source for dispatch, access checks and discovery.
type Registry struct {
	// server only vets services at registration, so that what gorilla/rpc
	// refuses (unexported params types, say) stays refused; calls do not go
	// through it.
	server  *grpc.Server
	methods map[string]*Method
	metrics *metrics
	nsvc    int
}

// NewRegistry returns an empty registry whose metrics register on reg.
func NewRegistry(reg prometheus.Registerer) *Registry {
	r := &Registry{
		server:  grpc.NewServer(),
		methods: map[string]*Method{},
		metrics: newMetrics(reg),
	}
	return r
}

var (
	requestType = reflect.TypeFor[*http.Request]()
	errorType   = reflect.TypeFor[error]()
)

// Register adds the methods of one service receiver. It fails when a name is
// taken or malformed, a Go method is missing or has the wrong shape, or a
// method declares no access policy.
func (r *Registry) Register(rcvr any, methods ...Method) error {
	r.nsvc++
	svcName := fmt.Sprintf("S%d", r.nsvc)
	rt := reflect.TypeOf(rcvr)
	for i := range methods {
		m := methods[i]
		if err := validName(m.Name); err != nil {
			return err
		}
		if _, dup := r.methods[m.Name]; dup {
			return fmt.Errorf("rpc: method %s registered twice", m.Name)
		}
		if m.Access == accessUnset {
			return fmt.Errorf("rpc: method %s declares no access policy", m.Name)
		}
		if m.Access == AdminPermission && m.Permission == "" {
			return fmt.Errorf("rpc: admin method %s declares no permission", m.Name)
		}
		if m.RateClass == "" {
			return fmt.Errorf("rpc: method %s declares no rate class (use rpc.NoLimit explicitly)", m.Name)
		}
		if m.Doc == "" {
			return fmt.Errorf("rpc: method %s has no doc", m.Name)
		}
		gm, ok := rt.MethodByName(m.Go)
		if !ok {
			return fmt.Errorf("rpc: method %s: %s has no method %s", m.Name, rt, m.Go)
		}
		ft := gm.Type
		if ft.NumIn() != 4 || ft.In(1) != requestType || ft.In(2).Kind() != reflect.Pointer ||
			ft.In(3).Kind() != reflect.Pointer || ft.NumOut() != 1 || ft.Out(0) != errorType {
			return fmt.Errorf("rpc: method %s: %s.%s must be func(*http.Request, *Params, *Result) error", m.Name, rt, m.Go)
		}
		m.params, m.result = ft.In(2).Elem(), ft.In(3).Elem()
		if m.params.Kind() != reflect.Struct {
			return fmt.Errorf("rpc: method %s: params must be a struct", m.Name)
		}
		for _, p := range m.Positional {
			if _, ok := infoOf(m.params).fields[p]; !ok {
				return fmt.Errorf("rpc: method %s: positional member %q is not a params field", m.Name, p)
			}
		}
		m.fn, m.rcvr = gm.Func, reflect.ValueOf(rcvr)
		m.calls = r.metrics.calls.WithLabelValues(m.Name)
		m.latency = r.metrics.latency.WithLabelValues(m.Name)
		m.errs = r.metrics.errCounters(m.Name)
		r.methods[m.Name] = &m
	}
	if err := r.server.RegisterService(rcvr, svcName); err != nil {
		return fmt.Errorf("rpc: register %T: %w", rcvr, err)
	}
	for _, m := range methods {
		if !r.server.HasMethod(svcName + "." + m.Go) {
			return fmt.Errorf("rpc: method %s not exported by gorilla registry", m.Name)
		}
	}
	return nil
}

func validName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("rpc: method name %q: empty or too long", name)
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return fmt.Errorf("rpc: method name %q has an empty segment", name)
		}
		for _, c := range part {
			if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_') {
				return fmt.Errorf("rpc: method name %q: segment %q has %q", name, part, c)
			}
		}
	}
	return nil
}

// Registry returns the handler's registry.
func (h *Handler) Registry() *Registry { return h.reg }

// Lookup returns the method registered under name.
func (r *Registry) Lookup(name string) (*Method, bool) {
	m, ok := r.methods[name]
	return m, ok
}

// Methods returns every registered method, sorted by name.
func (r *Registry) Methods() []*Method {
	ms := make([]*Method, 0, len(r.methods))
	for _, m := range r.methods {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}
