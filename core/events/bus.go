// Package events carries account events to the user they concern: a bus
// over Redis pub/sub, so an event published by any gateway process reaches
// the user's connections on every other, and the WebSocket endpoint
// (GET /ws) that pushes them to clients as JSON-RPC 2.0 notifications.
//
// Delivery is best effort, as pub/sub is: an event published while no
// connection of the user is subscribed, or while Redis is unreachable, is
// lost. Clients treat a notification as a hint to re-read state, never as
// the state itself.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// Event types the account core publishes.
const (
	Verified        = "verified"         // an email or phone was verified
	SettingsChanged = "settings.changed" // user.settings.set changed something
	SessionRevoked  = "session.revoked"  // a session of the user was ended
)

// Event is one account event. Data is optional, type-specific detail; it
// must never carry a secret (tokens, codes), since it is pushed verbatim.
type Event struct {
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Publisher is what code that raises events needs.
type Publisher interface {
	Publish(ctx context.Context, userID string, e Event) error
}

var (
	// ErrClosed ends a subscription whose bus was closed or lost Redis for
	// good.
	ErrClosed = errors.New("events: bus closed")
	// ErrOverflow ends a subscription whose reader fell behind by more than
	// the buffer: events would otherwise be dropped silently.
	ErrOverflow = errors.New("events: subscriber too slow")
)

// DefaultBuffer is how many events a subscription holds before it is ended
// with ErrOverflow.
const DefaultBuffer = 64

// Bus publishes and subscribes to per-user events over Redis. One Redis
// connection per process carries every subscription: a user's channel is
// subscribed while at least one local subscriber wants it. A Bus is safe
// for concurrent use.
type Bus struct {
	client redis.UniversalClient
	prefix string
	buffer int
	now    func() time.Time

	mu       sync.Mutex
	ps       *redis.PubSub
	loopDone chan struct{}
	subs     map[string]map[*Subscription]struct{} // channel → local subscribers
	// waiters holds, per channel, one entry for each SUBSCRIBE sent and not
	// yet confirmed, oldest first; a confirmation closes the oldest.
	waiters map[string][]chan struct{}
	closed  bool
}

// Option configures a Bus.
type Option func(*Bus)

// WithPrefix sets the channel prefix (default "pg:", as the kv keys), so
// deployments sharing one Redis do not hear each other.
func WithPrefix(p string) Option { return func(b *Bus) { b.prefix = p } }

// WithBuffer sets each subscription's buffer (default DefaultBuffer).
func WithBuffer(n int) Option {
	return func(b *Bus) {
		if n > 0 {
			b.buffer = n
		}
	}
}

// WithClock sets the clock that stamps events published without a time.
func WithClock(now func() time.Time) Option {
	return func(b *Bus) {
		if now != nil {
			b.now = now
		}
	}
}

// New returns a bus over client. It opens no connection until the first
// Subscribe; Publish uses the client's pool.
func New(client redis.UniversalClient, opts ...Option) *Bus {
	b := &Bus{
		client:  client,
		prefix:  "pg:",
		buffer:  DefaultBuffer,
		now:     time.Now,
		subs:    map[string]map[*Subscription]struct{}{},
		waiters: map[string][]chan struct{}{},
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// channel names a user's channel. The braces are the user's hash tag, as
// for the kv keys.
func (b *Bus) channel(userID string) string { return b.prefix + "ev:{u:" + userID + "}" }

// Publish sends e to every subscriber of userID on every process. At is set
// from the bus clock when zero. Errors wrap store.ErrUnavailable: callers
// that publish after a committed change log them and carry on.
func (b *Bus) Publish(ctx context.Context, userID string, e Event) error {
	if userID == "" || e.Type == "" || strings.ContainsAny(userID, "{}") {
		return fmt.Errorf("events: publish: user id and type are required (got %q, %q)", userID, e.Type)
	}
	if e.At.IsZero() {
		e.At = b.now()
	}
	e.At = e.At.UTC()
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("events: publish: %w", err)
	}
	if err := b.client.Publish(ctx, b.channel(userID), payload).Err(); err != nil {
		return fmt.Errorf("events: publish: %w: %w", store.ErrUnavailable, err)
	}
	return nil
}

// Subscription receives one user's events until closed.
type Subscription struct {
	bus    *Bus
	userID string
	ch     string
	c      chan Event
	err    error // why c was closed; written before close(c), under bus.mu
	ended  bool
}

// Events delivers the user's events. It is closed when the subscription
// ends; Err then says why.
func (s *Subscription) Events() <-chan Event { return s.c }

// UserID is the user whose events s receives.
func (s *Subscription) UserID() string { return s.userID }

// Err is nil while Events is open and after Close, ErrOverflow when the
// reader fell behind, ErrClosed when the bus went away.
func (s *Subscription) Err() error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.err
}

// Close ends the subscription; it may be called more than once.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	s.bus.endLocked(s, nil)
}

// Subscribe starts receiving userID's events. It returns once Redis has
// confirmed the channel, so an event published after Subscribe returns is
// delivered; ctx bounds that wait.
func (b *Bus) Subscribe(ctx context.Context, userID string) (*Subscription, error) {
	if userID == "" || strings.ContainsAny(userID, "{}") {
		return nil, fmt.Errorf("events: subscribe: invalid user id %q", userID)
	}
	ch := b.channel(userID)
	s := &Subscription{bus: b, userID: userID, ch: ch, c: make(chan Event, b.buffer)}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if b.ps == nil {
		b.ps = b.client.Subscribe(context.Background())
		b.loopDone = make(chan struct{})
		go b.loop(b.ps, b.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)), b.loopDone)
	}
	var wait chan struct{}
	set := b.subs[ch]
	if set == nil {
		wait = make(chan struct{})
		b.waiters[ch] = append(b.waiters[ch], wait)
		// Sent under b.mu so SUBSCRIBE and UNSUBSCRIBE of one channel reach
		// Redis in the order the subscriber set changed.
		if err := b.ps.Subscribe(ctx, ch); err != nil {
			b.dropWaiterLocked(ch, wait)
			b.mu.Unlock()
			return nil, fmt.Errorf("events: subscribe: %w: %w", store.ErrUnavailable, err)
		}
		set = map[*Subscription]struct{}{}
		b.subs[ch] = set
	} else if q := b.waiters[ch]; len(q) > 0 {
		wait = q[len(q)-1]
	}
	set[s] = struct{}{}
	b.mu.Unlock()

	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("events: subscribe: not confirmed: %w: %w", store.ErrUnavailable, ctx.Err())
		}
	}
	return s, nil
}

func (b *Bus) dropWaiterLocked(ch string, w chan struct{}) {
	q := b.waiters[ch]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(b.waiters, ch)
	} else {
		b.waiters[ch] = q
	}
}

// endLocked removes s and closes its channel with err; the user's channel
// is unsubscribed when s was its last local subscriber.
func (b *Bus) endLocked(s *Subscription, err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	close(s.c)
	set := b.subs[s.ch]
	delete(set, s)
	if len(set) > 0 || set == nil {
		return
	}
	delete(b.subs, s.ch)
	if b.ps != nil && !b.closed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// A failed UNSUBSCRIBE only leaves a channel nobody reads; go-redis
		// forgets it either way, so a reconnect will not restore it.
		_ = b.ps.Unsubscribe(ctx, s.ch)
		cancel()
	}
}

// loop fans messages out to local subscribers. It never blocks on one: a
// subscriber whose buffer is full is ended with ErrOverflow.
func (b *Bus) loop(ps *redis.PubSub, msgs <-chan any, done chan struct{}) {
	defer close(done)
	for m := range msgs {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			b.mu.Lock()
			if q := b.waiters[m.Channel]; len(q) > 0 {
				close(q[0])
				b.dropWaiterLocked(m.Channel, q[0])
			}
			b.mu.Unlock()
		case *redis.Message:
			var e Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil || e.Type == "" {
				continue // not ours; nothing to deliver
			}
			b.mu.Lock()
			for s := range b.subs[m.Channel] {
				select {
				case s.c <- e:
				default:
					b.endLocked(s, ErrOverflow)
				}
			}
			b.mu.Unlock()
		}
	}
	// go-redis closes msgs only when the PubSub or its client is closed.
	b.mu.Lock()
	for _, set := range b.subs {
		for s := range set {
			b.endLocked(s, ErrClosed)
		}
	}
	if b.ps == ps {
		b.ps = nil
	}
	for ch, q := range b.waiters {
		for _, w := range q {
			close(w)
		}
		delete(b.waiters, ch)
	}
	b.mu.Unlock()
}

// Close ends every subscription with ErrClosed and releases the pub/sub
// connection. Publish keeps working after Close.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ps, done := b.ps, b.loopDone
	b.mu.Unlock()
	if ps == nil {
		return nil
	}
	err := ps.Close()
	<-done
	return err
}
