package store

import (
	"context"
	"time"
)

// OutboxEntry is an outbox message with its delivery state, as the
// dispatcher sees it.
type OutboxEntry struct {
	Message
	// Attempts counts the deliveries started, the one a claim starts
	// included: ClaimMessages increments it, so a message whose sending
	// crashes the process still runs out of attempts.
	Attempts int
	// NextAttempt is when the message becomes due. Rows written by
	// EnqueueMessage are due at once: NextAttempt is their Created.
	NextAttempt time.Time
	// ClaimedUntil is the end of the current claim's lease; nil when no
	// dispatcher holds the message.
	ClaimedUntil *time.Time
	// LastError is the error of the latest failed attempt, "" if none.
	LastError string
	// Dead is set when the message will never be tried again.
	Dead bool
}

// MaxOutboxErrorLen is how much of an error text MarkFailed keeps, in bytes.
const MaxOutboxErrorLen = 1000

// Outbox is the delivery side of the outbox: what a dispatcher needs to send
// queued messages, from one process or many sharing a database. A message is
// due when it is not sent, not dead, its NextAttempt has come and no live
// lease holds it. Backends implement it beside Store.
type Outbox interface {
	// ClaimMessages leases up to limit due messages (limit <= 0: none) to
	// the caller until now+lease, oldest due first, increments their
	// Attempts and returns them. Concurrent callers, in one process or
	// several, never receive the same message while its lease runs; a
	// message whose lease ran out without MarkSent or MarkFailed is due
	// again.
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error)
	// MarkSent records the delivery at the given time and releases the
	// lease. Marking a message sent twice keeps the first time.
	// ErrNotFound.
	MarkSent(ctx context.Context, id int64, at time.Time) error
	// MarkFailed records a failed attempt: errText (cut to
	// MaxOutboxErrorLen bytes), the time of the next attempt, and whether
	// the message is now dead. It releases the lease. A message already
	// sent is left as it is. ErrNotFound.
	MarkFailed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error
	// OutboxEntryByID returns one message with its delivery state.
	// ErrNotFound.
	OutboxEntryByID(ctx context.Context, id int64) (OutboxEntry, error)
}
