package delivery

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core/keyring"
	"partnergate/store"
)

// Dispatcher defaults.
const (
	DefaultPoll        = time.Second
	DefaultBatch       = 20
	DefaultWorkers     = 4
	DefaultSendTimeout = 30 * time.Second
	DefaultMaxAttempts = 12
	DefaultBaseBackoff = 5 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
)

// releaseSlack is how many claims beyond MaxAttempts a message may see
// when claims end without a send (shutdown, a crash) before it is given up.
const releaseSlack = 3

// markTimeout bounds recording an outcome; it runs even while shutting
// down, so a message sent is not sent again.
const markTimeout = 10 * time.Second

// Dispatcher sends queued messages: it claims due ones under a lease, sends
// each through its channel's Sender, marks it sent, or records the error and
// retries later with exponential backoff (BaseBackoff doubling up to
// MaxBackoff) until MaxAttempts, when it marks the message dead and logs an
// error. Run one per process; several processes may share a database.
//
// Set the exported fields, if at all, before Run; zero values take the
// defaults above.
type Dispatcher struct {
	store   store.Outbox
	ring    *keyring.Ring
	senders map[string]Sender
	log     zerolog.Logger
	wake    chan struct{}

	// Now is the clock for claims, leases and backoff. Default time.Now.
	Now func() time.Time
	// Poll is the pause between claims when nothing is due.
	Poll time.Duration
	// Batch is how many messages one claim takes.
	Batch int
	// Workers is how many messages of a batch are sent at once.
	Workers int
	// SendTimeout bounds one Send.
	SendTimeout time.Duration
	// Lease is how long a claim holds its messages; a process that dies
	// holding some releases them when it ends. Zero: long enough for a whole
	// batch to time out, SendTimeout × ⌈Batch/Workers⌉ + 1 min. A message
	// is sent only while at least SendTimeout of its lease is left, so a
	// lease never runs out during a send and no other process can send the
	// same message meanwhile (clocks of processes sharing a database must
	// agree to well within a minute).
	Lease time.Duration
	// MaxAttempts is how many sends are tried before a message is dead.
	MaxAttempts int
	// BaseBackoff is the wait after the first failure; it doubles with each
	// further failure, up to MaxBackoff.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// NewDispatcher returns a dispatcher reading st, opening bodies with ring,
// and sending through senders keyed by channel (ChannelEmail, ChannelSMS).
// A channel without a sender fails its messages (and logs why) until they
// are dead.
func NewDispatcher(st store.Outbox, ring *keyring.Ring, senders map[string]Sender, log zerolog.Logger) (*Dispatcher, error) {
	if st == nil || ring == nil {
		return nil, errors.New("delivery: NewDispatcher needs a store and a key ring")
	}
	ss := make(map[string]Sender, len(senders))
	for ch, s := range senders {
		if ch != ChannelEmail && ch != ChannelSMS {
			return nil, fmt.Errorf("delivery: NewDispatcher: unknown channel %q", ch)
		}
		if s != nil {
			ss[ch] = s
		}
	}
	return &Dispatcher{store: st, ring: ring, senders: ss, log: log, wake: make(chan struct{}, 1)}, nil
}

// Wake makes a running Run claim at once instead of at its next poll. It
// never blocks; Outbox.Wake is meant to be set to it.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// settings is the Dispatcher's tuning with defaults applied.
type settings struct {
	now                     func() time.Time
	poll, sendTimeout       time.Duration
	lease, base, maxBackoff time.Duration
	batch, workers, maxTry  int
}

func (d *Dispatcher) settings() settings {
	s := settings{now: d.Now, poll: d.Poll, sendTimeout: d.SendTimeout, lease: d.Lease,
		base: d.BaseBackoff, maxBackoff: d.MaxBackoff, batch: d.Batch, workers: d.Workers, maxTry: d.MaxAttempts}
	if s.now == nil {
		s.now = time.Now
	}
	if s.poll <= 0 {
		s.poll = DefaultPoll
	}
	if s.sendTimeout <= 0 {
		s.sendTimeout = DefaultSendTimeout
	}
	if s.batch <= 0 {
		s.batch = DefaultBatch
	}
	if s.workers <= 0 {
		s.workers = DefaultWorkers
	}
	if s.workers > s.batch {
		s.workers = s.batch
	}
	if s.lease <= 0 {
		rounds := (s.batch + s.workers - 1) / s.workers
		s.lease = time.Duration(rounds)*s.sendTimeout + time.Minute
	}
	if s.maxTry <= 0 {
		s.maxTry = DefaultMaxAttempts
	}
	if s.base <= 0 {
		s.base = DefaultBaseBackoff
	}
	if s.maxBackoff <= 0 {
		s.maxBackoff = DefaultMaxBackoff
	}
	return s
}

// Backoff is the wait after a message's attempts-th failed attempt:
// BaseBackoff × 2^(attempts-1), at most MaxBackoff.
func (d *Dispatcher) Backoff(attempts int) time.Duration {
	return d.settings().backoff(attempts)
}

func (s settings) backoff(attempts int) time.Duration {
	b := s.base
	for i := 1; i < attempts && b < s.maxBackoff; i++ {
		b *= 2
	}
	return min(b, s.maxBackoff)
}

// Run dispatches until ctx ends, then returns nil once the sends under way
// have finished. Store errors are logged and retried at the next poll, so
// delivery resumes by itself when the database comes back.
func (d *Dispatcher) Run(ctx context.Context) error {
	s := d.settings()
	channels := make([]string, 0, len(d.senders))
	for ch := range d.senders {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	d.log.Info().Strs("channels", channels).Dur("poll", s.poll).Int("batch", s.batch).Msg("outbox dispatcher started")
	for _, ch := range []string{ChannelEmail, ChannelSMS} {
		if d.senders[ch] == nil {
			d.log.Warn().Str("channel", ch).Msg("no sender configured: messages on this channel will fail and end dead")
		}
	}
	timer := time.NewTimer(s.poll)
	defer timer.Stop()
	failing := 0
	for {
		n, err := d.RunOnce(ctx)
		if ctx.Err() != nil {
			d.log.Info().Msg("outbox dispatcher stopped")
			return nil
		}
		if err != nil {
			failing++
			// Once at the start of an outage, then once a minute or so.
			if failing == 1 || failing%60 == 0 {
				d.log.Warn().Err(err).Int("failures", failing).Msg("outbox: cannot claim messages; retrying")
			}
		} else {
			if failing > 0 {
				d.log.Info().Msg("outbox: claiming works again")
			}
			failing = 0
			if n >= s.batch {
				continue // more may be due
			}
		}
		timer.Reset(s.poll)
		select {
		case <-ctx.Done():
			d.log.Info().Msg("outbox dispatcher stopped")
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// RunOnce claims one batch of due messages and delivers it, returning how
// many were claimed. Errors recording a single message's outcome are
// logged, not returned.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	s := d.settings()
	now := s.now()
	es, err := d.store.ClaimMessages(ctx, now, s.lease, s.batch)
	if err != nil {
		return 0, err
	}
	leaseEnd := now.Add(s.lease)
	jobs := make(chan store.OutboxEntry)
	var wg sync.WaitGroup
	for range min(s.workers, len(es)) {
		wg.Go(func() {
			for e := range jobs {
				d.deliver(ctx, s, e, leaseEnd)
			}
		})
	}
	for _, e := range es {
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	return len(es), nil
}

func markCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
}

// deliver sends one claimed message and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, s settings, e store.OutboxEntry, leaseEnd time.Time) {
	if ctx.Err() != nil || s.now().Add(s.sendTimeout).After(leaseEnd) {
		// Shutting down, or too little lease left to send safely: hand
		// the message back untouched, due at once.
		d.release(ctx, s, e)
		return
	}
	if e.Attempts > s.maxTry+releaseSlack {
		// Claims kept ending with no outcome recorded (the process died,
		// perhaps because of this very message): give up.
		d.fail(ctx, s, e, Permanent(errors.New("attempts exhausted by claims that recorded no outcome")))
		return
	}
	body, err := openBody(d.ring, e.Message)
	if err != nil {
		d.fail(ctx, s, e, Permanent(errors.New("the body does not open: not sealed, or sealed under a key no longer in the ring")))
		return
	}
	sender := d.senders[e.Channel]
	if sender == nil {
		d.fail(ctx, s, e, fmt.Errorf("no sender configured for channel %q", e.Channel))
		return
	}
	sctx, cancel := context.WithTimeout(ctx, s.sendTimeout)
	err = sender.Send(sctx, e.To, e.Subject, body)
	cancel()
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrPermanent) {
			// Interrupted by shutdown: not the message's fault.
			d.release(ctx, s, e)
			return
		}
		d.fail(ctx, s, e, err)
		return
	}
	mctx, mcancel := markCtx(ctx)
	defer mcancel()
	if err := d.store.MarkSent(mctx, e.ID, s.now()); err != nil {
		// It went out but the store did not hear of it: when the lease
		// runs out it will be sent again. Better twice than never.
		d.log.Error().Err(err).Int64("outboxId", e.ID).Str("channel", e.Channel).
			Msg("outbox: message sent but not marked sent; it may be sent again")
		return
	}
	d.log.Debug().Int64("outboxId", e.ID).Str("channel", e.Channel).Int("attempts", e.Attempts).Msg("message sent")
}

// release hands a claimed message back, due at once, keeping its last
// error. The attempt its claim counted stays counted.
func (d *Dispatcher) release(ctx context.Context, s settings, e store.OutboxEntry) {
	mctx, cancel := markCtx(ctx)
	defer cancel()
	if err := d.store.MarkFailed(mctx, e.ID, e.LastError, s.now(), false); err != nil {
		d.log.Warn().Err(err).Int64("outboxId", e.ID).Msg("outbox: cannot release a claimed message; it is due again when its lease runs out")
	}
}

// fail records a failed attempt: retry after the backoff, or dead when the
// attempts ran out or the error is permanent.
func (d *Dispatcher) fail(ctx context.Context, s settings, e store.OutboxEntry, sendErr error) {
	text := sendErr.Error()
	now := s.now()
	dead := errors.Is(sendErr, ErrPermanent) || e.Attempts >= s.maxTry
	next := now.Add(s.backoff(e.Attempts))
	if dead {
		next = now
	}
	mctx, cancel := markCtx(ctx)
	defer cancel()
	if err := d.store.MarkFailed(mctx, e.ID, text, next, dead); err != nil {
		d.log.Error().Err(err).Int64("outboxId", e.ID).Str("sendError", text).
			Msg("outbox: cannot record a failed attempt; it is due again when its lease runs out")
		return
	}
	if dead {
		d.logDead(e, text)
		return
	}
	d.log.Warn().Int64("outboxId", e.ID).Str("channel", e.Channel).Int("attempts", e.Attempts).
		Str("error", text).Time("retryAt", next).Msg("outbox: delivery failed; will retry")
}

func (d *Dispatcher) logDead(e store.OutboxEntry, text string) {
	d.log.Error().Int64("outboxId", e.ID).Str("channel", e.Channel).Int("attempts", e.Attempts).
		Str("error", text).Time("created", e.Created).Msg("outbox: message dead, delivery abandoned")
}
