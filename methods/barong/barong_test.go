package barong

import (
	"errors"
	"testing"

	"partnergate/core/fault"
	"partnergate/store"
)

func TestUID(t *testing.T) {
	for _, tc := range []struct {
		u    store.User
		want string
	}{
		{store.User{ID: "01a23c8c-65b4-73d0-ae3c-f15a51ebbf69", UID: "ID00FF00FF00"}, "ID00FF00FF00"},
		{store.User{ID: "01a23c8c-65b4-73d0-ae3c-f15a51ebbf69"}, "ID5A51EBBF69"},
		{store.User{ID: "abc"}, "IDABC"},
	} {
		if got := UID(tc.u); got != tc.want {
			t.Errorf("UID(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}

func TestPresentReferral(t *testing.T) {
	if got := Present(store.User{ID: "u", UID: "ID0000000001"}, store.Profile{}); got.ReferralUID != nil {
		t.Fatalf("referral_uid %v for a user without one", *got.ReferralUID)
	}
	got := Present(store.User{ID: "u", UID: "ID0000000001", ReferralUID: "ID0000000002"}, store.Profile{})
	if got.UID != "ID0000000001" || got.ReferralUID == nil || *got.ReferralUID != "ID0000000002" {
		t.Fatalf("%+v", got)
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
