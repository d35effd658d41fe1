package kv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

func TestOpen(t *testing.T) {
	mr := miniredis.RunT(t)
	tests := []struct {
		name        string
		addr        string
		wantErr     bool
		unavailable bool
	}{
		{"host:port", mr.Addr(), false, false},
		{"address list", " " + mr.Addr() + " ,", false, false},
		{"url", "redis://" + mr.Addr() + "/0", false, false},
		{"refused address", "127.0.0.1:1", true, true},
		{"refused url", "redis://127.0.0.1:1/0", true, true},
		{"bad scheme", "http://" + mr.Addr(), true, false},
		{"broken url", "redis://user:secret@[::1", true, false},
		{"empty", " , ", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Open(ctx, tc.addr)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer c.Close()
				if err := New(c).Ping(ctx); err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tc.unavailable {
				t.Fatalf("Open = %v; wraps ErrUnavailable = %v, want %v", err, got, tc.unavailable)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestEmbedded(t *testing.T) {
	c, closeFn, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	defer closeFn() // idempotent
	ctx := context.Background()
	k := New(c)
	if err := k.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.PutToken(ctx, "p", "h", []byte("v"), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The embedded server must age TTLs in real time on its own.
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := c.Get(ctx, k.tokenKey("p", "h")).Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("embedded key did not expire: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOutageFailsClosed(t *testing.T) {
	mr := miniredis.RunT(t)
	// Retries stay on, with short pauses: the retry path is exercised
	// without the defaults' ~1.6 s of waiting per call.
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetryBackoff: 20 * time.Millisecond,
		DialerRetries: 2, DialerRetryTimeout: 10 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	k := New(c)
	s := store.Session{TokenHash: "h", UserID: "u", ExpiresAt: time.Now().Add(time.Hour)}
	if err := k.CreateSession(ctx, s, time.Hour); err != nil {
		t.Fatal(err)
	}

	mr.Close()
	calls := []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Session", func(ctx context.Context) error { _, err := k.Session(ctx, "h", time.Hour); return err }},
		{"CreateSession", func(ctx context.Context) error {
			return k.CreateSession(ctx, store.Session{TokenHash: "h2", UserID: "u", ExpiresAt: time.Now().Add(time.Hour)}, time.Hour)
		}},
		{"UseNonce", func(ctx context.Context) error { _, err := k.UseNonce(ctx, "k", "n", time.Minute); return err }},
		{"Failures", func(ctx context.Context) error { _, err := k.Failures(ctx, "s"); return err }},
		{"Allow", func(ctx context.Context) error { _, _, err := k.Allow(ctx, "r", 1, time.Second, 1); return err }},
		{"TakeToken", func(ctx context.Context) error { _, err := k.TakeToken(ctx, "p", "h"); return err }},
		{"Ping", k.Ping},
	}
	for _, tc := range calls {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := tc.fn(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while Redis is down = %v, want ErrUnavailable", tc.name, err)
		}
	}

	if err := mr.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := k.Session(ctx, "h", time.Hour)
		if err == nil {
			if got.UserID != "u" {
				t.Fatalf("Session after restart = %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Session after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name              string
		err               error
		notFound, unavail bool
	}{
		{"nil reply", redis.Nil, true, false},
		{"eof", io.EOF, false, true},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("boom")}, false, true},
		{"deadline", context.DeadlineExceeded, false, true},
		{"pool timeout", redis.ErrPoolTimeout, false, true},
		{"closed client", redis.ErrClosed, false, true},
		{"flattened", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false, true},
		{"wrapped", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), false, true},
		{"command error", errors.New("WRONGTYPE Operation against a key"), false, false},
		{"canceled", context.Canceled, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := wrap("op", tc.err)
			if errors.Is(err, store.ErrNotFound) != tc.notFound || errors.Is(err, store.ErrUnavailable) != tc.unavail {
				t.Fatalf("wrap(%v) = %v", tc.err, err)
			}
			if !strings.HasPrefix(err.Error(), "kv: op: ") {
				t.Fatalf("wrap(%v) = %q lacks context", tc.err, err)
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Fatal("wrap(nil) != nil")
	}
}
