package rpc

import (
	"strconv"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestErrCountersCountEveryCode: the cached counters are the vector's, and
// no increment is lost while the cache grows under concurrent writers.
func TestErrCountersCountEveryCode(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	e := m.errCounters("x.y")
	codes := []int{-32601, -32602, 2007, 1, -32603}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				e.inc(codes[(g+i)%len(codes)])
			}
		}()
	}
	wg.Wait()
	total := 0.0
	for _, c := range codes {
		total += testutil.ToFloat64(m.errors.WithLabelValues("x.y", strconv.Itoa(c)))
	}
	if total != 800 {
		t.Errorf("counted %v failures, want 800", total)
	}
	if n := testutil.CollectAndCount(m.errors); n != len(codes) {
		t.Errorf("%d series, want %d", n, len(codes))
	}
}
