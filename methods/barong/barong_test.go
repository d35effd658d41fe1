package barong

import (
	"errors"
	"testing"

	"partnergate/core/fault"
)

func TestUID(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"01a23c8c-65b4-73d0-ae3c-f15a51ebbf69", "ID5A51EBBF69"},
		{"abc", "IDABC"},
	} {
		if got := UID(tc.id); got != tc.want {
			t.Errorf("UID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestErr(t *testing.T) {
	keys := map[fault.Code]string{fault.WrongCredentials: "identity.session.invalid_params"}
	got, ok := fault.As(Err(fault.New(fault.WrongCredentials), keys))
	if !ok || got.Code != fault.WrongCredentials || got.Message != "identity.session.invalid_params" {
		t.Fatalf("keyed fault: %+v", got)
	}
	if got, _ := fault.As(Err(fault.New(fault.NotFound), keys)); got.Message == "identity.session.invalid_params" {
		t.Fatal("an unkeyed code took a key")
	}
	plain := errors.New("boom")
	if Err(plain, keys) != plain {
		t.Fatal("a non-fault error was changed")
	}
}
