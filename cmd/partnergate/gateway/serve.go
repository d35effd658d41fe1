package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/activity"
	coreadmin "partnergate/core/admin"
	"partnergate/core/apikeys"
	"partnergate/core/captcha"
	"partnergate/core/codes"
	"partnergate/core/delivery"
	"partnergate/core/documents"
	"partnergate/core/events"
	"partnergate/core/files"
	"partnergate/core/geo"
	"partnergate/core/keyring"
	"partnergate/core/kyc"
	"partnergate/core/otp"
	"partnergate/core/partners"
	"partnergate/core/password"
	"partnergate/core/photos"
	kvsettings "partnergate/core/settings"
	"partnergate/core/tokens"
	"partnergate/methods/account"
	"partnergate/methods/admin"
	"partnergate/methods/auth"
	"partnergate/methods/dev"
	"partnergate/methods/identity"
	"partnergate/methods/resource"
	"partnergate/methods/system"
	"partnergate/methods/user"
	chatusers "partnergate/methods/users"
	"partnergate/rpc"
	"partnergate/rpc/console"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
	"partnergate/store/usercache"
)

// Main is one gateway process: its settings, what it opened, and its server.
// Tests build one on port 0 with a temporary data directory.
type Main struct {
	Config Config
	Log    zerolog.Logger
	logw   io.Writer

	// db is the SQL store as opened, kept for what only it does (migrate,
	// dialect, close). Every service gets store instead: once Redis is open
	// it is db wrapped by store/usercache, so no writer can miss clearing
	// the user copy that session checks read.
	db         *sqlstore.Store
	store      store.Store
	stopWatch  func() // ends the user copy's watch; nil before Open
	redis      redis.UniversalClient
	closeRedis func()
	ring       *keyring.Ring
	outbox     *delivery.Outbox
	accounts   *accounts.Service
	handler    *rpc.Handler
	server     *http.Server
	pprof      *http.Server
	ln         net.Listener
	dispatcher *delivery.Dispatcher
	tokens     *tokens.Service
	revoked    *tokens.Revocations
	geo        *geo.DB
	activity   *activity.Recorder
	files      *files.Service
	closeFiles func()
	documents  *documents.Service
	apiKeys    *apikeys.Service
	policy     *access.Policy
}

// kv returns the Redis state under the configured key prefix.
func (m *Main) kv(opts ...kv.Option) *kv.KV {
	return kv.New(m.redis, append([]kv.Option{kv.WithPrefix(m.Config.RedisPrefix)}, opts...)...)
}

// openDispatcher builds the real senders; a channel without one keeps its
// messages queued until they are retried out, and says so at start.
// guardMetrics keeps /metrics off the public listener: method names, call
// counts and error rates by code map the service and its traffic for
// anyone. With a token it needs "Authorization: Bearer <token>" (what a
// Prometheus scrape config's bearer_token sends); without one it exists in
// dev mode only, which is loopback only.
func guardMetrics(token string, dev bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case token != "":
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				writeStatus(w, http.StatusUnauthorized, `{"error":"unauthorized"}`)
				return
			}
		case !dev:
			writeStatus(w, http.StatusNotFound, `{"error":"not found","hint":"POST JSON-RPC 2.0 to /rpc"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (m *Main) openDispatcher() error {
	senders := map[string]delivery.Sender{}
	if m.Config.SMTP.Host != "" {
		s, err := delivery.NewSMTP(m.Config.SMTP)
		if err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
		senders[delivery.ChannelEmail] = s
	}
	if m.Config.Webhook.URL != "" {
		w, err := delivery.NewWebhook(m.Config.Webhook)
		if err != nil {
			return fmt.Errorf("sms webhook: %w", err)
		}
		senders[delivery.ChannelSMS] = w
	}
	d, err := delivery.NewDispatcher(m.store, m.ring, senders, m.Log)
	if err != nil {
		return err
	}
	m.dispatcher = d
	m.outbox.Wake = d.Wake
	return nil
}

// NewMain returns a Main for cfg logging to logw.
func NewMain(cfg Config, logw io.Writer) *Main {
	lvl, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil || cfg.LogLevel == "" {
		lvl = zerolog.InfoLevel
	}
	return &Main{Config: cfg, logw: logw, Log: zerolog.New(logw).Level(lvl).With().Timestamp().Logger()}
}

// openStore opens and migrates the SQL store, embedded or Postgres.
func (m *Main) openStore(ctx context.Context) error {
	c := &m.Config
	if c.DatabaseURL == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		// Create the database file owner-only before SQLite does with 0644.
		f, err := os.OpenFile(c.dsn(), os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("database file: %w", err)
		}
		f.Close()
	}
	st, err := sqlstore.Open(ctx, c.dsn())
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	m.db, m.store = st, st
	return nil
}

func (m *Main) openRing() error {
	var err error
	if m.Config.SecretKey != "" {
		m.ring, err = keyring.Parse(m.Config.SecretKey)
	} else {
		m.ring, err = keyring.LoadOrCreate(m.Config.keyFile())
	}
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

// Open opens the stores and builds every service. Nothing listens yet.
func (m *Main) Open(ctx context.Context) error {
	c := &m.Config
	if err := m.openRing(); err != nil {
		return err
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if c.RedisURL != "" {
		cl, err := kv.Open(ctx, c.RedisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		m.redis, m.closeRedis = cl, func() { cl.Close() }
	} else {
		cl, closeFn, err := kv.Embedded()
		if err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		m.redis, m.closeRedis = cl, closeFn
	}
	if c.DatabaseURL == "" || c.RedisURL == "" {
		m.Log.Warn().Bool("embeddedSQL", c.DatabaseURL == "").Bool("embeddedRedis", c.RedisURL == "").
			Str("dataDir", c.DataDir).
			Msg("embedded mode: SQLite under the data dir and/or in-process Redis; one process only, in-process Redis state is lost at exit. Set DATABASE_URL and REDIS_URL for production.")
	}
	kvs := m.kv()
	users := usercache.New(m.db, kvs, 0)
	m.store = users
	if err := m.openFiles(ctx); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	// The per-process user copy follows every gateway's writes while this
	// runs; it stops with Close, before Redis is closed.
	wctx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { defer close(watched); _ = users.Watch(wctx) }()
	m.stopWatch = func() { stopWatch(); <-watched }

	hasher, err := password.NewHasher(c.Argon2, c.HashSlots, c.HashWait)
	if err != nil {
		return err
	}
	outbox, err := delivery.NewOutbox(m.store, m.ring, c.Dev)
	if err != nil {
		return err
	}
	m.outbox = outbox
	if !c.Dev {
		if err := m.openDispatcher(); err != nil {
			return err
		}
	}
	if c.GeoIPDB != "" {
		if m.geo, err = geo.Open(c.GeoIPDB); err != nil {
			return fmt.Errorf("PARTNERGATE_GEOIP_DB: %w", err)
		}
	}
	m.activity = &activity.Recorder{Store: m.store, Geo: m.geo, Log: m.Log}
	accounts := &accounts.Service{
		Activity: m.activity,
		// Session reads through the process's session copy (kept coherent
		// like the user copy): a session check costs no Redis round trip.
		Store: m.store, KV: users.Sessions(kvs), Hasher: hasher, Log: m.Log,
		Throttle: accounts.DefaultThrottle,
		Sessions: accounts.SessionPolicy{Idle: c.SessionIdle, Absolute: c.SessionAbsolute},
		Codes:    &codes.Service{KV: kvs, Ring: m.ring, Deliver: outbox, Policy: codes.DefaultPolicy},
	}
	m.accounts = accounts
	// The second factor (core/otp): every password login checks it once a
	// user turns it on; its guesses count on the login failure counters.
	secondFactor := &otp.Service{Store: m.store, Ring: m.ring, Guard: accounts, Sessions: accounts, Issuer: c.TOTPIssuer, Activity: m.activity, Log: m.Log}
	accounts.SecondFactor = secondFactor
	ps := partners.New(m.store, kvs, m.ring, nil)

	m.revoked = &tokens.Revocations{KV: kvs, Log: m.Log}
	if err := m.revoked.Sync(ctx); err != nil {
		return fmt.Errorf("revocation list: %w", err)
	}
	m.tokens = &tokens.Service{Store: m.store, Ring: m.ring, Revoked: m.revoked, Alg: c.JWTAlg}
	if err := m.tokens.Open(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	refresher := &tokens.Refresher{KV: kvs, Access: m.tokens, Revoked: m.revoked, Log: m.Log, Activity: m.activity,
		Lifetime: c.SessionAbsolute}
	// A reset, recovery or deletion ends refresh families and their JWTs
	// as it ends opaque sessions.
	accounts.Tokens = refresher

	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg := rpc.NewRegistry(promReg)
	sys := &system.Service{Release: version, Commit: commit}
	authSvc := &auth.Service{Accounts: accounts}
	if err := reg.Register(sys, sys.Methods()...); err != nil {
		return err
	}
	if err := reg.Register(authSvc, authSvc.Methods()...); err != nil {
		return err
	}
	verifier, err := captcha.New(c.Captcha)
	if err != nil {
		return err
	}
	kycSvc := &kyc.Service{Store: m.store, Ring: m.ring, Codes: accounts.Codes, Limits: c.KYCLimits, Activity: m.activity, Log: m.Log}
	ident := &identity.Service{Accounts: accounts, Captcha: verifier, KYC: kycSvc, Release: version, Commit: commit}
	if err := reg.Register(ident, ident.Methods()...); err != nil {
		return err
	}
	otpSvc := &resource.OTP{Accounts: accounts, OTP: secondFactor}
	if err := reg.Register(otpSvc, otpSvc.Methods()...); err != nil {
		return err
	}
	// Seed 002's user side: the user's own account, profile, phones and labels.
	for _, svc := range []interface{ Methods() []rpc.Method }{
		&resource.Users{Accounts: accounts, KYC: kycSvc},
		&resource.Profiles{KYC: kycSvc},
		&resource.Phones{Accounts: accounts, KYC: kycSvc},
		&resource.Labels{KYC: kycSvc},
		&resource.Activity{Trail: m.activity},
	} {
		if err := reg.Register(svc, svc.Methods()...); err != nil {
			return err
		}
	}
	accountSvc := &account.Service{Accounts: accounts, Tokens: refresher, Activity: m.activity,
		Settings: &kvsettings.Service{Store: m.store},
		// The frontend page the seed's clients open with the link's token.
		ResetURL: func() string {
			switch {
			case c.PublicURL != "":
				return strings.TrimRight(c.PublicURL, "/") + "/reset-password"
			case m.ln != nil:
				return "http://" + m.Addr() + "/reset-password"
			}
			return ""
		}}
	if err := reg.Register(accountSvc, accountSvc.Methods()...); err != nil {
		return err
	}
	userAuth := &user.Auth{Accounts: accounts}
	if err := reg.Register(userAuth, userAuth.Methods()...); err != nil {
		return err
	}
	userSettings := &user.Settings{Accounts: accounts}
	if err := reg.Register(userSettings, userSettings.Methods()...); err != nil {
		return err
	}
	// Seed 003's photos are uploads of files.create that signed-in users
	// may read at their file URL.
	chatPhotos := &photos.Service{Store: m.store, Files: m.files}
	m.files.Visible = chatPhotos.Visible
	// Every account deletion (users.me.delete, user.auth.delete_done)
	// removes the user's blobs after its rows.
	accounts.Blobs = chatPhotos
	chatUsers := &chatusers.Service{Accounts: accounts, Photos: chatPhotos}
	if err := reg.Register(chatUsers, chatUsers.Methods()...); err != nil {
		return err
	}
	mux := http.NewServeMux()
	bus := events.New(m.redis, events.WithPrefix(m.Config.RedisPrefix))
	accounts.Events = bus
	if err := registerUserData(ctx, m, reg, mux, bus, backupNotifier{store: m.store, outbox: outbox}, c.PublicURL); err != nil {
		return err
	}
	roles := &access.Roles{Store: m.store}
	m.policy = &access.Policy{Store: m.store, KV: kvs, Methods: reg.Methods, Geo: m.geo, Activity: m.activity, Log: m.Log}
	adminSvc := &admin.Service{Policy: m.policy, Activity: m.activity, Store: m.store,
		Admin: &coreadmin.Service{Store: m.store, Accounts: accounts, Policy: m.policy, Activity: m.activity, Log: m.Log}}
	if err := reg.Register(adminSvc, adminSvc.Methods()...); err != nil {
		return err
	}
	if c.Dev {
		d := &dev.Service{Store: m.store, Open: outbox.OpenBody}
		if err := reg.Register(d, d.Methods()...); err != nil {
			return err
		}
		m.Log.Warn().Msg("dev mode: dev.outbox.list exposes queued codes; never use in production")
	}
	if err := m.registerAPIKeys(reg, secondFactor); err != nil {
		return err
	}
	authn := &access.Authenticator{Partners: ps, Accounts: accounts, JWT: m.tokens, UserKeys: m.apiKeys}
	if err := m.registerFiles(reg, mux, authn); err != nil {
		return err
	}
	// Loaded once every method is registered, so each is compiled.
	if err := m.policy.Load(ctx); err != nil {
		return fmt.Errorf("access table: %w", err)
	}
	disc, err := rpc.NewDiscovery(reg, rpc.Info{Title: "partnergate", Version: version})
	if err != nil {
		return err
	}
	m.handler = rpc.NewHandler(rpc.Config{
		Registry:       reg,
		Auth:           authn,
		Gate:           &access.Gate{Roles: roles, Policy: m.policy, AdminTwoFactor: c.AdminTwoFactor},
		Audit:          m.policy.Audit,
		Limiter:        &access.Limiter{KV: kvs, Rates: c.Rates},
		Bind:           access.Bind,
		Log:            m.Log,
		LogOut:         m.logw,
		Limits:         c.Limits,
		TrustedProxies: c.TrustedProxies,
	})

	mux.Handle("/rpc", m.handler)
	mux.Handle(rpc.PathPrefix, m.handler)
	mux.Handle("/openrpc.json", disc)
	if c.Console || c.Dev {
		var names []string
		for _, m := range reg.Methods() {
			names = append(names, m.Name)
		}
		// Secure cookie everywhere but a dev gateway, which is loopback
		// only and reached over plain HTTP.
		mux.Handle(console.Prefix, console.New(console.Config{RPC: m.handler, Secure: !c.Dev, MaxBody: c.Limits.MaxBody, Methods: names}))
	}
	mux.Handle("/metrics", guardMetrics(c.MetricsToken, c.Dev, promhttp.HandlerFor(promReg, promhttp.HandlerOpts{})))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("/readyz", m.ready)
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		writeStatus(w, http.StatusOK, string(m.tokens.JWKS(r.Context())))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusNotFound, `{"error":"not found","hint":"POST JSON-RPC 2.0 to /rpc"}`)
	})
	m.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	if c.PprofAddr != "" {
		pm := http.NewServeMux()
		pm.HandleFunc("/debug/pprof/", pprof.Index)
		pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.pprof = &http.Server{Addr: c.PprofAddr, Handler: pm, ReadHeaderTimeout: 5 * time.Second}
	}
	return nil
}

func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := m.store.Ping(ctx); err != nil {
		writeStatus(w, http.StatusServiceUnavailable, `{"status":"unavailable","failing":"database"}`)
		return
	}
	if err := m.redis.Ping(ctx).Err(); err != nil {
		writeStatus(w, http.StatusServiceUnavailable, `{"status":"unavailable","failing":"redis"}`)
		return
	}
	writeStatus(w, http.StatusOK, `{"status":"ready"}`)
}

func writeStatus(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// backupNotifier delivers backup download links through the outbox, to the
// user's email, else phone.
type backupNotifier struct {
	store  store.Store
	outbox *delivery.Outbox
}

func (n backupNotifier) BackupReady(ctx context.Context, userID, link string, exp time.Time) error {
	u, err := n.store.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("backup link: %w", err)
	}
	msg := delivery.Message{Template: delivery.TemplateLinkBackup, Lang: u.Lang,
		Vars: map[string]string{"link": link, "expires": exp.UTC().Format("2006-01-02 15:04 UTC")}}
	if e, ok := u.Identifier(store.KindEmail); ok {
		msg.Channel, msg.To = delivery.ChannelEmail, e.Norm
	} else if p, ok := u.Identifier(store.KindPhone); ok {
		msg.Channel, msg.To = delivery.ChannelSMS, p.Norm
	} else {
		return errors.New("backup link: the user has no email or phone")
	}
	return n.outbox.Enqueue(ctx, msg)
}

// Listen binds the configured address (port 0 picks a free one).
func (m *Main) Listen() error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.ln = ln
	return nil
}

// Addr is the bound address, after Listen.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Handler is the transport, for in-process callers.
func (m *Main) Handler() *rpc.Handler { return m.handler }

// Serve serves until ctx ends, then shuts down gracefully: stop accepting,
// finish calls in flight (up to the shutdown timeout), close the stores.
func (m *Main) Serve(ctx context.Context) error {
	m.Log.Info().Str("addr", m.Addr()).Str("version", version).Msg("listening")
	dispatched := make(chan struct{})
	dctx, stopDispatch := context.WithCancel(context.Background())
	defer stopDispatch()
	if m.dispatcher != nil {
		go func() {
			defer close(dispatched)
			if err := m.dispatcher.Run(dctx); err != nil && !errors.Is(err, context.Canceled) {
				m.Log.Error().Err(err).Msg("outbox dispatcher stopped")
			}
		}()
	} else {
		close(dispatched)
	}
	// The revocation list polls until the process ends, so an ended
	// session's JWTs stop here within a second or two.
	go m.revoked.Run(dctx)
	// The access table follows every gateway's changes the same way.
	go m.policy.Run(dctx)
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.ln) }()
	if m.pprof != nil {
		go func() {
			if err := m.pprof.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error().Err(err).Msg("pprof")
			}
		}()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	m.Log.Info().Msg("shutting down: finishing calls in flight")
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.Shutdown)
	defer cancel()
	err := m.server.Shutdown(sctx)
	if m.pprof != nil {
		_ = m.pprof.Shutdown(sctx)
	}
	// Calls have finished queueing; the dispatcher hands back what it holds.
	stopDispatch()
	<-dispatched
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	m.Log.Info().Msg("stopped")
	return nil
}

// Close releases the stores.
func (m *Main) Close() error {
	var errs []error
	if m.stopWatch != nil {
		m.stopWatch()
	}
	if m.closeRedis != nil {
		m.closeRedis()
	}
	if m.closeFiles != nil {
		m.closeFiles()
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
	}
	errs = append(errs, m.geo.Close())
	return errors.Join(errs...)
}
