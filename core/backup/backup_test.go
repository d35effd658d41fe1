package backup

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"partnergate/core/fault"
	"partnergate/store"
	"partnergate/store/kv"
	"partnergate/store/sqlstore"
)

const password = "archive-secret"

// recorder is a Notifier that keeps what it was asked to deliver.
type recorder struct {
	mu    sync.Mutex
	links []string
	exp   []time.Time
	fail  error
}

func (r *recorder) BackupReady(_ context.Context, _, link string, expires time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.links = append(r.links, link)
	r.exp = append(r.exp, expires)
	return r.fail
}

func (r *recorder) last(t *testing.T) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.links) == 0 {
		t.Fatal("no link delivered")
	}
	return r.links[len(r.links)-1]
}

type env struct {
	s     *Service
	st    *sqlstore.Store
	mr    *miniredis.Miniredis
	rec   *recorder
	clock time.Time
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { client.Close() })
	e := &env{st: st, mr: mr, rec: &recorder{}, clock: time.Now().UTC()}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.s = &Service{
		Store: st, Notify: e.rec, KV: kv.New(client), WorkFactor: 10,
		BaseURL: func() string { return "https://id.example.com/" },
		Now:     func() time.Time { return e.clock },
	}
	mux.Handle("GET /backup/{token}", e.s)
	return e
}

// seedUser stores a user with something in every table.
func (e *env) seedUser(t *testing.T, id, email string) {
	t.Helper()
	ctx := t.Context()
	u := store.User{ID: id, Created: e.clock, Updated: e.clock, State: store.StateActive}
	p := store.Profile{FirstName: "Ann", Params: `{"theme":"dark"}`}
	if err := e.st.CreateUser(ctx, store.NewUser{User: u, Profile: p, PasswordHash: "$argon2id$secret-hash",
		Identifiers: []store.Identifier{{UserID: id, Kind: store.KindEmail, Value: email, Norm: strings.ToLower(email), Verified: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetProductState(ctx, store.ProductConsent{UserID: id, ProductID: "dating", Action: store.ConsentActivate, At: e.clock, IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RecordTracking(ctx, store.TrackingRecord{SetPush: "fcm:" + id, Event: store.TrackingEvent{UserID: id, At: e.clock, Data: `{"device_id":"d1"}`}}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) download(t *testing.T, link string) (int, []byte) {
	t.Helper()
	path := strings.TrimPrefix(link, "https://id.example.com")
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestService_RequestAndDownloadOnce(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "Ann@example.com")
	e.seedUser(t, "u2", "bob@example.com")
	if err := e.st.PutBlock(t.Context(), store.Block{BlockerID: "u1", BlockedID: "u2", Reason: 2}); err != nil {
		t.Fatal(err)
	}
	e.s.Sources = []Source{{Name: "settings.json", Load: func(_ context.Context, id string) (any, error) {
		return map[string]string{"lang": "en", "user": id}, nil
	}}}

	if err := e.s.Request(t.Context(), "u1", password); err != nil {
		t.Fatal(err)
	}
	link := e.rec.last(t)
	if !strings.HasPrefix(link, "https://id.example.com/backup/pgb_") || len(link) != len("https://id.example.com/backup/pgb_")+22 {
		t.Fatalf("link %q", link)
	}
	if got := e.rec.exp[0]; !got.Equal(e.clock.Truncate(time.Microsecond).Add(DefaultTTL)) {
		t.Errorf("expires %v", got)
	}

	// A HEAD does not spend the token.
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+strings.TrimPrefix(link, "https://id.example.com"), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	status, sealed := e.download(t, link)
	if status != http.StatusOK {
		t.Fatalf("download: HTTP %d %s", status, sealed)
	}
	if bytes.Contains(sealed, []byte("Ann@example.com")) {
		t.Fatal("archive not encrypted")
	}
	if _, err := Decrypt(sealed, "wrong password"); err == nil {
		t.Fatal("opened with a wrong password")
	}
	plain, err := Decrypt(sealed, password)
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, plain)
	var manifest Manifest
	if err := json.Unmarshal(files[FileManifest], &manifest); err != nil || manifest.Format != Format || manifest.UserID != "u1" {
		t.Fatalf("manifest %s: %v", files[FileManifest], err)
	}
	for _, name := range append(manifest.Files, FileManifest) {
		if !json.Valid(files[name]) {
			t.Errorf("%s is not JSON: %s", name, files[name])
		}
	}
	wantIn := map[string][]string{
		FileProfile:     {`"id": "u1"`, `"first_name": "Ann"`, `"params": "{\"theme\":\"dark\"}"`},
		FileIdentifiers: {`"value": "Ann@example.com"`, `"verified": true`},
		FileProducts:    {`"product_id": "dating"`},
		FileConsents:    {`"action": "activate"`, `"ip": "192.0.2.1"`},
		FileTracking:    {`"device_id": "d1"`},
		FilePushDevices: {`"device_id": "fcm:u1"`},
		FileBlocks:      {`"blocked_id": "u2"`, `"reason": 2`},
		"settings.json": {`"lang": "en"`, `"user": "u1"`},
	}
	for name, subs := range wantIn {
		for _, sub := range subs {
			if !strings.Contains(string(files[name]), sub) {
				t.Errorf("%s lacks %s:\n%s", name, sub, files[name])
			}
		}
	}
	for name, b := range files {
		if strings.Contains(string(b), "argon2id") || strings.Contains(string(b), "bob@example.com") {
			t.Errorf("%s holds what is not u1's to take: %s", name, b)
		}
	}
	if status, _ := e.download(t, link); status != http.StatusNotFound {
		t.Errorf("second download: HTTP %d, want 404", status)
	}
}

func TestService_Refusals(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	cases := []struct {
		name     string
		user     string
		password string
		code     fault.Code
		message  string
	}{
		{"empty password", "u1", "", fault.Invalid, PasswordMessage},
		{"five characters", "u1", "12345", fault.Invalid, PasswordMessage},
		{"five runes in more bytes", "u1", "пароль"[:10], fault.Invalid, PasswordMessage},
		{"unknown user", "ghost", password, fault.NotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.s.Request(t.Context(), tc.user, tc.password)
			fe, ok := fault.As(err)
			if !ok || fe.Code != tc.code || (tc.message != "" && fe.Message != tc.message) {
				t.Fatalf("Request = %v, want %d %q", err, tc.code, tc.message)
			}
		})
	}
	if len(e.rec.links) != 0 {
		t.Errorf("links sent: %v", e.rec.links)
	}
}

func TestService_Cooldown(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	e.seedUser(t, "u2", "b@example.com")
	for i := range 2 {
		if err := e.s.Request(t.Context(), "u1", password); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// The second replaced the first.
	if status, _ := e.download(t, e.rec.links[0]); status != http.StatusNotFound {
		t.Errorf("replaced link: HTTP %d", status)
	}
	err := e.s.Request(t.Context(), "u1", password)
	if fe, ok := fault.As(err); !ok || fe.Code != fault.Throttled || fe.RetryAfter <= 0 {
		t.Fatalf("third request = %v, want Throttled with retryAfter", err)
	}
	if err := e.s.Request(t.Context(), "u2", password); err != nil {
		t.Errorf("another user throttled: %v", err)
	}
}

func TestService_ExpiredLink(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	if err := e.s.Request(t.Context(), "u1", password); err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(DefaultTTL)
	if status, _ := e.download(t, e.rec.last(t)); status != http.StatusNotFound {
		t.Errorf("expired link: HTTP %d, want 404", status)
	}
}

func TestService_UndeliverableBackupIsDropped(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	e.rec.fail = fault.New(fault.Unavailable)
	if err := e.s.Request(t.Context(), "u1", password); fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("Request = %v", err)
	}
	if status, _ := e.download(t, e.rec.last(t)); status != http.StatusNotFound {
		t.Errorf("undelivered link works: HTTP %d", status)
	}
}

func TestService_NeedsABaseURL(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	e.s.BaseURL = func() string { return "" }
	if err := e.s.Request(t.Context(), "u1", password); err == nil || fault.CodeOf(err) != 0 {
		t.Fatalf("Request without base URL = %v, want an internal error", err)
	}
}

func TestService_TakeRefusesMalformedTokens(t *testing.T) {
	e := newEnv(t)
	for _, tok := range []string{"", "pgb_", "pgb_" + strings.Repeat("A", 21), "xyz_" + strings.Repeat("A", 22), "pgb_" + strings.Repeat("A", 22)} {
		if _, err := e.s.Take(t.Context(), tok); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("Take(%q) = %v", tok, err)
		}
	}
}

func TestService_RedisDownFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.seedUser(t, "u1", "a@example.com")
	e.mr.Close()
	err := e.s.Request(t.Context(), "u1", password)
	if fault.CodeOf(err) != fault.Unavailable && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request with Redis down = %v, want Unavailable", err)
	}
	if len(e.rec.links) != 0 {
		t.Error("a backup was built without its cooldown check")
	}
}
