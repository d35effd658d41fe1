package rpc

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls   *prometheus.CounterVec
	errors  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	unknown prometheus.Counter
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
	if reg != nil {
		reg.MustRegister(m.calls, m.errors, m.latency)
	}
	return m
}

func (m *metrics) failed(method string, code int) {
	m.errors.WithLabelValues(method, strconv.Itoa(code)).Inc()
}
