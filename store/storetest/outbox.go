package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"partnergate/store"
)

// testOutboxDelivery checks store.Outbox: claiming, leases, marking sent and
// failed, and that concurrent claimers never share a message. Backends that
// do not implement store.Outbox skip it.
func testOutboxDelivery(t *testing.T, s store.Store) {
	o, ok := s.(store.Outbox)
	if !ok {
		t.Skip("backend does not implement store.Outbox")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, o store.Outbox)
	}{
		{"ClaimDueInOrder", testClaimDueInOrder},
		{"LeaseExpiry", testClaimLeaseExpiry},
		{"MarkSent", testMarkSent},
		{"MarkFailed", testMarkFailed},
		{"NotFound", testOutboxNotFound},
		{"ErrorTextCleaned", testOutboxErrorTextCleaned},
		{"ConcurrentClaimers", testConcurrentClaimers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, o) })
	}
}

// enqueue adds a message created at the given time and returns its id.
func enqueue(t *testing.T, s store.Store, to string, created time.Time) int64 {
	t.Helper()
	id, err := s.EnqueueMessage(t.Context(), store.Message{
		Channel: "email", To: to, Subject: "subject " + to, Body: "sealed body " + to, Created: created,
	})
	if err != nil {
		t.Fatalf("EnqueueMessage: %v", err)
	}
	return id
}

func entryOf(t *testing.T, o store.Outbox, id int64) store.OutboxEntry {
	t.Helper()
	e, err := o.OutboxEntryByID(t.Context(), id)
	if err != nil {
		t.Fatalf("OutboxEntryByID(%d): %v", id, err)
	}
	return e
}

func claimIDs(t *testing.T, o store.Outbox, now time.Time, lease time.Duration, limit int) []int64 {
	t.Helper()
	es, err := o.ClaimMessages(t.Context(), now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimMessages(%v, %v, %d): %v", now, lease, limit, err)
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func sameIDs(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// The outbox is shared by the subtests of one store: each uses its own
// window of time, far from the others', so their messages never mix.
var (
	tClaim  = base.Add(1 * 24 * time.Hour)
	tLease  = base.Add(2 * 24 * time.Hour)
	tSent   = base.Add(3 * 24 * time.Hour)
	tFailed = base.Add(4 * 24 * time.Hour)
	tErr    = base.Add(5 * 24 * time.Hour)
	tConc   = base.Add(6 * 24 * time.Hour)
)

// drain claims and sends whatever is due at now, so a subtest starts from an
// empty queue whatever earlier subtests left pending.
func drain(t *testing.T, o store.Outbox, now time.Time) {
	t.Helper()
	for range 1000 {
		es, err := o.ClaimMessages(t.Context(), now, time.Hour, 100)
		if err != nil {
			t.Fatalf("ClaimMessages: %v", err)
		}
		if len(es) == 0 {
			return
		}
		for _, e := range es {
			if err := o.MarkSent(t.Context(), e.ID, now); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}
		}
	}
	t.Fatal("the outbox never drained: sent messages are claimed again")
}

func testClaimDueInOrder(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	now := tClaim
	if ids := claimIDs(t, o, now, time.Minute, 10); len(ids) != 0 {
		t.Fatalf("claimed %v from an empty outbox", ids)
	}
	// Enqueued out of due order: the later one first.
	later := enqueue(t, s, "later@example.com", now.Add(-time.Second))
	earlier := enqueue(t, s, "earlier@example.com", now.Add(-time.Minute))
	future := enqueue(t, s, "future@example.com", now.Add(time.Second))
	sentAt := now.Add(-time.Hour)
	if _, err := s.EnqueueMessage(ctx, store.Message{Channel: "sms", To: "+15550100", Body: "x", Created: now.Add(-time.Hour), Sent: &sentAt}); err != nil {
		t.Fatal(err)
	}

	if ids := claimIDs(t, o, now, time.Minute, 0); len(ids) != 0 {
		t.Fatalf("limit 0 claimed %v", ids)
	}
	if _, err := o.ClaimMessages(ctx, now, 0, 10); err == nil {
		t.Error("ClaimMessages accepted a zero lease")
	}
	if e := entryOf(t, o, earlier); e.Attempts != 0 || e.ClaimedUntil != nil {
		t.Fatalf("refused claims changed the entry: %+v", e)
	}

	es, err := o.ClaimMessages(ctx, now, time.Minute, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != earlier {
		t.Fatalf("limit 1 claimed %+v, want only %d", es, earlier)
	}
	e := es[0]
	if e.Channel != "email" || e.To != "earlier@example.com" || e.Subject != "subject earlier@example.com" ||
		e.Body != "sealed body earlier@example.com" || !e.Created.Equal(now.Add(-time.Minute)) || e.Sent != nil {
		t.Errorf("claimed message = %+v", e.Message)
	}
	if e.Attempts != 1 || e.Dead || e.LastError != "" || !e.NextAttempt.Equal(e.Created) ||
		e.ClaimedUntil == nil || !e.ClaimedUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed state = %+v, want 1 attempt, due at Created, leased for a minute", e)
	}
	if got := entryOf(t, o, earlier); got.Attempts != 1 || got.ClaimedUntil == nil || !got.ClaimedUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("stored state after claim = %+v", got)
	}

	if ids := claimIDs(t, o, now, time.Minute, 10); !sameIDs(ids, []int64{later}) {
		t.Fatalf("second claim = %v, want [%d] (leased, future and sent messages skipped)", ids, later)
	}
	if ids := claimIDs(t, o, now, time.Minute, 10); len(ids) != 0 {
		t.Fatalf("third claim = %v, want none", ids)
	}
	if ids := claimIDs(t, o, now.Add(time.Second), time.Minute, 10); !sameIDs(ids, []int64{future}) {
		t.Fatalf("claim when the future message is due = %v, want [%d]", ids, future)
	}
	drain(t, o, now.Add(time.Hour))
}

func testClaimLeaseExpiry(t *testing.T, s store.Store, o store.Outbox) {
	now := tLease
	drain(t, o, now)
	a := enqueue(t, s, "a@example.com", now.Add(-2*time.Second))
	b := enqueue(t, s, "b@example.com", now.Add(-time.Second))
	lease := 30 * time.Second
	if ids := claimIDs(t, o, now, lease, 10); !sameIDs(ids, []int64{a, b}) {
		t.Fatalf("claim = %v, want [%d %d]", ids, a, b)
	}
	if ids := claimIDs(t, o, now.Add(lease-time.Microsecond), lease, 10); len(ids) != 0 {
		t.Fatalf("claimed %v while the lease runs", ids)
	}
	if err := o.MarkSent(t.Context(), a, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// b's dispatcher vanished: at the end of its lease b is due again.
	es, err := o.ClaimMessages(t.Context(), now.Add(lease), lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != b || es[0].Attempts != 2 || !es[0].ClaimedUntil.Equal(now.Add(2*lease)) {
		t.Fatalf("claim after the lease = %+v, want %d with 2 attempts", es, b)
	}
	drain(t, o, now.Add(time.Hour))
}

func testMarkSent(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	now := tSent
	drain(t, o, now)
	id := enqueue(t, s, "sent@example.com", now)
	if ids := claimIDs(t, o, now, time.Minute, 10); !sameIDs(ids, []int64{id}) {
		t.Fatalf("claim = %v", ids)
	}
	at := now.Add(3 * time.Second)
	if err := o.MarkSent(ctx, id, at); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	e := entryOf(t, o, id)
	if e.Sent == nil || !e.Sent.Equal(at) || e.ClaimedUntil != nil || e.Attempts != 1 || e.Dead {
		t.Errorf("after MarkSent: %+v", e)
	}
	if err := o.MarkSent(ctx, id, at.Add(time.Hour)); err != nil {
		t.Fatalf("MarkSent again: %v", err)
	}
	if e := entryOf(t, o, id); !e.Sent.Equal(at) {
		t.Errorf("second MarkSent moved Sent to %v, want %v", e.Sent, at)
	}
	// MessagesTo sees the delivery too.
	ms, err := s.MessagesTo(ctx, "sent@example.com", 1)
	if err != nil || len(ms) != 1 || ms[0].Sent == nil || !ms[0].Sent.Equal(at) {
		t.Errorf("MessagesTo = %+v, %v", ms, err)
	}
	// A failure reported late (a lease ran out, another dispatcher sent
	// it) does not undo the delivery.
	if err := o.MarkFailed(ctx, id, "late", now.Add(time.Hour), true); err != nil {
		t.Fatalf("MarkFailed on a sent message: %v", err)
	}
	if e := entryOf(t, o, id); e.Dead || e.LastError != "" || !e.Sent.Equal(at) {
		t.Errorf("MarkFailed changed a sent message: %+v", e)
	}
	if ids := claimIDs(t, o, now.Add(24*time.Hour), time.Minute, 10); len(ids) != 0 {
		t.Errorf("claimed %v after MarkSent", ids)
	}
}

func testMarkFailed(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	now := tFailed
	drain(t, o, now)
	id := enqueue(t, s, "fail@example.com", now)
	cases := []struct {
		name    string
		errText string
		backoff time.Duration
		dead    bool
	}{
		{"first failure", "dial tcp: connection refused", 5 * time.Second, false},
		{"second failure", "451 4.3.0 try again later", 10 * time.Second, false},
		{"last failure", "timeout", 20 * time.Second, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, err := o.ClaimMessages(ctx, now, time.Minute, 10)
			if err != nil || len(es) != 1 || es[0].ID != id || es[0].Attempts != i+1 {
				t.Fatalf("claim = %+v, %v; want %d with %d attempts", es, err, id, i+1)
			}
			next := now.Add(c.backoff)
			if err := o.MarkFailed(ctx, id, c.errText, next, c.dead); err != nil {
				t.Fatalf("MarkFailed: %v", err)
			}
			e := entryOf(t, o, id)
			if e.LastError != c.errText || !e.NextAttempt.Equal(next) || e.ClaimedUntil != nil ||
				e.Dead != c.dead || e.Sent != nil || e.Attempts != i+1 {
				t.Fatalf("after MarkFailed: %+v", e)
			}
			if ids := claimIDs(t, o, next.Add(-time.Microsecond), time.Minute, 10); len(ids) != 0 {
				t.Fatalf("claimed %v before the next attempt", ids)
			}
			now = next
		})
	}
	// Dead: never due again, however late.
	if ids := claimIDs(t, o, now.Add(365*24*time.Hour), time.Minute, 10); len(ids) != 0 {
		t.Fatalf("claimed dead messages %v", ids)
	}
	if e := entryOf(t, o, id); !e.Dead || e.Attempts != 3 {
		t.Errorf("dead entry = %+v", e)
	}
}

func testOutboxNotFound(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	const missing = 1 << 40
	wantErr(t, "MarkSent(missing)", o.MarkSent(ctx, missing, base), store.ErrNotFound)
	wantErr(t, "MarkFailed(missing)", o.MarkFailed(ctx, missing, "x", base, false), store.ErrNotFound)
	_, err := o.OutboxEntryByID(ctx, missing)
	wantErr(t, "OutboxEntryByID(missing)", err, store.ErrNotFound)
}

func testOutboxErrorTextCleaned(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	now := tErr
	drain(t, o, now)
	cases := []struct {
		name, text string
	}{
		{"long multibyte", strings.Repeat("ошибка ", 400)},
		{"invalid utf-8 and NUL", "bad \xff\xfe bytes \x00 here"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := enqueue(t, s, "err@example.com", now)
			if err := o.MarkFailed(ctx, id, c.text, now, false); err != nil {
				t.Fatalf("MarkFailed: %v", err)
			}
			e := entryOf(t, o, id)
			if len(e.LastError) > store.MaxOutboxErrorLen || !utf8.ValidString(e.LastError) ||
				strings.ContainsRune(e.LastError, 0) || e.LastError == "" {
				t.Errorf("LastError = %q (%d bytes)", e.LastError, len(e.LastError))
			}
			if !strings.HasPrefix(c.text, e.LastError[:4]) {
				t.Errorf("LastError %q does not start like %q", e.LastError, c.text)
			}
		})
	}
	drain(t, o, now.Add(time.Hour))
}

func testConcurrentClaimers(t *testing.T, s store.Store, o store.Outbox) {
	ctx := t.Context()
	now := tConc
	drain(t, o, now)
	const n, claimers = 60, 8
	want := make(map[int64]bool, n)
	for i := range n {
		want[enqueue(t, s, fmt.Sprintf("c%d@example.com", i), now.Add(-time.Duration(i)*time.Millisecond))] = true
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		seen    = make(map[int64]int)
		claimed int
		errs    []error
	)
	for range claimers {
		wg.Go(func() {
			for {
				es, err := o.ClaimMessages(ctx, now, time.Hour, 3)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(es) == 0 {
					return
				}
				mu.Lock()
				for _, e := range es {
					seen[e.ID]++
					claimed++
				}
				stop := claimed > n // messages handed out twice: stop, the checks below fail
				mu.Unlock()
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("ClaimMessages: %v", err)
	}
	if len(seen) != n {
		t.Errorf("claimed %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 || !want[id] {
			t.Errorf("message %d claimed %d times (enqueued here: %v)", id, c, want[id])
		}
	}
	for id := range want {
		if e := entryOf(t, o, id); e.Attempts != 1 {
			t.Errorf("message %d: %d attempts, want 1", id, e.Attempts)
		}
	}
	drain(t, o, now.Add(2*time.Hour))
}
