package access_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/access"
	"partnergate/core/accounts"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/core/partners"
	"partnergate/core/password"
	"partnergate/rpc"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type env struct {
	st       *sqlstore.Store
	mr       *miniredis.Miniredis
	kv       *kv.KV
	clk      *clock
	accounts *accounts.Service
	partners *partners.Service
	auth     *access.Authenticator
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = client.Close() })
	k := kv.New(client, kv.WithClock(clk.Now))
	h, err := password.NewHasher(password.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 4, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	ring, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, mr: mr, kv: k, clk: clk}
	e.accounts = &accounts.Service{
		Store: st, KV: k, Hasher: h, Throttle: accounts.DefaultThrottle,
		Sessions: accounts.DefaultSessionPolicy, Now: clk.Now,
	}
	e.partners = partners.New(st, k, ring, clk.Now)
	e.auth = &access.Authenticator{Partners: e.partners, Accounts: e.accounts}
	t.Cleanup(func() {
		for _, key := range mr.Keys() {
			if mr.TTL(key) <= 0 {
				t.Errorf("redis key %q has no TTL", key)
			}
		}
	})
	return e
}

func (e *env) user(t *testing.T, email string) store.User {
	t.Helper()
	u, err := e.accounts.Register(t.Context(), accounts.Registration{Email: email, Password: "glacier-Umbrella-93"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) session(t *testing.T, userID string) string {
	t.Helper()
	s, err := e.accounts.NewSession(t.Context(), userID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return s.Token
}

// signedHeaders returns a partner's headers for body, signed now.
func (e *env) signedHeaders(k partners.Created, body []byte) http.Header {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	ts, n := strconv.FormatInt(e.clk.Now().UnixMilli(), 10), hex.EncodeToString(b)
	h := http.Header{}
	h.Set("X-Api-Key", k.KID)
	h.Set("X-Api-Timestamp", ts)
	h.Set("X-Api-Nonce", n)
	h.Set("X-Api-Signature", partners.Sign(k.Secret, ts, n, k.KID, "/rpc", body))
	return h
}

func wantCode(t *testing.T, what string, err error, want fault.Code) {
	t.Helper()
	if got := fault.CodeOf(err); got != want || (want == 0 && err != nil) {
		t.Fatalf("%s: err = %v (code %d), want code %d", what, err, got, want)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	body := []byte(`{"jsonrpc":"2.0","method":"auth.registerUser","params":{},"id":1}`)
	key, err := e.partners.Create(ctx, "Acme", []string{"auth", "user.profile"})
	if err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "zeb@example.com")
	token := e.session(t, u.ID)
	ended := e.session(t, u.ID)
	if err := e.accounts.EndSession(ctx, accounts.HashToken(ended)); err != nil {
		t.Fatal(err)
	}

	header := func(kv ...string) func() http.Header {
		return func() http.Header {
			h := http.Header{}
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
	}
	with := func(base func() http.Header, kv ...string) func() http.Header {
		return func() http.Header {
			h := base()
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
	}
	signed := func() http.Header { return e.signedHeaders(key, body) }

	tests := []struct {
		name    string
		headers func() http.Header
		url     string
		body    []byte // nil: the signed body
		want    fault.Code
		kind    rpc.CallerKind
	}{
		{"no credentials", header(), "", nil, 0, rpc.CallerNone},
		{"token in the URL is ignored", header(), "/rpc?token=" + token + "&access_token=" + token, nil, 0, rpc.CallerNone},
		{"partner", signed, "", nil, 0, rpc.CallerPartner},
		{"partner, body changed", signed, "", []byte(`{}`), fault.SignatureInvalid, rpc.CallerNone},
		{"partner key only", header("X-Api-Key", key.KID), "", nil, fault.SignatureMissing, rpc.CallerNone},
		{"partner and bearer", with(signed, "Authorization", "Bearer "+token), "", nil, fault.SignatureMalformed, rpc.CallerNone},
		{"partner and bad authorization", with(signed, "Authorization", "Basic eDp5"), "", nil, fault.SignatureMalformed, rpc.CallerNone},
		{"bearer", header("Authorization", "Bearer "+token), "", nil, 0, rpc.CallerUser},
		{"bearer lower case", header("Authorization", "bearer "+token), "", nil, 0, rpc.CallerUser},
		{"bearer with extra space", header("Authorization", "Bearer  "+token+" "), "", nil, 0, rpc.CallerUser},
		{"bearer unknown", header("Authorization", "Bearer pgs_"+strings.Repeat("A", 43)), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"bearer malformed", header("Authorization", "Bearer not-a-token"), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"bearer ended", header("Authorization", "Bearer "+ended), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"bearer of the hash", header("Authorization", "Bearer "+accounts.HashToken(token)), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"bearer without token", header("Authorization", "Bearer"), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"bearer with empty token", header("Authorization", "Bearer "), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"token without scheme", header("Authorization", token), "", nil, fault.SessionInvalid, rpc.CallerNone},
		{"basic", header("Authorization", "Basic dXNlcjpwYXNz"), "", nil, fault.SessionInvalid, rpc.CallerNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if url == "" {
				url = "/rpc"
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			r := httptest.NewRequest(http.MethodPost, url, bytes.NewReader(b))
			for k, v := range tt.headers() {
				r.Header[k] = v
			}
			c := &rpc.Caller{Kind: rpc.CallerNone, IP: "203.0.113.4"}
			err := e.auth.Authenticate(r.Context(), r, b, c)
			wantCode(t, "Authenticate", err, tt.want)
			if c.Kind != tt.kind {
				t.Fatalf("caller kind %q, want %q", c.Kind, tt.kind)
			}
			switch tt.kind {
			case rpc.CallerPartner:
				if c.PartnerKID != key.KID || strings.Join(c.Scopes, " ") != "auth user.profile" || c.UserID != "" {
					t.Fatalf("partner caller %+v", c)
				}
			case rpc.CallerUser:
				if c.UserID != u.ID || c.SessionHash != accounts.HashToken(token) || c.PartnerKID != "" || c.Scopes != nil {
					t.Fatalf("user caller %+v", c)
				}
			default:
				if c.UserID != "" || c.PartnerKID != "" || c.SessionHash != "" || c.Scopes != nil {
					t.Fatalf("refused caller was filled in: %+v", c)
				}
			}
		})
	}
}

// A request refused for carrying both credentials does not spend the
// partner's nonce.
func TestAuthenticateBothKeepsNonce(t *testing.T) {
	e := newEnv(t)
	key, err := e.partners.Create(t.Context(), "Acme", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{}`)
	h := e.signedHeaders(key, body)
	call := func(authz string) error {
		r := httptest.NewRequest(http.MethodPost, "/rpc", bytes.NewReader(body))
		r.Header = h.Clone()
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		return e.auth.Authenticate(r.Context(), r, body, &rpc.Caller{Kind: rpc.CallerNone})
	}
	wantCode(t, "both", call("Bearer pgs_"+strings.Repeat("A", 43)), fault.SignatureMalformed)
	wantCode(t, "partner alone", call(""), 0)
	wantCode(t, "replay", call(""), fault.NonceReplayed)
}

func TestAuthenticateRedisDown(t *testing.T) {
	e := newEnv(t)
	key, err := e.partners.Create(t.Context(), "Acme", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	token := e.session(t, e.user(t, "zeb@example.com").ID)
	body := []byte(`{}`)
	h := e.signedHeaders(key, body)
	e.mr.Close()
	for name, headers := range map[string]http.Header{
		"partner": h,
		"bearer":  {"Authorization": {"Bearer " + token}},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/rpc", bytes.NewReader(body))
			r.Header = headers
			c := &rpc.Caller{Kind: rpc.CallerNone}
			wantCode(t, "Authenticate", e.auth.Authenticate(r.Context(), r, body, c), fault.Unavailable)
			if c.Kind != rpc.CallerNone {
				t.Fatalf("caller %q with Redis down", c.Kind)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	l := &access.Limiter{KV: e.kv, Rates: map[string]access.Rate{
		"tiny":  {Limit: 1, Per: time.Hour, Burst: 3},
		"other": {Limit: 1, Per: time.Hour, Burst: 1},
	}}
	user := &rpc.Caller{Kind: rpc.CallerUser, UserID: "u1", IP: "203.0.113.1"}
	for i := range 3 {
		if err := l.Allow(ctx, "tiny", user); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	err := l.Allow(ctx, "tiny", user)
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Throttled || fe.RetryAfter <= 0 || fe.RetryAfter > time.Hour {
		t.Fatalf("call over the burst = %v, want Throttled with 0 < RetryAfter <= 1h", err)
	}

	// Each caller and each class has its own bucket; a user's bucket follows
	// the user, not the IP.
	others := []struct {
		name  string
		class string
		c     *rpc.Caller
	}{
		{"another user, same IP", "tiny", &rpc.Caller{Kind: rpc.CallerUser, UserID: "u2", IP: "203.0.113.1"}},
		{"a partner", "tiny", &rpc.Caller{Kind: rpc.CallerPartner, PartnerKID: "pk_1", IP: "203.0.113.1"}},
		{"anonymous, same IP", "tiny", &rpc.Caller{Kind: rpc.CallerNone, IP: "203.0.113.1"}},
		{"same user, other class", "other", user},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			if err := l.Allow(ctx, o.class, o.c); err != nil {
				t.Fatalf("Allow: %v", err)
			}
		})
	}
	// Anonymous callers are limited per IP.
	anon := &rpc.Caller{Kind: rpc.CallerNone, IP: "198.51.100.9"}
	if err := l.Allow(ctx, "other", anon); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "anonymous over the burst", l.Allow(ctx, "other", anon), fault.Throttled)
	wantCode(t, "anonymous from another IP", l.Allow(ctx, "other", &rpc.Caller{Kind: rpc.CallerNone, IP: "198.51.100.10"}), 0)

	if err := l.Allow(ctx, "no-such-class", user); err == nil {
		t.Fatal("an unknown class was allowed")
	}

	e.mr.Close()
	wantCode(t, "Redis down", l.Allow(ctx, "other", &rpc.Caller{Kind: rpc.CallerUser, UserID: "u9"}), fault.Unavailable)
}

func TestDefaultRates(t *testing.T) {
	for _, class := range []string{"default", "login", "register"} {
		r, ok := access.DefaultRates[class]
		if !ok || r.Limit <= 0 || r.Per <= 0 || r.Burst <= 0 {
			t.Errorf("DefaultRates[%q] = %+v, %v", class, r, ok)
		}
	}
}

func TestRolesPermits(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	roles := &access.Roles{Store: e.st}
	u := e.user(t, "zeb@example.com")
	tests := []struct {
		role string
		want bool
	}{
		{"", false},
		{"admin", true},
		{"Admin", false},
		{"ADMIN", false},
		{"admin ", false},
		{"moderator", false},
		{"support", false},
		{"admin", true},
		{"", false}, // a revoke takes effect at once
	}
	for _, tt := range tests {
		if err := e.st.SetUserRole(ctx, u.ID, tt.role); err != nil {
			t.Fatalf("SetUserRole(%q): %v", tt.role, err)
		}
		c := &rpc.Caller{Kind: rpc.CallerUser, UserID: u.ID}
		ok, err := roles.Permits(ctx, c, "users.grant")
		if err != nil {
			t.Fatalf("Permits with role %q: %v", tt.role, err)
		}
		if ok != tt.want {
			t.Fatalf("Permits with role %q = %v, want %v", tt.role, ok, tt.want)
		}
		want := tt.role
		if want == "" {
			want = access.MemberRole
		}
		if c.Role != want {
			t.Fatalf("caller role %q, want %q", c.Role, want)
		}
	}

	t.Run("unknown user", func(t *testing.T) {
		ok, err := roles.Permits(ctx, &rpc.Caller{Kind: rpc.CallerUser, UserID: "no-such-user"}, "users.grant")
		if ok || err != nil {
			t.Fatalf("Permits = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("no user", func(t *testing.T) {
		ok, err := roles.Permits(ctx, &rpc.Caller{Kind: rpc.CallerNone}, "users.grant")
		if ok || err != nil {
			t.Fatalf("Permits = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("database closed", func(t *testing.T) {
		if err := e.st.SetUserRole(ctx, u.ID, "admin"); err != nil {
			t.Fatal(err)
		}
		e.st.Close()
		ok, err := roles.Permits(ctx, &rpc.Caller{Kind: rpc.CallerUser, UserID: u.ID}, "users.grant")
		if ok || err == nil {
			t.Fatalf("Permits with the database closed = %v, %v; want false and an error", ok, err)
		}
	})
}

// TestGate is the access matrix the transport used to hard-code: each
// declared Access against each credential kind, scopes by prefix, and an
// unknown kind refused everywhere but public methods.
func TestGate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	admin := e.user(t, "gate-admin@example.com")
	if err := e.st.SetUserRole(ctx, admin.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	member := e.user(t, "gate-member@example.com")
	g := &access.Gate{Roles: &access.Roles{Store: e.st}}
	methods := map[string]*rpc.Method{
		"public":  {Name: "system.ping", Access: rpc.Public},
		"session": {Name: "user.settings.get", Access: rpc.SessionUser},
		"partner": {Name: "auth.registerUser", Access: rpc.PartnerScope},
		"admin":   {Name: "admin.users.list", Access: rpc.AdminPermission, Permission: "users.read"},
	}
	callers := map[string]*rpc.Caller{
		"anonymous":     {Kind: rpc.CallerNone},
		"member":        {Kind: rpc.CallerUser, UserID: member.ID},
		"admin":         {Kind: rpc.CallerUser, UserID: admin.ID},
		"partner auth":  {Kind: rpc.CallerPartner, PartnerKID: "pk_a", Scopes: []string{"auth"}},
		"partner *":     {Kind: rpc.CallerPartner, PartnerKID: "pk_b", Scopes: []string{"*"}},
		"partner authx": {Kind: rpc.CallerPartner, PartnerKID: "pk_c", Scopes: []string{"authx", "user"}},
		"unknown kind":  {Kind: "apikey", UserID: admin.ID},
	}
	ok, unauth, forbidden := fault.Code(0), fault.Unauthenticated, fault.Forbidden
	want := map[string]map[string]fault.Code{
		"public":  {"anonymous": ok, "member": ok, "admin": ok, "partner auth": ok, "partner *": ok, "partner authx": ok, "unknown kind": ok},
		"session": {"anonymous": unauth, "member": ok, "admin": ok, "partner auth": forbidden, "partner *": forbidden, "partner authx": forbidden, "unknown kind": forbidden},
		"partner": {"anonymous": unauth, "member": forbidden, "admin": forbidden, "partner auth": ok, "partner *": ok, "partner authx": forbidden, "unknown kind": forbidden},
		"admin":   {"anonymous": unauth, "member": forbidden, "admin": ok, "partner auth": forbidden, "partner *": forbidden, "partner authx": forbidden, "unknown kind": forbidden},
	}
	for mname, m := range methods {
		for cname, c := range callers {
			err := g.Admit(ctx, m, c)
			if got := fault.CodeOf(err); got != want[mname][cname] || (err != nil && got == 0) {
				t.Errorf("%s method as %s: %v, want code %d", mname, cname, err, want[mname][cname])
			}
		}
	}
}

func TestScopeGrants(t *testing.T) {
	tests := []struct {
		scope, method string
		want          bool
	}{
		{"*", "auth.registerUser", true},
		{"auth", "auth.registerUser", true},
		{"auth", "authx.registerUser", false},
		{"authx", "auth.registerUser", false},
		{"admin.users", "admin.users.list", true},
		{"admin.users", "admin.usersx.list", false},
		{"admin.users.list", "admin.users.list", true},
		{"admin", "admin", true},
		{"", "auth.registerUser", false},
	}
	for _, tt := range tests {
		if got := access.ScopeGrants(tt.scope, tt.method); got != tt.want {
			t.Errorf("ScopeGrants(%q, %q) = %v, want %v", tt.scope, tt.method, got, tt.want)
		}
	}
}
