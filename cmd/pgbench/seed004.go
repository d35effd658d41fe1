package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"partnergate/client"
	"partnergate/methods/account/accountwire"
)

// rowSeed004 is seed 004's two rows, each against system.ping in the same
// rounds: a call authenticated by an access JWT (account.whoAmI: local
// signature check, revocation list in memory, the user's state from the
// process's copy) and account.login (argon2id bound: the ratio is reported,
// with argon2id verifies as the real ceiling).
func (b *bench) rowSeed004(ctx context.Context, main *gateway) error {
	// Verified users, one per two callers at least, so that no account has
	// concurrent logins (the per-account attempt throttle).
	n := max(2*b.cfg.conc, 8)
	keep := len(main.tokens)
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("acct-%s-%d@bench.example", b.run, i)
		if err := main.sessionByRegistration(ctx, emails[i]); err != nil {
			return err
		}
	}
	main.tokens = main.tokens[:keep]
	jwts := make([]string, 0, n)
	for _, e := range emails {
		tk, err := client.Call[accountwire.Tokens](ctx, main.client(), "account.login", accountwire.LoginParams{Login: e, Password: benchPassword})
		if err != nil {
			return fmt.Errorf("account.login %s: %w", e, err)
		}
		jwts = append(jwts, tk.WaviotJWT)
	}

	url := main.url + "/rpc"
	headers := make([]http.Header, len(jwts))
	for i, j := range jwts {
		headers[i] = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + j}}
	}
	jwtCall := func(label string, body []byte) side {
		var k atomic.Uint64
		return b.httpSide(label, main, b.cfg.conc, func(t *vegeta.Target) error {
			t.Method, t.URL, t.Body = http.MethodPost, url, body
			t.Header = headers[k.Add(1)%uint64(len(headers))]
			return nil
		}, envelopeOK)
	}
	// user.auth.check has no rate class, like system.ping: the row is the
	// JWT check itself (signature, revocation list, the user's state).
	// account.whoAmI is in class default, whose limiter reads Redis.
	check := jwtCall("gateway", []byte(`{"jsonrpc":"2.0","method":"user.auth.check","id":1}`))
	who := jwtCall("whoAmI", []byte(`{"jsonrpc":"2.0","method":"account.whoAmI","id":1}`))
	ping := b.pingSide(main)
	ping.label = "ping"
	s := b.measure("JWT call", false, check, ping, who)
	b.add(ratioResult("JWT-authenticated call (`user.auth.check`, Bearer access JWT)", &s[0], &s[1], 0.85, "≥ 0.85 of ping", "`system.ping`",
		fmt.Sprintf("%d users' JWTs round robin; no Redis read on the path", len(jwts)),
		fmt.Sprintf("`account.whoAmI` with the same JWTs %s = %.2f of ping (its rate class default costs a Redis GCRA step per call)", fmtRate(s[2].rate()), pairedRatio(&s[2], &s[1]))))

	bodies := make([][]byte, len(emails))
	for i, e := range emails {
		p, _ := json.Marshal(accountwire.LoginParams{Login: e, Password: benchPassword})
		bodies[i] = []byte(`{"jsonrpc":"2.0","method":"account.login","params":` + string(p) + `,"id":1}`)
	}
	var m atomic.Uint64
	loginSide := b.httpSide("gateway", main, b.cfg.conc, func(t *vegeta.Target) error {
		t.Method, t.URL, t.Body, t.Header = http.MethodPost, url, bodies[m.Add(1)%uint64(len(bodies))], jsonHeader
		return nil
	}, envelopeOK)
	hash, err := benchHash()
	if err != nil {
		return err
	}
	ping = b.pingSide(main)
	ping.label = "ping"
	s = b.measure("account.login", true, loginSide, ping, side{label: "argon2id", run: verifyLoad(b.cfg.slots, hash), self: true})
	r := ratioResult(fmt.Sprintf("`account.login`, %d concurrent", b.cfg.conc), &s[0], &s[1], 0, "report (argon2id bound)", "`system.ping`",
		fmt.Sprintf("= %.2f of %s argon2id verifies (%d goroutines) in the same rounds; %d users", pairedRatio(&s[0], &s[2]), fmtRate(s[2].rate()), b.cfg.slots, len(emails)))
	r.verdict = info
	if s[0].refused > 0 {
		r.note += fmt.Sprintf("; %d refused", s[0].refused)
	}
	b.add(r)
	return nil
}
