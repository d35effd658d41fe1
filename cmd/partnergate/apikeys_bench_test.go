package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"partnergate/core/apikeys"
)

// The user API-key signature against the partner signature (issue 11's
// bench row: a call signed with a user key ≥ 0.8 of the same call with a
// partner key). Both post system.ping, public, so only the credential
// check differs. Serial, one connection: each nonce is fresh.
//
//	go test -run XXX -bench 'Signed' -count 5 ./cmd/partnergate/

var benchUserKeyPing = []byte(`{"jsonrpc":"2.0","method":"system.ping","id":1}`)

func benchSigned(b *testing.B, url string, headers func(i int) map[string]string) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(benchUserKeyPing))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers(i) {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"code":0`)) {
			b.Fatalf("call %d: %d %s", i, resp.StatusCode, body)
		}
	}
}

func BenchmarkSignedPartnerPing(b *testing.B) {
	g := mustRunMain(b, looseRates, map[string]string{"PARTNERGATE_LOG_LEVEL": "warn"})
	p := g.Partner(b, "*")
	benchSigned(b, g.URL+"/rpc", func(int) map[string]string {
		ts, nonce := strconv.FormatInt(time.Now().UnixMilli(), 10), newNonce()
		return map[string]string{"X-Api-Key": p.KID, "X-Api-Timestamp": ts, "X-Api-Nonce": nonce,
			"X-Api-Signature": partnersSign(p.Secret, ts, nonce, p.KID, "/rpc", benchUserKeyPing)}
	})
}

func BenchmarkSignedUserKeyPing(b *testing.B) {
	g := mustRunMain(b, looseRates, map[string]string{"PARTNERGATE_LOG_LEVEL": "warn"})
	id, _ := newVerifiedUser(b, g, "bench-key@example.com", strongPassword)
	// Ten keys in turn, each nonce the clock's millisecond or, when that
	// key already used it, the next one: never a replay, never stale.
	var keys []apikeys.Created
	for range 10 {
		c, err := g.APIKeys().Issue(context.Background(), id, "HS256", nil)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, c)
	}
	last := make([]int64, len(keys))
	benchSigned(b, g.URL+"/rpc", func(i int) map[string]string {
		j := i % len(keys)
		k := keys[j]
		last[j] = max(time.Now().UnixMilli(), last[j]+1)
		nonce := strconv.FormatInt(last[j], 10)
		return map[string]string{"X-Auth-Apikey": k.Key.KID, "X-Auth-Nonce": nonce,
			"X-Auth-Signature": apikeys.Sign("HS256", k.Secret, nonce, k.Key.KID)}
	})
}
