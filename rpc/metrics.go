package rpc

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls   *prometheus.CounterVec
	errors  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	unknown prometheus.Counter
	// unknownErrs counts the failures of calls without a registered method.
	unknownErrs *errCounters
}

// Label for calls whose method is not registered or could not be read, so a
// caller cannot grow the label set without bound.
const unknownMethod = "_unknown"

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergate_rpc_calls_total", Help: "Calls received, by method.",
		}, []string{"method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergate_rpc_errors_total", Help: "Calls that failed, by method and error code (envelope or JSON-RPC).",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "partnergate_rpc_duration_seconds", Help: "Call latency, by method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method"}),
	}
	m.unknown = m.calls.WithLabelValues(unknownMethod)
	m.unknownErrs = m.errCounters(unknownMethod)
	if reg != nil {
		reg.MustRegister(m.calls, m.errors, m.latency)
	}
	return m
}

func (m *metrics) errCounters(method string) *errCounters {
	return &errCounters{vec: m.errors, method: method}
}

// errCounters is one method's error counters by code. WithLabelValues hashes
// both labels and formats the code on every call; a method fails with few
// distinct codes, so each is looked up once and kept in a map that is copied
// on the rare write and read without a lock.
type errCounters struct {
	vec    *prometheus.CounterVec
	method string
	mu     sync.Mutex // serialises writers
	byCode atomic.Pointer[map[int]prometheus.Counter]
}

func (e *errCounters) inc(code int) {
	if p := e.byCode.Load(); p != nil {
		if c, ok := (*p)[code]; ok {
			c.Inc()
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.byCode.Load()
	var next map[int]prometheus.Counter
	if old == nil {
		next = map[int]prometheus.Counter{}
	} else {
		next = make(map[int]prometheus.Counter, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	c, ok := next[code]
	if !ok {
		c = e.vec.WithLabelValues(e.method, strconv.Itoa(code))
		next[code] = c
		e.byCode.Store(&next)
	}
	c.Inc()
}
