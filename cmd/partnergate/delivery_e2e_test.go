package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"partnergate/client"
	"partnergate/methods/user"
)

// mailbox is an SMTP server started by the test: the gateway delivers to it
// for real.
type mailbox struct {
	mu   sync.Mutex
	msgs map[string][]byte // rcpt → data
}

func (b *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{b: b}, nil }

func (b *mailbox) get(to string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.msgs[to]
}

type mailSession struct {
	b    *mailbox
	rcpt []string
}

func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	d, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	for _, to := range s.rcpt {
		s.b.msgs[to] = d
	}
	return nil
}
func (s *mailSession) Reset()        { s.rcpt = nil }
func (s *mailSession) Logout() error { return nil }

var codeIn = regexp.MustCompile(`\b[0-9]{6}\b`)

// TestRealDelivery registers with an email and a phone outside dev mode: the
// email code arrives at an SMTP server and the SMS code at a webhook, both
// started by the test, and both codes verify.
func TestRealDelivery(t *testing.T) {
	box := &mailbox{msgs: map[string][]byte{}}
	srv := gosmtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	var smsMu sync.Mutex
	sms := map[string]string{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer hook-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m struct{ To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		smsMu.Lock()
		sms[m.To] = m.Body
		smsMu.Unlock()
	}))
	t.Cleanup(hook.Close)

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	g := mustRunMain(t, map[string]string{
		"PARTNERGATE_DEV":       "false",
		"PARTNERGATE_SMTP_HOST": host, "PARTNERGATE_SMTP_PORT": port, "PARTNERGATE_SMTP_FROM": "noreply@partnergate.test",
		"PARTNERGATE_SMS_WEBHOOK_URL": hook.URL, "PARTNERGATE_SMS_WEBHOOK_AUTH": "Bearer hook-secret",
	})
	c := client.New(g.URL)
	ctx := context.Background()
	id, err := c.UserAuthRegistration(ctx, user.RegistrationParams{Email: "mail@example.com", Phone: "+442071838752", Lang: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	var mail []byte
	var text string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		mail = box.get("mail@example.com")
		smsMu.Lock()
		text = sms["+442071838752"]
		smsMu.Unlock()
		if mail != nil && text != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if mail == nil || text == "" {
		t.Fatalf("not delivered: mail %v, sms %q", mail != nil, text)
	}
	body := string(mail)
	if i := strings.Index(body, "\r\n\r\n"); i >= 0 {
		body = body[i:]
	}
	ecode, pcode := codeIn.FindString(body), codeIn.FindString(text)
	if ecode == "" || pcode == "" {
		t.Fatalf("no code in the messages")
	}
	u, err := c.UserAuthVerify(ctx, user.VerifyParams{UserID: id, EmailCode: ecode, PhoneCode: pcode})
	if err != nil || u.Session == nil || !u.EmailVerified || !u.PhoneVerified {
		t.Fatalf("verify with delivered codes: %+v %v", u, err)
	}
}
