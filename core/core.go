// Package core is the floor of partnergate's domain: its sub-packages
// (accounts, password, codes, delivery, events, keyring, partners, access,
// products, tracking, backup, and fault, the error catalogue) hold every
// business rule once, and each seed dialect in methods/ calls them. This
// package holds the little they all share: the call a dialect passes down
// and the one mapping from storage errors to the catalogue.
//
// The core depends on store's contracts and on nothing above it: not on
// methods/, and, but for core/access (the transport's gate), not on rpc/.
package core

import (
	"context"
	"errors"
	"fmt"

	"partnergate/core/fault"
	"partnergate/store"
)

// Call is what the core needs to know of the request a dialect serves: who
// acts and from where, for audit records, throttles and consent records.
// It is a value so that the core never reads the transport's types.
type Call struct {
	// ActorKind is the credential the caller presented ("none", "user",
	// "partner", ...) and ActorID whom it names (a user id, a partner kid).
	ActorKind string
	ActorID   string
	IP        string
	UserAgent string
	RequestID string
}

// Actor is how audit records name the actor: kind, or kind:id.
func (c Call) Actor() string {
	if c.ActorID == "" {
		return c.ActorKind
	}
	return c.ActorKind + ":" + c.ActorID
}

type callKey struct{}

// WithCall returns ctx carrying c. The transport's Bind hook sets it once
// per request; code run outside a request (the CLI, tests) may set its own.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the call ctx carries, or an anonymous one.
func CallFrom(ctx context.Context) Call {
	if c, ok := ctx.Value(callKey{}).(Call); ok {
		return c
	}
	return Call{ActorKind: "none"}
}

// StoreError is the one place a storage error meets the catalogue. It wraps
// err with the operation that met it; a store that cannot be reached
// (store.ErrUnavailable) becomes fault.Unavailable, which callers may retry.
// Anything else stays uncoded: the transport answers it as an internal
// failure and logs it. ErrNotFound and ErrAlreadyExists are left for the
// caller to decide, since their meaning differs by operation (an unknown
// login is WrongCredentials, not NotFound).
func StoreError(op string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	if errors.Is(err, store.ErrUnavailable) {
		return fault.Wrap(fault.Unavailable, wrapped)
	}
	return wrapped
}
