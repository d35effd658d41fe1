package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

func TestStoreError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code fault.Code
	}{
		{"unavailable", store.ErrUnavailable, fault.Unavailable},
		{"unavailable, wrapped", fmt.Errorf("kv: get: %w", store.ErrUnavailable), fault.Unavailable},
		{"not found stays the caller's to decide", store.ErrNotFound, 0},
		{"already exists stays the caller's to decide", store.ErrAlreadyExists, 0},
		{"anything else is internal", errors.New("boom"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := core.StoreError("accounts: read user", tt.err)
			if got := fault.CodeOf(err); got != tt.code {
				t.Errorf("code %d, want %d", got, tt.code)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
		})
	}
}

func TestCallFrom(t *testing.T) {
	if got := core.CallFrom(context.Background()); got.Actor() != "none" {
		t.Errorf("anonymous actor %q, want none", got.Actor())
	}
	ctx := core.WithCall(context.Background(), core.Call{ActorKind: "partner", ActorID: "pk_1", IP: "192.0.2.1"})
	if got := core.CallFrom(ctx); got.Actor() != "partner:pk_1" || got.IP != "192.0.2.1" {
		t.Errorf("CallFrom = %+v", got)
	}
}
