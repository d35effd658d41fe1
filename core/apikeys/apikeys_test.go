package apikeys_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/apikeys"
	"partnergate/core/fault"
	"partnergate/core/keyring"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

// fakeOTP is a second factor that accepts one code, once.
type fakeOTP struct {
	mu   sync.Mutex
	on   bool
	code string
}

func (f *fakeOTP) Enabled(context.Context, string) (bool, error) { return f.on, nil }

func (f *fakeOTP) Verify(_ context.Context, _, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case code == "":
		return fault.New(fault.OTPRequired)
	case code != f.code:
		return fault.New(fault.OTPInvalid)
	}
	f.code = "used"
	return nil
}

type env struct {
	st  *sqlstore.Store
	otp *fakeOTP
	svc *apikeys.Service
	now time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2"} {
		if err := st.CreateUser(ctx, store.NewUser{User: store.User{ID: id, State: store.StateActive}}); err != nil {
			t.Fatal(err)
		}
	}
	mr := miniredis.RunT(t)
	cl := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = cl.Close() })
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	ring, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, otp: &fakeOTP{on: true}, now: time.Now()}
	e.svc = &apikeys.Service{Store: st, Ring: ring, OTP: e.otp, Nonces: kv.New(cl), MaxPerUser: 3, Now: func() time.Time { return e.now }}
	return e
}

func (e *env) create(t *testing.T, user, alg, scope string) apikeys.Created {
	t.Helper()
	e.otp.code = "111111"
	c, err := e.svc.Create(context.Background(), user, alg, scope, "111111")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"resource", "resource", true},
		{" resource.documents , resource.data_storage,resource.documents", "resource.documents,resource.data_storage", true},
		{"Resource", "", false},
		{"resource,,x", "", false},
		{"resource.", "", false},
		{"a b", "", false},
		{"*", "", false},
		{"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", true},
		{"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "", false},
	} {
		got, err := apikeys.ParseScope(tc.in)
		if (err == nil) != tc.ok || (tc.ok && strings.Join(got, ",") != tc.want) {
			t.Errorf("ParseScope(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestGrants(t *testing.T) {
	for _, tc := range []struct {
		scope  []string
		method string
		want   bool
	}{
		{nil, "resource.documents.list", true},
		{nil, "resource.api_keys.create", false},
		{nil, "resource.otp.disable", false},
		{nil, "identity.sessions.create", false},
		{nil, "user.settings.get", false},
		{nil, "admin.users.list", false},
		{[]string{"resource.documents"}, "resource.documents.create", true},
		{[]string{"resource.documents"}, "resource.documentsx.create", false},
		{[]string{"resource.documents"}, "resource.data_storage.create", false},
		{[]string{"resource"}, "resource.api_keys.list", false},
	} {
		if got := apikeys.Grants(tc.scope, tc.method); got != tc.want {
			t.Errorf("Grants(%v, %s) = %v", tc.scope, tc.method, got)
		}
	}
}

func TestSecondFactorFirstAndInputBeforeIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.otp.on = false
	if _, err := e.svc.Create(ctx, "u1", "HS256", "", "1"); fault.CodeOf(err) != fault.OTPNotEnabled {
		t.Fatalf("2FA off: %v", err)
	}
	e.otp.on, e.otp.code = true, "222222"
	if _, err := e.svc.Create(ctx, "u1", "HS1", "", "222222"); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("HS1: %v", err)
	}
	if e.otp.code != "222222" {
		t.Fatal("bad input spent the code")
	}
	if _, err := e.svc.Create(ctx, "u1", "HS256", "", ""); fault.CodeOf(err) != fault.OTPRequired {
		t.Fatalf("no code: %v", err)
	}
	c, err := e.svc.Create(ctx, "u1", "HS256", "resource", "222222")
	if err != nil || len(c.Secret) != 64 || len(c.Key.KID) != 16 || strings.Contains(c.Key.SecretSealed, c.Secret) {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := e.svc.Create(ctx, "u1", "HS256", "", "222222"); fault.CodeOf(err) != fault.OTPInvalid {
		t.Fatalf("code reused: %v", err)
	}
	e.create(t, "u1", "HS384", "")
	e.create(t, "u1", "HS512", "")
	e.otp.code = "333333"
	if _, err := e.svc.Create(ctx, "u1", "HS256", "", "333333"); fault.CodeOf(err) != fault.APIKeyLimitReached {
		t.Fatalf("fourth key under 3: %v", err)
	}
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, alg := range apikeys.Algorithms {
		t.Run(alg, func(t *testing.T) {
			c := e.create(t, "u1", alg, "")
			kid := c.Key.KID
			n := 0
			nonce := func(d time.Duration) string {
				n++
				return strconv.FormatInt(e.now.Add(d).UnixMilli()+int64(n), 10)
			}
			signed := func(nc string) apikeys.Signed {
				return apikeys.Signed{KID: kid, Nonce: nc, Signature: apikeys.Sign(alg, c.Secret, nc, kid)}
			}
			good := signed(nonce(0))
			k, err := e.svc.Check(ctx, good)
			if err != nil || k.UserID != "u1" {
				t.Fatalf("good: %+v %v", k, err)
			}
			if _, err := e.svc.Check(ctx, good); fault.CodeOf(err) != fault.NonceReplayed {
				t.Fatalf("replay: %v", err)
			}
			other := signed(nonce(0))
			other.Signature = apikeys.Sign(alg, strings.Repeat("0", 64), other.Nonce, kid)
			for _, tc := range []struct {
				name string
				sg   apikeys.Signed
				code fault.Code
			}{
				{"stale", signed(nonce(-31 * time.Second)), fault.TimestampStale},
				{"future", signed(nonce(31 * time.Second)), fault.TimestampStale},
				{"inside the window", signed(nonce(-29 * time.Second)), 0},
				{"wrong secret", other, fault.APIKeyInvalid},
				{"unknown kid", apikeys.Signed{KID: "0123456789abcdef", Nonce: nonce(0), Signature: good.Signature}, fault.APIKeyInvalid},
				{"kid malformed", apikeys.Signed{KID: "../x", Nonce: nonce(0), Signature: good.Signature}, fault.SignatureMalformed},
				{"nonce not a number", apikeys.Signed{KID: kid, Nonce: "abc", Signature: good.Signature}, fault.SignatureMalformed},
				{"signature not hex", apikeys.Signed{KID: kid, Nonce: nonce(0), Signature: strings.Repeat("z", 64)}, fault.SignatureMalformed},
				{"signature short", apikeys.Signed{KID: kid, Nonce: nonce(0), Signature: "abcd"}, fault.SignatureMalformed},
			} {
				if _, err := e.svc.Check(ctx, tc.sg); fault.CodeOf(err) != tc.code {
					t.Errorf("%s: %v, want %d", tc.name, err, tc.code)
				}
			}
			// A disabled key, and a key of a disabled user, answer as an unknown one.
			e.otp.code = "444444"
			st := store.APIKeyDisabled
			if _, err := e.svc.Update(ctx, "u1", kid, nil, &st, "444444"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Check(ctx, signed(nonce(0))); fault.CodeOf(err) != fault.APIKeyInvalid {
				t.Fatalf("disabled key: %v", err)
			}
		})
	}
	t.Run("user disabled", func(t *testing.T) {
		c := e.create(t, "u2", "HS256", "")
		if _, err := e.st.UpdateUser(ctx, "u2", func(u store.User) (store.User, error) { u.State = store.StateDisabled; return u, nil }); err != nil {
			t.Fatal(err)
		}
		nc := strconv.FormatInt(e.now.UnixMilli(), 10)
		if _, err := e.svc.Check(ctx, apikeys.Signed{KID: c.Key.KID, Nonce: nc, Signature: apikeys.Sign("HS256", c.Secret, nc, c.Key.KID)}); fault.CodeOf(err) != fault.APIKeyInvalid {
			t.Fatalf("disabled user: %v", err)
		}
	})
}

func TestOwnerOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.create(t, "u1", "HS256", "")
	e.otp.code = "555555"
	if err := e.svc.Delete(ctx, "u2", c.Key.KID, "555555"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("u2 deletes u1's key: %v", err)
	}
	e.otp.code = "666666"
	if _, err := e.svc.Update(ctx, "u2", c.Key.KID, nil, nil, "666666"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("u2 updates u1's key: %v", err)
	}
	e.otp.code = "777777"
	ks, total, err := e.svc.List(ctx, "u1", "777777", 1, 10)
	if err != nil || total != 1 || len(ks) != 1 {
		t.Fatalf("%v %d %v", ks, total, err)
	}
	if _, _, err := e.svc.List(ctx, "u1", "x", 0, 10); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("page 0: %v", err)
	}
	if _, _, err := e.svc.List(ctx, "u1", "x", 1, 1001); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("limit 1001: %v", err)
	}
}

func FuzzCheckHeaders(f *testing.F) {
	e := newEnv(f)
	e.otp.code = "111111"
	c, err := e.svc.Create(context.Background(), "u1", "HS256", "", "111111")
	if err != nil {
		f.Fatal(err)
	}
	nc := strconv.FormatInt(e.now.UnixMilli(), 10)
	f.Add(c.Key.KID, nc, apikeys.Sign("HS256", c.Secret, nc, c.Key.KID))
	f.Add(c.Key.KID, nc, strings.Repeat("a", 64))
	f.Add("0123456789abcdef", nc, strings.Repeat("a", 128))
	f.Add("", "", "")
	f.Add("../../x", "-1", "zz")
	f.Fuzz(func(t *testing.T, kid, nonce, sig string) {
		k, err := e.svc.Check(context.Background(), apikeys.Signed{KID: kid, Nonce: nonce, Signature: sig})
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		// Accepted: it must be the real key, signed with its secret.
		if k.KID != c.Key.KID || !strings.EqualFold(sig, apikeys.Sign("HS256", c.Secret, nonce, kid)) {
			t.Fatalf("accepted a forged signature: %q %q %q", kid, nonce, sig)
		}
	})
}

// TestCacheTTL: a key disabled by another process (straight in the store)
// stops here within CacheTTL; one disabled through this service at once.
func TestCacheTTL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.create(t, "u1", "HS256", "")
	n := int64(0)
	check := func() error {
		n++
		nc := strconv.FormatInt(e.now.UnixMilli()+n, 10)
		_, err := e.svc.Check(ctx, apikeys.Signed{KID: c.Key.KID, Nonce: nc, Signature: apikeys.Sign("HS256", c.Secret, nc, c.Key.KID)})
		return err
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpdateAPIKey(ctx, "u1", c.Key.KID, func(k store.APIKey) (store.APIKey, error) {
		k.State = store.APIKeyDisabled
		return k, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := check(); err != nil {
		t.Fatalf("within the TTL the cached key still answers: %v", err)
	}
	e.now = e.now.Add(apikeys.CacheTTL + time.Second)
	if err := check(); fault.CodeOf(err) != fault.APIKeyInvalid {
		t.Fatalf("after the TTL: %v", err)
	}
	d := e.create(t, "u1", "HS256", "")
	c = d
	if err := check(); err != nil {
		t.Fatal(err)
	}
	e.otp.code = "888888"
	if err := e.svc.Delete(ctx, "u1", d.Key.KID, "888888"); err != nil {
		t.Fatal(err)
	}
	if err := check(); fault.CodeOf(err) != fault.APIKeyInvalid {
		t.Fatalf("deleted here, still accepted: %v", err)
	}
}
