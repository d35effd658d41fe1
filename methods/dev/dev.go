// Package dev serves dev.outbox.list, registered only in --dev mode (which
// the server refuses unless it listens on loopback), so integration tests can
// read the codes and links the gateway would have delivered.
package dev

import (
	"net/http"

	"partnergate/core/fault"
	"partnergate/methods/dev/devwire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the dev.* namespace.
type Service struct {
	Store store.Store
	// Open returns a queued message's clear body; bodies are sealed at rest
	// because they carry codes.
	Open func(m store.Message) (string, error)
}

// Methods declares the namespace.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "dev.outbox.list", Go: "OutboxList", Access: rpc.Public, RateClass: rpc.NoLimit, Positional: []string{"to"},
			Doc: "Dev mode only: lists the messages queued for an email or phone, newest first."},
	}
}

// The wire types under their old names: core/delivery's test calls the
// service with them, and core/ is not this change's to edit. New code names
// devwire's; these go once that test does.
type (
	OutboxParams = devwire.OutboxParams
	OutboxResult = devwire.OutboxResult
)

// OutboxList is dev.outbox.list.
func (s *Service) OutboxList(r *http.Request, p *devwire.OutboxParams, res *devwire.OutboxResult) error {
	if p.To == "" {
		return fault.Field(fault.Invalid, "to", "required")
	}
	ms, err := s.Store.MessagesTo(r.Context(), p.To, 100)
	if err != nil {
		return err
	}
	res.Messages = make([]devwire.OutboxMessage, 0, len(ms))
	for _, m := range ms {
		body := m.Body
		if s.Open != nil {
			if body, err = s.Open(m); err != nil {
				// Not sealed, or sealed under a key no longer in the ring:
				// list it without a body rather than fail the whole list.
				body = ""
			}
		}
		res.Messages = append(res.Messages, devwire.OutboxMessage{Channel: m.Channel, To: m.To, Subject: m.Subject, Body: body, Created: m.Created.UTC()})
	}
	return nil
}
