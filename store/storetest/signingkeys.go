package storetest

import (
	"errors"
	"testing"
	"time"

	"partnergate/store"
)

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ks, err := s.SigningKeys(ctx, base); err != nil || len(ks) != 0 {
		t.Fatalf("empty store: %v, %v", ks, err)
	}
	k1 := store.SigningKey{KID: "k1", Alg: "EdDSA", PrivateSealed: "sealed1", PublicJWK: `{"kty":"OKP"}`, Created: base}
	k2 := store.SigningKey{KID: "k2", Alg: "ES256", PrivateSealed: "sealed2", PublicJWK: `{"kty":"EC"}`, Created: base.Add(time.Hour)}
	if err := s.AddSigningKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSigningKey(ctx, k1); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("same kid again: %v, want ErrAlreadyExists", err)
	}
	if err := s.AddSigningKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	ks, err := s.SigningKeys(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || ks[0].KID != "k2" || ks[0].Retired != nil || ks[1].KID != "k1" ||
		ks[1].Retired == nil || !ks[1].Retired.Equal(k2.Created) {
		t.Fatalf("after rotation: %+v", ks)
	}
	if ks[0].PrivateSealed != "sealed2" || ks[0].PublicJWK != `{"kty":"EC"}` || ks[0].Alg != "ES256" || !ks[0].Created.Equal(k2.Created) {
		t.Fatalf("round trip: %+v", ks[0])
	}
	// A key retired before since is no longer listed; the current one is.
	ks, err = s.SigningKeys(ctx, base.Add(2*time.Hour))
	if err != nil || len(ks) != 1 || ks[0].KID != "k2" {
		t.Fatalf("since after k1 retired: %+v, %v", ks, err)
	}
	for _, bad := range []store.SigningKey{
		{Alg: "EdDSA", PrivateSealed: "x", PublicJWK: "y"},
		{KID: "k3", PrivateSealed: "x", PublicJWK: "y"},
		{KID: "k3", Alg: "EdDSA", PublicJWK: "y"},
		{KID: "k3", Alg: "EdDSA", PrivateSealed: "x"},
		{KID: "k3", Alg: "HS256", PrivateSealed: "x", PublicJWK: "y"},
	} {
		if err := s.AddSigningKey(ctx, bad); err == nil {
			t.Errorf("AddSigningKey(%+v) = nil, want an error", bad)
		}
	}
	if ks, _ := s.SigningKeys(ctx, base); len(ks) != 2 {
		t.Fatalf("a refused key changed the set: %+v", ks)
	}
}
