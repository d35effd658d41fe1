package partners_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/core/partners"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

// FuzzVerify feeds arbitrary partner headers and bodies to Verify, the
// parser and checker of X-Api-Key, X-Api-Timestamp, X-Api-Nonce and
// X-Api-Signature. The fuzzer may borrow the real key id, a timestamp near
// server time and a correct signature, so accepted requests are reached
// too. Verify must never panic, must answer only the documented codes, in
// the documented order (docs/api.md: missing 1010, malformed 1011, stale
// 1014, unknown key 1012, bad HMAC 1013, replayed nonce 1015), and must
// accept exactly the requests a reference reading of the rules accepts.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { return t0 }
	st, err := sqlstore.Open(ctx, filepath.Join(f.TempDir(), "db.sqlite"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	mr, err := miniredis.Run()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(mr.Close)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	f.Cleanup(func() { _ = client.Close() })
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	ring, err := keyring.New(key)
	if err != nil {
		f.Fatal(err)
	}
	svc := partners.New(st, kv.New(client, kv.WithClock(now)), ring, now)
	created, err := svc.Create(ctx, "fuzz", []string{"auth"})
	if err != nil {
		f.Fatal(err)
	}
	revoked, err := svc.Create(ctx, "fuzz-revoked", []string{"*"})
	if err != nil {
		f.Fatal(err)
	}
	if err := svc.Revoke(ctx, revoked.KID); err != nil {
		f.Fatal(err)
	}
	ms := strconv.FormatInt(t0.UnixMilli(), 10)
	body := []byte(`{"jsonrpc":"2.0","method":"system.ping","id":1}`)
	for _, s := range []struct {
		kid, ts, nonce, sig string
		body                []byte
		useKey, fixTS, sign bool
		skew                int16
	}{
		{"", "", "", "", nil, false, false, false, 0},
		{created.KID, ms, "0123456789abcdef", "", body, true, true, true, 0},
		{created.KID, ms, "0123456789abcdef", "", body, true, true, true, 29},
		{created.KID, ms, "0123456789abcdef-2", "", body, true, true, true, -31},
		{"pk_nope", ms, "nonce-nonce-nonce", partners.Sign("x", ms, "nonce-nonce-nonce", "pk_nope", "/rpc", body), body, false, false, false, 0},
		{revoked.KID, ms, "nonce-revoked-000", partners.Sign(revoked.Secret, ms, "nonce-revoked-000", revoked.KID, "/rpc", body), body, false, false, false, 0},
		{"k", "1e3", "short", "zz", []byte("x"), false, false, false, 0},
		{"k", "-9223372036854775808", "                ", "00", nil, false, false, false, 0},
		{"k", "9223372036854775807", "~~~~~~~~~~~~~~~~", hex.EncodeToString(make([]byte, 32)), nil, true, false, false, 0},
		{"k", "+1767225600000", "ééééééééééééééé", "AB" + hex.EncodeToString(make([]byte, 31)), nil, true, true, false, 5},
	} {
		f.Add(s.kid, s.ts, s.nonce, s.sig, s.body, s.useKey, s.fixTS, s.sign, s.skew)
	}
	used := map[string]bool{}

	f.Fuzz(func(t *testing.T, kid, ts, nonce, sig string, body []byte, useKey, fixTS, sign bool, skew int16) {
		if useKey {
			kid = created.KID
		}
		if fixTS {
			ts = strconv.FormatInt(t0.UnixMilli()+int64(skew)*250, 10)
		}
		if sign {
			sig = partners.Sign(created.Secret, ts, nonce, kid, "/rpc", body)
		}
		p, err := svc.Verify(ctx, partners.Signed{KID: kid, Timestamp: ts, Nonce: nonce, Signature: sig, Path: "/rpc"}, body)
		want := expectVerify(t0, created, kid, ts, nonce, sig, body, used)
		got := fault.CodeOf(err)
		if err != nil && got == 0 {
			t.Fatalf("uncoded error: %v", err)
		}
		if got != want {
			t.Fatalf("Verify(kid %q, ts %q, nonce %q, sig %q) = %d (%v), want %d", kid, ts, nonce, sig, got, err, want)
		}
		if err == nil {
			if p.KID != created.KID {
				t.Fatalf("accepted as %q", p.KID)
			}
			used[nonce] = true
		}
	})
}

// expectVerify is the reference reading of the signature rules.
func expectVerify(t0 time.Time, key partners.Created, kid, ts, nonce, sig string, body []byte, used map[string]bool) fault.Code {
	if kid == "" || ts == "" || nonce == "" || sig == "" {
		return fault.SignatureMissing
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sig) != 64 || len(kid) > 64 || len(nonce) < 16 || len(nonce) > 64 {
		return fault.SignatureMalformed
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < '!' || nonce[i] > '~' {
			return fault.SignatureMalformed
		}
	}
	raw, err := hex.DecodeString(sig)
	if err != nil {
		return fault.SignatureMalformed
	}
	if now := t0.UnixMilli(); ms < now-30_000 || ms > now+30_000 {
		return fault.TimestampStale
	}
	if kid != key.KID {
		return fault.KeyUnknown
	}
	good, _ := hex.DecodeString(partners.Sign(key.Secret, ts, nonce, kid, "/rpc", body))
	if string(raw) != string(good) {
		return fault.SignatureInvalid
	}
	if used[nonce] {
		return fault.NonceReplayed
	}
	return 0
}
