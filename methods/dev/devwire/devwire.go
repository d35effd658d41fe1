// Package devwire holds dev.outbox.list's params and result types. It imports
// only the standard library so that an SDK or integration test can name them
// without linking the server; methods/dev serves them.
package devwire

import "time"

// OutboxParams names the recipient.
type OutboxParams struct {
	To string `json:"to" rpc:"required,max=254"`
}

// OutboxMessage is one queued message.
type OutboxMessage struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
}

// OutboxResult lists messages.
type OutboxResult struct {
	Messages []OutboxMessage `json:"messages"`
}
