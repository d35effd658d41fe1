package codes_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/codes"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store/kv"
)

// outbox records what would be delivered.
type outbox struct {
	mu   sync.Mutex
	sent []string // "channel to body-code"
}

var codeRe = regexp.MustCompile(`^[0-9]{6}$`)

func (o *outbox) Deliver(_ context.Context, channel, to, _, template string, vars map[string]string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, channel+" "+to+" "+template+" "+vars["code"])
	return nil
}

func (o *outbox) last(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("nothing sent")
	}
	f := strings.Fields(o.sent[len(o.sent)-1])
	if !codeRe.MatchString(f[3]) {
		t.Fatalf("code %q is not six digits", f[3])
	}
	return f[3]
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

type fixture struct {
	svc *codes.Service
	out *outbox
	mr  *miniredis.Miniredis // nil on real Redis
	rdb redis.UniversalClient
	// keys matches this fixture's keys only (a real server is shared).
	keys string
	// advance moves time on: the fake clock and miniredis together, or a
	// real sleep on a real server (where the policy is short).
	advance func(d time.Duration)
}

func ring(t *testing.T) *keyring.Ring {
	k := make([]byte, keyring.KeySize)
	_, _ = rand.Read(k)
	r, err := keyring.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func miniFixture(t *testing.T) *fixture {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	out := &outbox{}
	f := &fixture{
		svc: &codes.Service{KV: kv.New(rdb, kv.WithClock(clock)), Ring: ring(t), Deliver: out, Policy: codes.DefaultPolicy},
		out: out, mr: mr, rdb: rdb, keys: "*",
	}
	f.advance = func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
		mr.FastForward(d)
	}
	return f
}

func realFixture(t *testing.T) *fixture {
	url := os.Getenv("PARTNERGATE_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARTNERGATE_TEST_REDIS_URL must be set in CI")
		}
		t.Skip("PARTNERGATE_TEST_REDIS_URL unset: the real-Redis run of the code rules is SKIPPED")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	prefix := fmt.Sprintf("codestest:%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pat := range []string{prefix + "*", "*" + prefix + "*"} {
			keys, _ := rdb.Keys(ctx, pat).Result()
			if len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
		}
	})
	out := &outbox{}
	// Short settings so the 90-second and 10-minute rules run in a second.
	p := codes.Policy{TTL: 600 * time.Millisecond, MaxAttempts: 5, ResendEvery: 300 * time.Millisecond, DailyCap: 20, TokenTTL: time.Second}
	return &fixture{
		svc: &codes.Service{KV: kv.New(rdb, kv.WithPrefix(prefix)), Ring: ring(t), Deliver: out, Policy: p},
		out: out, rdb: rdb, keys: "*" + prefix + "*",
		advance: func(d time.Duration) { time.Sleep(d) },
	}
}

var target = codes.Target{UserID: "u1", Channel: "email", Address: "ann@example.com", Lang: "en"}

// rules runs the code rules on either backend, with time scaled to its
// policy.
func rules(t *testing.T, f *fixture) {
	ctx := context.Background()
	p := f.svc.Policy

	t.Run("send, check once, single use", func(t *testing.T) {
		tg := target
		tg.UserID = "single"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		code := f.out.last(t)
		if err := f.svc.Check(ctx, codes.Recovery, tg, code); fault.CodeOf(err) != fault.CodeInvalid {
			t.Fatalf("code accepted for another purpose: %v", err)
		}
		other := tg
		other.Address = "eve@example.com"
		if err := f.svc.Check(ctx, codes.Registration, other, code); fault.CodeOf(err) != fault.CodeInvalid {
			t.Fatalf("code accepted for another target: %v", err)
		}
		if err := f.svc.Check(ctx, codes.Registration, tg, code); err != nil {
			t.Fatalf("right code refused: %v", err)
		}
		if err := f.svc.Check(ctx, codes.Registration, tg, code); fault.CodeOf(err) != fault.CodeInvalid {
			t.Fatalf("code used twice: %v", err)
		}
	})

	t.Run("resend hold and replacement", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "resend", "resend@example.com"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		first := f.out.last(t)
		err := f.svc.Send(ctx, codes.Registration, tg)
		fe, ok := fault.As(err)
		if !ok || fe.Code != fault.Throttled || fe.RetryAfter <= 0 || fe.RetryAfter > p.ResendEvery {
			t.Fatalf("second send within the hold: %v", err)
		}
		f.advance(p.ResendEvery + 50*time.Millisecond)
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatalf("send after the hold: %v", err)
		}
		second := f.out.last(t)
		if first != second {
			if err := f.svc.Check(ctx, codes.Registration, tg, first); fault.CodeOf(err) != fault.CodeInvalid {
				t.Fatalf("a replaced code still works: %v", err)
			}
		}
		if err := f.svc.Check(ctx, codes.Registration, tg, second); err != nil {
			t.Fatalf("new code refused: %v", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "expiry", "expiry@example.com"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		code := f.out.last(t)
		f.advance(p.TTL + 100*time.Millisecond)
		if err := f.svc.Check(ctx, codes.Registration, tg, code); fault.CodeOf(err) != fault.CodeInvalid {
			t.Fatalf("expired code accepted: %v", err)
		}
	})

	t.Run("five wrong tries void the code", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "void", "void@example.com"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		code := f.out.last(t)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 0; i < p.MaxAttempts; i++ {
			if err := f.svc.Check(ctx, codes.Registration, tg, wrong); fault.CodeOf(err) != fault.CodeInvalid {
				t.Fatalf("try %d: %v", i, err)
			}
		}
		if err := f.svc.Check(ctx, codes.Registration, tg, code); fault.CodeOf(err) != fault.CodeInvalid {
			t.Fatalf("right code accepted after %d wrong tries: %v", p.MaxAttempts, err)
		}
	})

	t.Run("20 parallel right answers: one success", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "parallel", "parallel@example.com"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		code := f.out.last(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if f.svc.Check(ctx, codes.Registration, tg, code) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d successes", ok)
		}
	})

	t.Run("10 parallel resends send once", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "burst", "burst@example.com"
		before := f.out.count()
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); _ = f.svc.Send(ctx, codes.Registration, tg) }()
		}
		wg.Wait()
		if n := f.out.count() - before; n != 1 {
			t.Fatalf("%d sends", n)
		}
	})

	t.Run("tokens: stored hashed, single use, expire", func(t *testing.T) {
		tok, err := f.svc.NewToken(ctx, codes.Recovery, codes.Ticket{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) < 32 {
			t.Fatalf("token %q carries under 128 bits", tok)
		}
		keys, _ := f.rdb.Keys(ctx, f.keys).Result()
		for _, k := range keys {
			if strings.Contains(k, tok) {
				t.Fatalf("token in clear in key %s", k)
			}
		}
		if _, err := f.svc.Ticket(ctx, codes.Recovery, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TakeTicket(ctx, codes.Recovery, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TakeTicket(ctx, codes.Recovery, tok); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("token used twice: %v", err)
		}
		tok2, _ := f.svc.NewToken(ctx, codes.Deletion, codes.Ticket{Target: target})
		f.advance(p.TokenTTL + 100*time.Millisecond)
		if _, err := f.svc.Ticket(ctx, codes.Deletion, tok2); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("expired token alive: %v", err)
		}
	})

	t.Run("no code in clear in Redis", func(t *testing.T) {
		tg := target
		tg.UserID, tg.Address = "clear", "clear@example.com"
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatal(err)
		}
		code := f.out.last(t)
		keys, _ := f.rdb.Keys(ctx, f.keys).Result()
		for _, k := range keys {
			typ, _ := f.rdb.Type(ctx, k).Result()
			var vals []string
			switch typ {
			case "hash":
				m, _ := f.rdb.HGetAll(ctx, k).Result()
				for _, v := range m {
					vals = append(vals, v)
				}
			case "string":
				v, _ := f.rdb.Get(ctx, k).Result()
				vals = append(vals, v)
			}
			for _, v := range vals {
				if strings.Contains(v, code) {
					t.Fatalf("code in clear under %s", k)
				}
			}
		}
	})
}

func TestRulesMiniredis(t *testing.T) { rules(t, miniFixture(t)) }

func TestRulesRealRedis(t *testing.T) { rules(t, realFixture(t)) }

func TestDailyCap(t *testing.T) {
	f := miniFixture(t)
	ctx := context.Background()
	tg := target
	tg.UserID, tg.Address = "cap", "cap@example.com"
	for i := int64(0); i < f.svc.Policy.DailyCap; i++ {
		if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		f.advance(f.svc.Policy.ResendEvery)
	}
	if err := f.svc.Send(ctx, codes.Registration, tg); fault.CodeOf(err) != fault.Throttled {
		t.Fatalf("send past the daily cap: %v", err)
	}
	f.advance(24 * time.Hour)
	if err := f.svc.Send(ctx, codes.Registration, tg); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestRedisDownFailsClosed(t *testing.T) {
	f := miniFixture(t)
	f.mr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.svc.Send(ctx, codes.Registration, target); fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("send with Redis down: %v", err)
	}
	if err := f.svc.Check(ctx, codes.Registration, target, "123456"); fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("check with Redis down: %v", err)
	}
}
