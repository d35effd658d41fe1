// Package kvtest is the conformance suite every store.State backend must
// pass, on an embedded server and on a real one. A backend's test calls Run
// with a constructor for empty states.
package kvtest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// Backend is one subtest's state and, when the test controls the server's
// clock, the hook that moves it.
type Backend struct {
	State store.State
	// FastForward moves the server's expiry clock on by d. nil means the
	// server runs on real time: the suite then sleeps instead, and skips the
	// steps that would need minutes of it.
	FastForward func(d time.Duration)
}

// Run runs the suite. open must return a new, empty state (its own key
// prefix on a shared server) that reads the time from now, and arrange with
// t.Cleanup for whatever it wrote to go; each subtest gets its own.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"SessionLifecycle", testSessionLifecycle},
		{"SessionSlidingAndAbsoluteLimit", testSessionSliding},
		{"UserSessions", testUserSessions},
		{"Codes", testCodes},
		{"CodesConcurrentCheck", testCodesConcurrentCheck},
		{"Holds", testHolds},
		{"Tokens", testTokens},
		{"Nonces", testNonces},
		{"Failures", testFailures},
		{"Counters", testCounters},
		{"Limits", testLimits},
		{"PendingChanges", testPendingChanges},
		{"UserSnapshots", testUserSnapshots},
		{"RefreshFamilies", testRefreshFamilies},
		{"Revocations", testRevocations},
		{"AccessVersions", testAccessVersions},
		{"UserDrops", testUserDrops},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{}
			b := open(t, e.clock)
			e.s, e.ff = b.State, b.FastForward
			if e.ff != nil {
				e.start()
			}
			tc.fn(t, e)
		})
	}
}

// env is one subtest's world: a clock that is fake when the server's can be
// moved with it, and real otherwise.
type env struct {
	s  store.State
	ff func(time.Duration)

	mu   sync.Mutex
	fake bool
	now  time.Time
}

func (e *env) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fake = true
	// Whole milliseconds: that is what the backend stores, so timestamps
	// read back compare equal.
	e.now = time.Now().Truncate(time.Millisecond)
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.fake {
		return time.Now()
	}
	return e.now
}

// advance moves both clocks on, or sleeps on a real server.
func (e *env) advance(d time.Duration) {
	if e.ff == nil {
		time.Sleep(d)
		return
	}
	e.skew(d)
	e.ff(d)
}

// skew moves only the state's clock, as when the server's expiry lags the
// state's own reckoning. Fake clocks only.
func (e *env) skew(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// parallel runs fn n times at once and fails on any error.
func parallel(t *testing.T, n int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if err := fn(); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s = %v, want ErrNotFound", what, err)
	}
}

func isNotFound(err error) bool      { return errors.Is(err, store.ErrNotFound) }
func isAlreadyExists(err error) bool { return errors.Is(err, store.ErrAlreadyExists) }
