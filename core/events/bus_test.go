package events

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// newRedis starts a miniredis for one test and returns a client factory:
// each client stands for one gateway process.
func newRedis(t *testing.T) (*miniredis.Miniredis, func() redis.UniversalClient) {
	t.Helper()
	mr := miniredis.RunT(t)
	return mr, func() redis.UniversalClient {
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { c.Close() })
		return c
	}
}

func newBus(t *testing.T, client redis.UniversalClient, opts ...Option) *Bus {
	t.Helper()
	b := New(client, opts...)
	t.Cleanup(func() { b.Close() })
	return b
}

func subscribe(t *testing.T, b *Bus, user string) *Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s, err := b.Subscribe(ctx, user)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", user, err)
	}
	t.Cleanup(s.Close)
	return s
}

func receive(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func quiet(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		t.Fatalf("unexpected event %+v (open %v)", e, ok)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestBus_AcrossProcesses(t *testing.T) {
	_, client := newRedis(t)
	at := time.Date(2024, 5, 17, 9, 30, 0, 0, time.UTC)
	pub := newBus(t, client(), WithClock(func() time.Time { return at }))
	sub := newBus(t, client())

	alice := subscribe(t, sub, "alice")
	alice2 := subscribe(t, sub, "alice")
	bob := subscribe(t, sub, "bob")

	cases := []struct {
		name string
		e    Event
		want Event
	}{
		{"stamped by the clock", Event{Type: Verified}, Event{Type: Verified, At: at}},
		{"own time and data kept", Event{Type: SettingsChanged, At: at.Add(time.Hour), Data: json.RawMessage(`{"fields":["lang"]}`)},
			Event{Type: SettingsChanged, At: at.Add(time.Hour), Data: json.RawMessage(`{"fields":["lang"]}`)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := pub.Publish(t.Context(), "alice", tc.e); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*Subscription{alice, alice2} {
				got := receive(t, s)
				if got.Type != tc.want.Type || !got.At.Equal(tc.want.At) || string(got.Data) != string(tc.want.Data) {
					t.Errorf("got %+v, want %+v", got, tc.want)
				}
			}
		})
	}
	quiet(t, bob)
}

func TestBus_PublishRefusesBadInput(t *testing.T) {
	_, client := newRedis(t)
	b := newBus(t, client())
	for _, tc := range []struct {
		user string
		e    Event
	}{{"", Event{Type: Verified}}, {"u", Event{}}, {"u{x}", Event{Type: Verified}}} {
		if err := b.Publish(t.Context(), tc.user, tc.e); err == nil {
			t.Errorf("Publish(%q, %+v) accepted", tc.user, tc.e)
		}
	}
}

func TestBus_UnsubscribeAndResubscribe(t *testing.T) {
	_, client := newRedis(t)
	b := newBus(t, client())
	for round := range 3 {
		s := subscribe(t, b, "u")
		if err := b.Publish(t.Context(), "u", Event{Type: Verified}); err != nil {
			t.Fatal(err)
		}
		receive(t, s)
		s.Close()
		s.Close() // twice is fine
		if _, ok := <-s.Events(); ok {
			t.Fatalf("round %d: Events open after Close", round)
		}
		if s.Err() != nil {
			t.Errorf("Err after Close = %v", s.Err())
		}
	}
	b.mu.Lock()
	n := len(b.subs)
	b.mu.Unlock()
	if n != 0 {
		t.Errorf("%d channels still tracked", n)
	}
}

func TestBus_SlowSubscriberEnds(t *testing.T) {
	_, client := newRedis(t)
	b := newBus(t, client(), WithBuffer(2))
	slow := subscribe(t, b, "u")
	fast := subscribe(t, b, "u")
	for range 3 {
		if err := b.Publish(t.Context(), "u", Event{Type: SettingsChanged}); err != nil {
			t.Fatal(err)
		}
		receive(t, fast)
	}
	// The third event found slow's buffer full.
	n := 0
	for range slow.Events() {
		n++
	}
	if n != 2 || !errors.Is(slow.Err(), ErrOverflow) {
		t.Fatalf("slow got %d events then %v; want 2 and ErrOverflow", n, slow.Err())
	}
	if err := b.Publish(t.Context(), "u", Event{Type: Verified}); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, fast); got.Type != Verified {
		t.Errorf("fast got %+v", got)
	}
}

func TestBus_CloseEndsSubscriptions(t *testing.T) {
	_, client := newRedis(t)
	b := New(client())
	s := subscribe(t, b, "u")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.Events(); ok || !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("after Close: open %v, err %v", ok, s.Err())
	}
	if _, err := b.Subscribe(t.Context(), "u"); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
	if err := b.Publish(t.Context(), "u", Event{Type: Verified}); err != nil {
		t.Errorf("Publish after Close = %v", err)
	}
}

func TestBus_RedisDown(t *testing.T) {
	mr, client := newRedis(t)
	b := newBus(t, client())
	mr.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := b.Subscribe(ctx, "u"); err == nil {
		t.Error("Subscribe with Redis down succeeded")
	}
	if err := b.Publish(ctx, "u", Event{Type: Verified}); err == nil {
		t.Error("Publish with Redis down succeeded")
	}
}
