package main

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// outcome is how one call (or one batch) ended.
type outcome int

const (
	ok      outcome = iota // the call did what it was asked
	refused                // envelope 1003 Throttled
	failed                 // anything else: transport error, HTTP error, other envelope code
)

// sample is what one side of a row measured, summed over its rounds.
type sample struct {
	calls   int64         // successful calls (a batch of 100 counts 100)
	reqs    int64         // successful requests
	refused int64         // refused requests (1003)
	failed  int64         // failed requests
	elapsed time.Duration // wall time of the rounds
	lat     []time.Duration
	refLat  []time.Duration
	errs    map[string]int // failure kinds and how often
	rounds  []float64      // calls/s of each round, in order
	cpu     time.Duration  // CPU time the serving process spent, when known
	sysCPU  time.Duration  // the system (kernel) part of cpu
}

func (s *sample) add(o sample) {
	s.calls += o.calls
	s.reqs += o.reqs
	s.refused += o.refused
	s.failed += o.failed
	s.elapsed += o.elapsed
	s.cpu += o.cpu
	s.sysCPU += o.sysCPU
	s.rounds = append(s.rounds, o.rounds...)
	s.lat = append(s.lat, o.lat...)
	s.refLat = append(s.refLat, o.refLat...)
	for k, v := range o.errs {
		if s.errs == nil {
			s.errs = map[string]int{}
		}
		s.errs[k] += v
	}
}

func (s *sample) record(o outcome, calls int, lat time.Duration, why string) {
	switch o {
	case ok:
		s.calls += int64(calls)
		s.reqs++
		s.lat = append(s.lat, lat)
	case refused:
		s.refused++
		s.refLat = append(s.refLat, lat)
	default:
		s.failed++
		if s.errs == nil {
			s.errs = map[string]int{}
		}
		if len(s.errs) < 20 || s.errs[why] > 0 {
			s.errs[why]++
		}
	}
}

// rate is successful calls per second.
func (s *sample) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.calls) / s.elapsed.Seconds()
}

func (s *sample) refusedRate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.refused) / s.elapsed.Seconds()
}

// cpuPerCall is the serving process's CPU time per successful call.
func (s *sample) cpuPerCall() time.Duration {
	if s.calls == 0 || s.cpu == 0 {
		return 0
	}
	return s.cpu / time.Duration(s.calls)
}

// sysPerCall is the system part of cpuPerCall.
func (s *sample) sysPerCall() time.Duration {
	if s.calls == 0 || s.cpu == 0 {
		return 0
	}
	return s.sysCPU / time.Duration(s.calls)
}

// pct returns the q-quantile (0..1) of ds, which it sorts.
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds)) + 0.5)
	if i >= len(ds) {
		i = len(ds) - 1
	}
	return ds[i]
}

// firstErr names the most frequent failure.
func (s *sample) firstErr() string {
	best, n := "", 0
	for k, v := range s.errs {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best
}

// classifier turns one HTTP answer into an outcome and the calls it carried.
type classifier func(status uint16, body []byte) (outcome, int, string)

// envCode reads the outcome of a single JSON-RPC response from the gateway:
// 0 for a successful envelope, the envelope's code for a refused one, the
// JSON-RPC code for a protocol error. found is false when there is none.
func envCode(body []byte) (code int, found bool) {
	i := bytes.LastIndex(body, []byte(`"error":{`))
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(`"error":{`):]
	if bytes.HasPrefix(rest, []byte(`"status":false`)) {
		return 0, true
	}
	j := bytes.Index(rest, []byte(`"code":`))
	if j < 0 {
		return 0, false
	}
	rest = rest[j+len(`"code":`):]
	k := 0
	for k < len(rest) && (rest[k] == '-' || rest[k] >= '0' && rest[k] <= '9') {
		k++
	}
	n, err := strconv.Atoi(string(rest[:k]))
	return n, err == nil
}

// envelopeOK classifies single calls: success, 1003 refused, else failed.
func envelopeOK(status uint16, body []byte) (outcome, int, string) {
	if status != http.StatusOK {
		return failed, 0, "HTTP " + strconv.Itoa(int(status))
	}
	code, found := envCode(body)
	switch {
	case !found:
		return failed, 0, "no envelope"
	case code == 0:
		return ok, 1, ""
	case code == 1003:
		return refused, 0, ""
	}
	return failed, 0, "code " + strconv.Itoa(code)
}

// pongs classifies a ping or a batch of n pings: every call must say pong.
func pongs(n int) classifier {
	pong := []byte(`"pong":true`)
	return func(status uint16, body []byte) (outcome, int, string) {
		if status != http.StatusOK {
			return failed, 0, "HTTP " + strconv.Itoa(int(status))
		}
		if got := bytes.Count(body, pong); got != n {
			return failed, 0, "pongs " + strconv.Itoa(got)
		}
		return ok, n, ""
	}
}

// httpLoad is a closed loop of conc vegeta workers, each sending its next
// request as soon as the previous one is answered.
type httpLoad struct {
	name     string
	client   *http.Client
	conc     int
	next     vegeta.Targeter
	classify classifier
}

func newClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: conc,
			MaxConnsPerHost:     conc,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

func (l *httpLoad) run(d time.Duration) sample {
	atk := vegeta.NewAttacker(
		vegeta.Client(l.client),
		vegeta.Workers(uint64(l.conc)),
		vegeta.MaxWorkers(uint64(l.conc)),
		vegeta.KeepAlive(true),
	)
	var s sample
	start := time.Now()
	// A zero rate is vegeta's "as fast as the workers go".
	for r := range atk.Attack(l.next, vegeta.Rate{}, d, l.name) {
		if r.Error != "" && r.Code == 0 {
			s.record(failed, 0, r.Latency, trimErr(r.Error))
			continue
		}
		o, n, why := l.classify(r.Code, r.Body)
		s.record(o, n, r.Latency, why)
	}
	s.elapsed = time.Since(start)
	return s
}

func trimErr(e string) string {
	if len(e) > 80 {
		return e[:80] + "…"
	}
	return e
}

// loop is a closed loop of conc goroutines calling op until d is over; the
// baselines that are not HTTP use it.
func loop(conc int, d time.Duration, op func(worker int) (outcome, int, string)) sample {
	var (
		mu  sync.Mutex
		all sample
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s sample
			for time.Now().Before(deadline) {
				t := time.Now()
				o, n, why := op(w)
				s.record(o, n, time.Since(t), why)
			}
			mu.Lock()
			all.add(s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}
