// Package kv keeps partnergate's short-lived state in Redis: sessions, partner
// nonces, login failure counters, windowed counters, rate limits and
// single-use tokens.
//
// It works on any redis.UniversalClient (standalone, Sentinel or Cluster).
// Every command, MULTI and script touches one key, except the user snapshot's
// MGET, fill script and drop transaction, whose two keys share the user's
// hash tag ({u:ID}) and so one slot; plain pipelines may span slots (the
// cluster client splits them by node). TestRealCluster runs the whole suite
// on a real three-master Cluster, where a CROSSSLOT would fail it.
// Every key is written with a TTL: Redis is a cache of disposable state here,
// never the system of record, and nothing may accumulate forever.
//
// KV implements store.State, where the records and the errors of each method
// are documented; store/kvtest is the suite it passes. Errors wrap the store
// sentinels: store.ErrNotFound for missing or expired entries and
// store.ErrUnavailable when Redis cannot be reached, so callers can fail
// closed on the latter.
package kv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"partnergate/store"
)

// DefaultPrefix starts every key unless WithPrefix says otherwise.
const DefaultPrefix = "pg:"

// KV is the short-lived state store. It is safe for concurrent use.
type KV struct {
	client  redis.UniversalClient
	prefix  string
	now     func() time.Time
	limiter *redis_rate.Limiter
}

// The core depends on store.State's interfaces, never on KV: a method
// missing here must fail the build, not the wiring in cmd/.
var _ store.State = (*KV)(nil)

// Option configures a KV.
type Option func(*KV)

// WithPrefix sets the key prefix, so several deployments can share one Redis.
// It must not contain '{' or '}': the user hash tags rely on being the first
// braces in the key.
func WithPrefix(prefix string) Option {
	return func(k *KV) { k.prefix = prefix }
}

// WithClock replaces time.Now for the timestamps KV stores and the expiry it
// computes, so tests can move time.
func WithClock(now func() time.Time) Option {
	return func(k *KV) {
		if now != nil {
			k.now = now
		}
	}
}

// New wraps a connected client. It does not ping; see Open and Ping.
func New(client redis.UniversalClient, opts ...Option) *KV {
	k := &KV{client: client, prefix: DefaultPrefix, now: time.Now}
	for _, o := range opts {
		o(k)
	}
	k.limiter = redis_rate.NewLimiter(client)
	return k
}

// Ping checks Redis answers.
func (k *KV) Ping(ctx context.Context) error {
	return wrap("ping", k.client.Ping(ctx).Err())
}

// Open connects to Redis and pings it. addr is a redis:// or rediss:// URL,
// a redis-sentinel:// URL (see parseSentinelURL), or a comma-separated
// host:port list (one address: standalone; several: a Cluster, as
// redis.NewUniversalClient decides).
func Open(ctx context.Context, addr string) (redis.UniversalClient, error) {
	var client redis.UniversalClient
	if strings.HasPrefix(addr, sentinelScheme) {
		opt, err := parseSentinelURL(addr)
		if err != nil {
			return nil, fmt.Errorf("kv: open: %w", err)
		}
		client = redis.NewFailoverClient(opt)
	} else if strings.Contains(addr, "://") {
		opt, err := redis.ParseURL(addr)
		if err != nil {
			// url.Error repeats the whole URL, password included; keep only
			// the reason so credentials never reach the logs.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return nil, fmt.Errorf("kv: open: invalid redis URL: %w", err)
		}
		client = redis.NewClient(opt)
	} else {
		var addrs []string
		for _, a := range strings.Split(addr, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, errors.New("kv: open: no redis address given")
		}
		client = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs})
	}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, wrap("open", err)
	}
	return client, nil
}

const sentinelScheme = "redis-sentinel://"

// parseSentinelURL reads
//
//	redis-sentinel://[[user]:password@]host:port[,host:port…]/mastername[?db=N&sentinel_password=P]
//
// into failover options: the hosts are the sentinels, the path names the
// master they watch, and the userinfo authenticates to the data nodes (the
// sentinels' own password, when they have one, is sentinel_password). go-redis
// has no URL form for this, so it is ours; the scheme follows the one other
// clients (e.g. Spring, ioredis users) recognise.
func parseSentinelURL(raw string) (*redis.FailoverOptions, error) {
	// url.Parse rejects a comma-separated host list, so take the hosts out
	// first and parse the rest with a placeholder host.
	rest := strings.TrimPrefix(raw, sentinelScheme)
	auth, hostsAndPath := "", rest
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		if j := strings.Index(rest, "/"); j < 0 || i < j {
			auth, hostsAndPath = rest[:i], rest[i+1:]
		}
	}
	hosts, tail := hostsAndPath, ""
	if i := strings.IndexAny(hostsAndPath, "/?"); i >= 0 {
		hosts, tail = hostsAndPath[:i], hostsAndPath[i:]
	}
	u, err := url.Parse("redis://placeholder" + tail)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("invalid sentinel URL: %w", err)
	}
	opt := &redis.FailoverOptions{MasterName: strings.Trim(u.Path, "/")}
	if opt.MasterName == "" || strings.Contains(opt.MasterName, "/") {
		return nil, errors.New("invalid sentinel URL: want /mastername after the sentinels")
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, errors.New("invalid sentinel URL: each sentinel must be host:port")
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, h)
	}
	if len(opt.SentinelAddrs) == 0 {
		return nil, errors.New("invalid sentinel URL: no sentinel address")
	}
	if auth != "" {
		user, pass, ok := strings.Cut(auth, ":")
		if !ok {
			user, pass = "", user
		}
		if opt.Username, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("invalid sentinel URL: bad user name escape")
		}
		if opt.Password, err = url.PathUnescape(pass); err != nil {
			return nil, errors.New("invalid sentinel URL: bad password escape")
		}
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "db", "sentinel_password":
		default:
			return nil, fmt.Errorf("invalid sentinel URL: unknown parameter %q", k)
		}
	}
	if v := q.Get("db"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errors.New("invalid sentinel URL: db must be a non-negative integer")
		}
		opt.DB = n
	}
	opt.SentinelPassword = q.Get("sentinel_password")
	return opt, nil
}

// embeddedTick is how often the embedded server's TTLs are advanced; keys
// outlive their TTL by at most this much.
const embeddedTick = 200 * time.Millisecond

// Embedded starts an in-process miniredis and connects a client to it, for
// single-node deployments that do not run Redis. closeFn stops both and may
// be called more than once.
func Embedded() (client redis.UniversalClient, closeFn func(), err error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("kv: embedded: %w", err)
	}
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})

	// miniredis only ages TTLs when told to. Its ClockTTL mode would do it on
	// every command, but that walks and sorts the whole keyspace under the
	// server lock each time; a ticker bounds that cost to a few walks per
	// second.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(embeddedTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()

	var once sync.Once
	closeFn = func() {
		once.Do(func() {
			close(stop)
			<-done
			_ = c.Close()
			mr.Close()
		})
	}
	return c, closeFn, nil
}

// wrap adds context and maps errors onto the store sentinels.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("kv: %s: %w", op, store.ErrNotFound)
	case unavailable(err):
		return fmt.Errorf("kv: %s: %w: %w", op, store.ErrUnavailable, err)
	default:
		return fmt.Errorf("kv: %s: %w", op, err)
	}
}

// unavailable reports whether err means Redis could not be reached or cannot
// serve right now, as opposed to rejecting the request itself.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	// A failing-over or still-loading server answers, but cannot serve.
	if redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) {
		return true
	}
	// Some paths flatten the cause into a string.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "i/o timeout", "use of closed network connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ms converts a duration to whole milliseconds for Redis, never below 1: a
// zero PEXPIRE would delete the key rather than keep it briefly.
func ms(d time.Duration) int64 {
	n := d.Milliseconds()
	if d%time.Millisecond != 0 {
		n++
	}
	if n < 1 {
		n = 1
	}
	return n
}

func checkTTL(op string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("kv: %s: TTL must be positive, got %s", op, d)
	}
	return nil
}
