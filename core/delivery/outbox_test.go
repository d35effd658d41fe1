package delivery

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core/keyring"
	"partnergate/methods/dev"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

// clock is a settable clock shared by an Outbox and its Dispatchers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 5, 17, 9, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// logBuf is a goroutine-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorder is a Sender that records what it sends and fails as told.
type recorder struct {
	mu   sync.Mutex
	sent []sentMsg
	fail func(to string) error
}

type sentMsg struct{ to, subject, body string }

func (r *recorder) Send(ctx context.Context, to, subject, body string) error {
	if r.fail != nil {
		if err := r.fail(to); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sentMsg{to, subject, body})
	return nil
}

func (r *recorder) messages() []sentMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentMsg(nil), r.sent...)
}

func testRing(t *testing.T) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openStore(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

type env struct {
	path   string
	store  *sqlstore.Store
	ring   *keyring.Ring
	clock  *clock
	outbox *Outbox
	logs   *logBuf
}

func newEnv(t *testing.T, devMode bool) *env {
	t.Helper()
	e := &env{path: filepath.Join(t.TempDir(), "outbox.db"), ring: testRing(t), clock: newClock(), logs: &logBuf{}}
	e.store = openStore(t, e.path)
	o, err := NewOutbox(e.store, e.ring, devMode)
	if err != nil {
		t.Fatal(err)
	}
	o.Now = e.clock.Now
	o.Log = zerolog.New(e.logs).Level(zerolog.DebugLevel)
	e.outbox = o
	return e
}

func (e *env) dispatcher(t *testing.T, st store.Outbox, senders map[string]Sender) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(st, e.ring, senders, zerolog.New(e.logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	d.Now = e.clock.Now
	return d
}

func (e *env) enqueueCode(t *testing.T, channel, to, code string) int64 {
	t.Helper()
	err := e.outbox.Enqueue(t.Context(), Message{Channel: channel, To: to, Lang: "en", Template: TemplateCodeRegistration,
		Vars: map[string]string{"code": code}})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	ms, err := e.store.MessagesTo(t.Context(), to, 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("MessagesTo(%s) = %v, %v", to, ms, err)
	}
	return ms[0].ID
}

func (e *env) entry(t *testing.T, id int64) store.OutboxEntry {
	t.Helper()
	en, err := e.store.OutboxEntryByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

func runOnce(t *testing.T, d *Dispatcher) int {
	t.Helper()
	n, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// rawRow reads the stored subject and body straight from the database
// file, past the store.
func rawRow(t *testing.T, path string, id int64) (subject, body string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), `SELECT subject, body FROM outbox WHERE id = ?`, id).Scan(&subject, &body); err != nil {
		t.Fatal(err)
	}
	return subject, body
}

func TestEnqueueSealsBody(t *testing.T) {
	cases := []struct {
		name, channel, to, lang, template string
		vars                              map[string]string
		secret                            string
	}{
		{"email code", ChannelEmail, "zoe@example.com", "en", TemplateCodeRegistration, map[string]string{"code": "493817"}, "493817"},
		{"sms code", ChannelSMS, "+15550100", "ru", TemplateCodeRecovery, map[string]string{"code": "771204"}, "771204"},
		{"backup link", ChannelEmail, "ada@example.com", "en", TemplateLinkBackup,
			map[string]string{"link": "https://example.com/b/Tok3nSecretXYZ", "expires": "2024-05-18 09:30 UTC"}, "Tok3nSecretXYZ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, false)
			err := e.outbox.Enqueue(t.Context(), Message{Channel: c.channel, To: c.to, Lang: c.lang, Template: c.template, Vars: c.vars})
			if err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			ms, err := e.store.MessagesTo(t.Context(), c.to, 10)
			if err != nil || len(ms) != 1 {
				t.Fatalf("MessagesTo = %v, %v", ms, err)
			}
			m := ms[0]
			subject, body := rawRow(t, e.path, m.ID)
			if strings.Contains(body, c.secret) || strings.Contains(subject, c.secret) || !strings.HasPrefix(body, "v1.") {
				t.Errorf("stored row holds the secret or is not sealed: subject %q body %q", subject, body)
			}
			wantSubject, wantBody, _ := Render(Message{Channel: c.channel, Lang: c.lang, Template: c.template, Vars: c.vars})
			if subject != wantSubject {
				t.Errorf("subject = %q, want %q in clear", subject, wantSubject)
			}
			if m.Sent != nil || !m.Created.Equal(e.clock.Now()) || m.Channel != c.channel {
				t.Errorf("stored message = %+v", m)
			}
			clear, err := e.outbox.OpenBody(m)
			if err != nil || clear != wantBody {
				t.Errorf("OpenBody = %q, %v; want %q", clear, err, wantBody)
			}
			// The seal is bound to the recipient: the body moved to
			// another row does not open.
			moved := m
			moved.To = "mallory@example.com"
			if _, err := e.outbox.OpenBody(moved); err == nil {
				t.Error("a sealed body opened for another recipient")
			}
			if strings.Contains(e.logs.String(), c.secret) || strings.Contains(e.logs.String(), c.to) {
				t.Errorf("log holds the secret or the address: %s", e.logs.String())
			}
		})
	}
}

func TestEnqueueRefuses(t *testing.T) {
	e := newEnv(t, false)
	code := map[string]string{"code": "123456"}
	cases := []struct {
		name string
		m    Message
	}{
		{"unknown channel", Message{Channel: "pigeon", To: "a@example.com", Template: TemplateCodeRegistration, Vars: code}},
		{"no recipient", Message{Channel: ChannelEmail, Template: TemplateCodeRegistration, Vars: code}},
		{"recipient with CRLF", Message{Channel: ChannelEmail, To: "a@example.com\r\nBcc: b@example.com", Template: TemplateCodeRegistration, Vars: code}},
		{"recipient too long", Message{Channel: ChannelEmail, To: strings.Repeat("a", 320) + "@example.com", Template: TemplateCodeRegistration, Vars: code}},
		{"unknown template", Message{Channel: ChannelEmail, To: "a@example.com", Template: "code.unknown", Vars: code}},
		{"missing var", Message{Channel: ChannelSMS, To: "+15550100", Template: TemplateCodeDeletion}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := e.outbox.Enqueue(t.Context(), c.m); err == nil {
				t.Fatal("Enqueue accepted")
			}
		})
	}
	for _, to := range []string{"a@example.com", "+15550100"} {
		if ms, err := e.store.MessagesTo(t.Context(), to, 10); err != nil || len(ms) != 0 {
			t.Errorf("MessagesTo(%s) = %v, %v; want nothing stored", to, ms, err)
		}
	}
}

func TestDispatcherSendsOnceAndMarksSent(t *testing.T) {
	e := newEnv(t, false)
	email, sms := &recorder{}, &recorder{}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: email, ChannelSMS: sms})
	idMail := e.enqueueCode(t, ChannelEmail, "zoe@example.com", "493817")
	idSMS := e.enqueueCode(t, ChannelSMS, "+15550100", "771204")

	e.clock.Advance(time.Second)
	if n := runOnce(t, d); n != 2 {
		t.Fatalf("RunOnce claimed %d, want 2", n)
	}
	for _, c := range []struct {
		r            *recorder
		id           int64
		to, code     string
		wantSubjects string
	}{
		{email, idMail, "zoe@example.com", "493817", "Confirm your registration"},
		{sms, idSMS, "+15550100", "771204", "Confirm your registration"},
	} {
		got := c.r.messages()
		if len(got) != 1 || got[0].to != c.to || got[0].subject != c.wantSubjects || !strings.Contains(got[0].body, c.code) {
			t.Errorf("sender for %s got %+v", c.to, got)
		}
		en := e.entry(t, c.id)
		if en.Sent == nil || !en.Sent.Equal(e.clock.Now()) || en.Attempts != 1 || en.Dead || en.ClaimedUntil != nil {
			t.Errorf("entry after send = %+v", en)
		}
	}
	e.clock.Advance(time.Hour)
	if n := runOnce(t, d); n != 0 {
		t.Errorf("second RunOnce claimed %d", n)
	}
	if len(email.messages()) != 1 || len(sms.messages()) != 1 {
		t.Error("a message was sent twice")
	}
	if logs := e.logs.String(); strings.Contains(logs, "493817") || strings.Contains(logs, "zoe@example.com") {
		t.Errorf("log holds a code or an address:\n%s", logs)
	}
}

func TestDispatcherBacksOffThenDies(t *testing.T) {
	e := newEnv(t, false)
	boom := &recorder{fail: func(string) error { return errors.New("smtp: connect: connection refused") }}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: boom})
	id := e.enqueueCode(t, ChannelEmail, "zoe@example.com", "493817")

	wantBackoff := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, wait := range wantBackoff {
		attempt := i + 1
		if n := runOnce(t, d); n != 1 {
			t.Fatalf("attempt %d: RunOnce claimed %d", attempt, n)
		}
		en := e.entry(t, id)
		if en.Attempts != attempt || en.Dead || en.Sent != nil || en.LastError != "smtp: connect: connection refused" ||
			!en.NextAttempt.Equal(e.clock.Now().Add(wait)) {
			t.Fatalf("attempt %d: entry = %+v, want next attempt in %v", attempt, en, wait)
		}
		// Not due a microsecond early; due on time. No sleeping: the
		// clock is moved.
		e.clock.Advance(wait - time.Microsecond)
		if n := runOnce(t, d); n != 0 {
			t.Fatalf("attempt %d: claimed %d before the backoff ended", attempt, n)
		}
		e.clock.Advance(time.Microsecond)
	}
	// The twelfth failure is the last.
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("last attempt: RunOnce claimed %d", n)
	}
	en := e.entry(t, id)
	if !en.Dead || en.Attempts != DefaultMaxAttempts || en.Sent != nil {
		t.Fatalf("after %d failures: %+v, want dead", DefaultMaxAttempts, en)
	}
	e.clock.Advance(365 * 24 * time.Hour)
	if n := runOnce(t, d); n != 0 {
		t.Fatalf("a dead message was claimed")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(logs, "message dead") ||
		!strings.Contains(logs, fmt.Sprintf(`"outboxId":%d`, id)) {
		t.Errorf("no error log for the dead message:\n%s", logs)
	}
	if strings.Contains(logs, "493817") || strings.Contains(logs, "zoe@example.com") {
		t.Errorf("log holds the code or the address")
	}
}

func TestDispatcherFailures(t *testing.T) {
	cases := []struct {
		name     string
		channel  string
		senders  func() map[string]Sender
		prepare  func(t *testing.T, e *env) int64
		wantDead bool
		wantErr  string
	}{
		{
			name: "permanent error dies at once", channel: ChannelEmail,
			senders: func() map[string]Sender {
				return map[string]Sender{ChannelEmail: &recorder{fail: func(string) error { return Permanent(errors.New("smtp: rcpt: 550")) }}}
			},
			wantDead: true, wantErr: "smtp: rcpt: 550",
		},
		{
			name: "no sender for the channel retries", channel: ChannelSMS,
			senders:  func() map[string]Sender { return map[string]Sender{ChannelEmail: &recorder{}} },
			wantDead: false, wantErr: `no sender configured for channel "sms"`,
		},
		{
			name: "unsealed body dies unsent", channel: ChannelEmail,
			senders: func() map[string]Sender {
				return map[string]Sender{ChannelEmail: &recorder{fail: func(string) error { panic("sent an unsealed body") }}}
			},
			prepare: func(t *testing.T, e *env) int64 {
				id, err := e.store.EnqueueMessage(t.Context(), store.Message{Channel: ChannelEmail, To: "x@example.com", Body: "code 1234", Created: e.clock.Now()})
				if err != nil {
					t.Fatal(err)
				}
				return id
			},
			wantDead: true, wantErr: "does not open",
		},
		{
			name: "body sealed under a dropped key dies unsent", channel: ChannelEmail,
			senders: func() map[string]Sender {
				return map[string]Sender{ChannelEmail: &recorder{fail: func(string) error { panic("sent") }}}
			},
			prepare: func(t *testing.T, e *env) int64 {
				other, _ := keyring.New(bytes.Repeat([]byte{9}, keyring.KeySize))
				o, _ := NewOutbox(e.store, other, false)
				o.Now = e.clock.Now
				if err := o.Enqueue(t.Context(), Message{Channel: ChannelEmail, To: "x@example.com", Template: TemplateCodeRecovery, Vars: map[string]string{"code": "1"}}); err != nil {
					t.Fatal(err)
				}
				ms, _ := e.store.MessagesTo(t.Context(), "x@example.com", 1)
				return ms[0].ID
			},
			wantDead: true, wantErr: "does not open",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, false)
			d := e.dispatcher(t, e.store, c.senders())
			var id int64
			if c.prepare != nil {
				id = c.prepare(t, e)
			} else {
				id = e.enqueueCode(t, c.channel, "x@example.com", "555000")
			}
			if n := runOnce(t, d); n != 1 {
				t.Fatalf("RunOnce claimed %d", n)
			}
			en := e.entry(t, id)
			if en.Dead != c.wantDead || en.Sent != nil || !strings.Contains(en.LastError, c.wantErr) || en.Attempts != 1 {
				t.Errorf("entry = %+v, want dead=%v and error %q", en, c.wantDead, c.wantErr)
			}
		})
	}
}

// Two dispatchers, each with its own connection pool as separate processes
// would have, drain 50 messages: each is sent exactly once.
func TestTwoDispatchersNeverSendTwice(t *testing.T) {
	e := newEnv(t, false)
	const n = 50
	for i := range n {
		e.enqueueCode(t, ChannelEmail, fmt.Sprintf("user%02d@example.com", i), fmt.Sprintf("%06d", i))
	}
	other := openStore(t, e.path)
	var (
		mu    sync.Mutex
		count = make(map[string]int)
	)
	slow := func(to string) error {
		mu.Lock()
		count[to]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // widen the window for overlaps
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, st := range []*sqlstore.Store{e.store, other} {
		d := e.dispatcher(t, st, map[string]Sender{ChannelEmail: &recorder{fail: slow}})
		d.Batch, d.Workers = 4, 3
		wg.Go(func() {
			for {
				got, err := d.RunOnce(t.Context())
				if err != nil {
					errs <- err
					return
				}
				if got == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("RunOnce: %v", err)
	}
	if len(count) != n {
		t.Errorf("%d recipients got mail, want %d", len(count), n)
	}
	for to, c := range count {
		if c != 1 {
			t.Errorf("%s got %d messages", to, c)
		}
	}
	for i := range n {
		ms, err := e.store.MessagesTo(t.Context(), fmt.Sprintf("user%02d@example.com", i), 1)
		if err != nil || len(ms) != 1 || ms[0].Sent == nil {
			t.Errorf("message %d not marked sent: %+v, %v", i, ms, err)
		}
	}
}

// A process that claimed a message and died: the message comes back when
// the lease runs out, and only then.
func TestLeaseExpiryReturnsClaimedMessage(t *testing.T) {
	e := newEnv(t, false)
	id := e.enqueueCode(t, ChannelEmail, "zoe@example.com", "493817")
	const lease = 2 * time.Minute
	es, err := e.store.ClaimMessages(t.Context(), e.clock.Now(), lease, 10)
	if err != nil || len(es) != 1 || es[0].ID != id {
		t.Fatalf("crashed claim = %+v, %v", es, err)
	}
	r := &recorder{}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: r})
	d.Lease = lease
	e.clock.Advance(lease - time.Microsecond)
	if n := runOnce(t, d); n != 0 || len(r.messages()) != 0 {
		t.Fatalf("claimed %d, sent %d while the dead process's lease ran", n, len(r.messages()))
	}
	e.clock.Advance(time.Microsecond)
	if n := runOnce(t, d); n != 1 || len(r.messages()) != 1 {
		t.Fatalf("after the lease: claimed %d, sent %d; want 1, 1", n, len(r.messages()))
	}
	if en := e.entry(t, id); en.Sent == nil || en.Attempts != 2 {
		t.Errorf("entry = %+v, want sent after 2 attempts", en)
	}
}

// A claim whose lease is too short to send safely hands its messages back
// unsent instead of racing the lease.
func TestShortLeaseIsNotRaced(t *testing.T) {
	e := newEnv(t, false)
	id := e.enqueueCode(t, ChannelEmail, "zoe@example.com", "493817")
	r := &recorder{}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: r})
	d.Lease, d.SendTimeout = time.Second, 2*time.Second
	if n := runOnce(t, d); n != 1 {
		t.Fatalf("claimed %d", n)
	}
	if len(r.messages()) != 0 {
		t.Fatal("sent with less lease left than the send timeout")
	}
	if en := e.entry(t, id); en.Sent != nil || en.Dead || en.ClaimedUntil != nil || !en.NextAttempt.Equal(e.clock.Now()) {
		t.Errorf("entry = %+v, want released and due now", en)
	}
}

func TestDevModeNeverSends(t *testing.T) {
	e := newEnv(t, true)
	woken := false
	e.outbox.Wake = func() { woken = true }
	never := &recorder{fail: func(string) error { t.Error("dev mode sent a message"); return nil }}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: never, ChannelSMS: never})
	id := e.enqueueCode(t, ChannelEmail, "zoe@example.com", "493817")
	e.enqueueCode(t, ChannelSMS, "+15550100", "771204")
	if woken {
		t.Error("dev mode woke the dispatcher")
	}
	for range 3 {
		e.clock.Advance(time.Hour)
		if n := runOnce(t, d); n != 0 {
			t.Fatalf("a dispatcher claimed %d dev messages", n)
		}
	}
	if _, body := rawRow(t, e.path, id); strings.Contains(body, "493817") {
		t.Error("dev mode stored the code in clear")
	}

	// dev.outbox.list shows the messages decrypted.
	svc := &dev.Service{Store: e.store, Open: e.outbox.OpenBody}
	cases := []struct{ to, code string }{{"zoe@example.com", "493817"}, {"+15550100", "771204"}}
	for _, c := range cases {
		var res dev.OutboxResult
		req := httptest.NewRequestWithContext(t.Context(), "POST", "/rpc", nil)
		if err := svc.OutboxList(req, &dev.OutboxParams{To: c.to}, &res); err != nil {
			t.Fatalf("OutboxList(%s): %v", c.to, err)
		}
		if len(res.Messages) != 1 || !strings.Contains(res.Messages[0].Body, "Your registration code is "+c.code) ||
			res.Messages[0].Subject != "Confirm your registration" {
			t.Errorf("OutboxList(%s) = %+v", c.to, res.Messages)
		}
	}
	// A row that does not open is listed without a body, not as an error.
	if _, err := e.store.EnqueueMessage(t.Context(), store.Message{Channel: ChannelEmail, To: "zoe@example.com", Body: "v1.garbage"}); err != nil {
		t.Fatal(err)
	}
	var res dev.OutboxResult
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/rpc", nil)
	if err := svc.OutboxList(req, &dev.OutboxParams{To: "zoe@example.com"}, &res); err != nil || len(res.Messages) != 2 ||
		res.Messages[0].Body != "" || !strings.Contains(res.Messages[1].Body, "493817") {
		t.Errorf("OutboxList with an unopenable row = %+v, %v", res.Messages, err)
	}
}

// Run delivers at once when woken, keeps going after a store error, and
// returns when its context ends.
func TestRunWakesAndStops(t *testing.T) {
	e := newEnv(t, false)
	got := make(chan sentMsg, 10)
	r := &recorder{fail: func(to string) error { return nil }}
	sender := SenderFunc(func(ctx context.Context, to, subject, body string) error {
		_ = r.Send(ctx, to, subject, body)
		got <- sentMsg{to, subject, body}
		return nil
	})
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: sender})
	d.Now = nil        // real time: Run is waited on for real
	d.Poll = time.Hour // only Wake can make it claim again soon
	e.outbox.Now = time.Now
	e.outbox.Wake = d.Wake

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := range 3 {
		to := fmt.Sprintf("w%d@example.com", i)
		if err := e.outbox.Enqueue(t.Context(), Message{Channel: ChannelEmail, To: to, Template: TemplateCodeRegistration, Vars: map[string]string{"code": "1"}}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m.to != to {
				t.Fatalf("sent to %s, want %s", m.to, to)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not sent after Wake", i)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(e.logs.String(), "outbox dispatcher stopped") {
		t.Error("no stop log")
	}
}

// SenderFunc adapts a function to Sender (tests only).
type SenderFunc func(ctx context.Context, to, subject, body string) error

func (f SenderFunc) Send(ctx context.Context, to, subject, body string) error {
	return f(ctx, to, subject, body)
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := d.Backoff(1000); got != DefaultMaxBackoff {
		t.Errorf("Backoff(1000) = %v", got)
	}
	d.BaseBackoff, d.MaxBackoff = time.Second, 3*time.Second
	if got := d.Backoff(3); got != 3*time.Second {
		t.Errorf("custom Backoff(3) = %v", got)
	}
}

func TestConstructorsValidate(t *testing.T) {
	ring := testRing(t)
	if _, err := NewOutbox(nil, ring, false); err == nil {
		t.Error("NewOutbox without a store")
	}
	st := openStore(t, filepath.Join(t.TempDir(), "c.db"))
	if _, err := NewOutbox(st, nil, false); err == nil {
		t.Error("NewOutbox without a ring")
	}
	if _, err := NewDispatcher(nil, ring, nil, zerolog.Nop()); err == nil {
		t.Error("NewDispatcher without a store")
	}
	if _, err := NewDispatcher(st, ring, map[string]Sender{"fax": &recorder{}}, zerolog.Nop()); err == nil {
		t.Error("NewDispatcher with an unknown channel")
	}
}

// TestDeliverDecoyNeverSent: a decoy is stored like a real message (the
// equal work of a recovery for an unknown address) but no dispatcher sends
// it and it wakes none.
func TestDeliverDecoyNeverSent(t *testing.T) {
	e := newEnv(t, false)
	woken := 0
	e.outbox.Wake = func() { woken++ }
	email := &recorder{}
	d := e.dispatcher(t, e.store, map[string]Sender{ChannelEmail: email})
	if err := e.outbox.DeliverDecoy(t.Context(), ChannelEmail, "nobody@example.com", "en", TemplateCodeRegistration, map[string]string{"code": "123456"}); err != nil {
		t.Fatal(err)
	}
	ms, err := e.store.MessagesTo(t.Context(), "nobody@example.com", 10)
	if err != nil || len(ms) != 1 || ms[0].Sent == nil {
		t.Fatalf("decoy row: %+v, %v", ms, err)
	}
	e.clock.Advance(time.Second)
	if n := runOnce(t, d); n != 0 || len(email.messages()) != 0 || woken != 0 {
		t.Fatalf("decoy dispatched: claimed %d, sent %v, woken %d", n, email.messages(), woken)
	}
}
