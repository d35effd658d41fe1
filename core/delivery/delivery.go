// Package delivery sends verification codes and links to users by email and
// SMS through a transactional outbox.
//
// Domain code calls one thing, (*Outbox).Enqueue (or Deliver): it renders a
// localised template, seals the body with the key ring, and writes the
// message to the SQL outbox, so a code never sits in the database in clear
// (SECURITY.md 8) and a message queued is never lost to a crash. In dev mode
// that is all: the message is recorded as delivered and dev.outbox.list
// shows it (decrypted through OpenBody). Otherwise a Dispatcher, one per
// process, claims due messages under a lease, sends them through the
// channel's Sender (SMTP for email, a webhook for SMS), and retries failures
// with exponential backoff until a message is sent or marked dead. Several
// processes may dispatch from one Postgres: claims never overlap, and the
// claims of a process that died come back when their lease runs out.
//
// Nothing here logs a body, a code, a link or an address.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	"partnergate/core/keyring"
	"partnergate/store"
)

// Channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// MaxAddressLen bounds Message.To.
const MaxAddressLen = 320

// Message is what domain code asks to deliver.
type Message struct {
	Channel  string // ChannelEmail or ChannelSMS
	To       string // email address or E.164 phone number
	Lang     string // language tag ("ru", "en-GB"); unknown ones fall back to English
	Template string // one of the Template* names
	Vars     map[string]string
}

// Sender delivers one rendered message. Implementations honour ctx's
// deadline, and return an error wrapping ErrPermanent when retrying cannot
// help (the recipient was refused). An error's text is stored and logged,
// so it must not hold the body.
type Sender interface {
	Send(ctx context.Context, to, subject, body string) error
}

// ErrPermanent marks a send error that retrying cannot fix: the dispatcher
// marks the message dead at once.
var ErrPermanent = errors.New("permanent delivery failure")

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }

func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// Permanent wraps err so errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Enqueuer is the part of store.Store the Outbox writes to.
type Enqueuer interface {
	EnqueueMessage(ctx context.Context, m store.Message) (int64, error)
}

// Outbox queues messages. It is safe for concurrent use; set its optional
// fields before the first call.
type Outbox struct {
	store Enqueuer
	ring  *keyring.Ring
	dev   bool

	// Now is the clock stamping Created (and Sent in dev mode).
	Now func() time.Time
	// Wake, if set, is called after each message queued in real mode;
	// (*Dispatcher).Wake sends it without waiting for the next poll.
	Wake func()
	// Log receives one debug line per message (id, channel, template).
	Log zerolog.Logger
}

// NewOutbox returns an outbox writing to st and sealing with ring. In dev
// mode messages are stored already marked delivered, so no dispatcher ever
// sends them, and dev.outbox.list reads them.
func NewOutbox(st Enqueuer, ring *keyring.Ring, dev bool) (*Outbox, error) {
	if st == nil || ring == nil {
		return nil, errors.New("delivery: NewOutbox needs a store and a key ring")
	}
	return &Outbox{store: st, ring: ring, dev: dev, Now: time.Now, Log: zerolog.Nop()}, nil
}

// Dev reports whether the outbox is in dev mode.
func (o *Outbox) Dev() bool { return o.dev }

// sealContext binds a sealed body to its channel and recipient, so a body
// copied into another row does not open.
func sealContext(channel, to string) string {
	return "outbox\x00" + channel + "\x00" + to
}

func validate(m Message) error {
	if m.Channel != ChannelEmail && m.Channel != ChannelSMS {
		return fmt.Errorf("delivery: unknown channel %q", m.Channel)
	}
	if m.To == "" || len(m.To) > MaxAddressLen {
		return errors.New("delivery: the recipient is empty or too long")
	}
	if strings.IndexFunc(m.To, unicode.IsControl) >= 0 {
		return errors.New("delivery: the recipient holds a control character")
	}
	return nil
}

// Enqueue renders m, seals its body and queues it. It returns once the
// message is stored; sending happens later, in a Dispatcher.
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	return o.enqueue(ctx, m, false)
}

// prepare renders and seals m into the row the outbox stores.
func (o *Outbox) prepare(m Message, decoy bool) (store.Message, error) {
	if err := validate(m); err != nil {
		return store.Message{}, err
	}
	subject, body, err := Render(m)
	if err != nil {
		return store.Message{}, err
	}
	sealed, err := o.ring.Seal([]byte(body), sealContext(m.Channel, m.To))
	if err != nil {
		return store.Message{}, fmt.Errorf("delivery: seal: %w", err)
	}
	now := o.Now().UTC()
	sm := store.Message{Channel: m.Channel, To: m.To, Subject: subject, Body: sealed, Created: now}
	if o.dev || decoy {
		// Dev mode delivers to the outbox itself: record it as done so a
		// dispatcher pointed at this database later never sends it. A
		// decoy is done from the start: it exists only to cost the same.
		sm.Sent = &now
	}
	return sm, nil
}

// PrepareMessage renders and seals a message exactly as Deliver does and
// returns the outbox row instead of storing it, for a caller that writes it
// in its own transaction (a registration: store.NewUser.Messages). Call
// Queued once that transaction has committed.
func (o *Outbox) PrepareMessage(channel, to, lang, template string, vars map[string]string) (store.Message, error) {
	return o.prepare(Message{Channel: channel, To: to, Lang: lang, Template: template, Vars: vars}, false)
}

// Queued tells the dispatcher that prepared messages were stored.
func (o *Outbox) Queued() {
	if !o.dev && o.Wake != nil {
		o.Wake()
	}
}

func (o *Outbox) enqueue(ctx context.Context, m Message, decoy bool) error {
	sm, err := o.prepare(m, decoy)
	if err != nil {
		return err
	}
	id, err := o.store.EnqueueMessage(ctx, sm)
	if err != nil {
		return fmt.Errorf("delivery: enqueue: %w", err)
	}
	o.Log.Debug().Int64("outboxId", id).Str("channel", m.Channel).Str("template", m.Template).
		Bool("dev", o.dev).Msg("message queued")
	if !o.dev && !decoy && o.Wake != nil {
		o.Wake()
	}
	return nil
}

// Deliver is Enqueue with the message spelt out: the shape domain packages
// declare as their own interface (codes.Deliverer).
func (o *Outbox) Deliver(ctx context.Context, channel, to, lang, template string, vars map[string]string) error {
	return o.Enqueue(ctx, Message{Channel: channel, To: to, Lang: lang, Template: template, Vars: vars})
}

// DeliverDecoy renders, seals and stores a message as Deliver does, but as
// already done, so no dispatcher ever sends it (codes.DecoyDeliverer): the
// same outbox write for an address no account holds as for one that does.
func (o *Outbox) DeliverDecoy(ctx context.Context, channel, to, lang, template string, vars map[string]string) error {
	return o.enqueue(ctx, Message{Channel: channel, To: to, Lang: lang, Template: template, Vars: vars}, true)
}

// OpenBody returns the clear body of a message queued by an Outbox sharing
// the key ring; dev.outbox.list uses it.
func (o *Outbox) OpenBody(m store.Message) (string, error) {
	return openBody(o.ring, m)
}

func openBody(ring *keyring.Ring, m store.Message) (string, error) {
	b, err := ring.Open(m.Body, sealContext(m.Channel, m.To))
	if err != nil {
		return "", fmt.Errorf("delivery: open body of message %d: %w", m.ID, err)
	}
	return string(b), nil
}
