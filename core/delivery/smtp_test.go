package delivery

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server got it.
type received struct {
	from     string
	rcpt     []string
	data     []byte
	tls      bool
	authUser string
}

// serverOpts is how the test server behaves: the one account it accepts
// (none when user is ""), and errors for RCPT and DATA.
type serverOpts struct {
	user, pass string
	rcptErr    error
	dataErr    error
}

// smtpBackend is a go-smtp backend that keeps what it receives and can
// refuse recipients or data.
type smtpBackend struct {
	serverOpts

	mu   sync.Mutex
	msgs []received
}

func (b *smtpBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &smtpSession{be: b, conn: c}, nil
}

func (b *smtpBackend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type smtpSession struct {
	be       *smtpBackend
	conn     *gosmtp.Conn
	authUser string
	cur      received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if s.be.user == "" || username != s.be.user || password != s.be.pass {
			return errors.New("invalid credentials")
		}
		s.authUser = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.be.user != "" && s.authUser == "" {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.cur.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.be.rcptErr != nil {
		return s.be.rcptErr
	}
	s.cur.rcpt = append(s.cur.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.be.dataErr != nil {
		return s.be.dataErr
	}
	s.cur.data = b
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.authUser = s.authUser
	s.be.mu.Lock()
	s.be.msgs = append(s.be.msgs, s.cur)
	s.be.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.cur = received{} }
func (s *smtpSession) Logout() error { return nil }

// testCert returns a self-signed certificate for 127.0.0.1 and localhost
// and a pool trusting it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "partnergate test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// startSMTP serves be on 127.0.0.1:0, with STARTTLS when cert is set, and
// returns the port.
func startSMTP(t *testing.T, be *smtpBackend, cert *tls.Certificate) int {
	t.Helper()
	srv := gosmtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	} else {
		// No TLS at all: AUTH is offered in clear only to test refusals.
		srv.AllowInsecureAuth = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// parsed is a received message decoded.
type parsedMail struct {
	from, to, subject, body string
	header                  mail.Header
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	if cte := m.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return parsedMail{
		from: m.Header.Get("From"), to: m.Header.Get("To"), subject: subject,
		body: strings.ReplaceAll(string(body), "\r\n", "\n"), header: m.Header,
	}
}

func TestSMTPSend(t *testing.T) {
	cert, pool := testCert(t)
	const (
		to      = "zoe@example.com"
		subject = "Подтверждение регистрации"
		// A line starting with a dot must survive SMTP's dot-stuffing; a
		// long line must survive quoted-printable's soft breaks.
		body = "Ваш код для завершения регистрации: 493817.\n.hidden line\n" +
			"a long line of text that goes on and on well past seventy-six characters, the quoted-printable limit\nend"
	)
	cases := []struct {
		name       string
		be         serverOpts
		tls        bool // server offers STARTTLS
		cfg        SMTPConfig
		wantErr    bool
		permanent  bool
		wantTLS    bool
		wantAuthed string
	}{
		{name: "plain, no STARTTLS offered", cfg: SMTPConfig{}},
		{name: "STARTTLS and PLAIN auth", tls: true, be: serverOpts{user: "mailer", pass: "s3cret"},
			cfg: SMTPConfig{Username: "mailer", Password: "s3cret", TLSConfig: &tls.Config{RootCAs: pool}}, wantTLS: true, wantAuthed: "mailer"},
		{name: "STARTTLS without auth", tls: true, cfg: SMTPConfig{TLSConfig: &tls.Config{RootCAs: pool}, RequireTLS: true}, wantTLS: true},
		{name: "TLS required, not offered", cfg: SMTPConfig{RequireTLS: true}, wantErr: true},
		{name: "untrusted certificate", tls: true, cfg: SMTPConfig{}, wantErr: true},
		{name: "wrong password", tls: true, be: serverOpts{user: "mailer", pass: "s3cret"},
			cfg: SMTPConfig{Username: "mailer", Password: "wrong", TLSConfig: &tls.Config{RootCAs: pool}}, wantErr: true},
		{name: "recipient refused", be: serverOpts{rcptErr: &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: mailbox unavailable"}},
			wantErr: true, permanent: true},
		{name: "recipient deferred", be: serverOpts{rcptErr: &gosmtp.SMTPError{Code: 450, EnhancedCode: gosmtp.EnhancedCode{4, 2, 0}, Message: "try later"}},
			wantErr: true},
		{name: "data refused", be: serverOpts{dataErr: &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "local error"}},
			wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := &smtpBackend{serverOpts: c.be}
			var cp *tls.Certificate
			if c.tls {
				cp = &cert
			}
			cfg := c.cfg
			cfg.Host, cfg.Port, cfg.From, cfg.Timeout = "127.0.0.1", startSMTP(t, be, cp), "Partnergate <noreply@example.com>", 10*time.Second
			s, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), to, subject, body)
			if c.wantErr {
				if err == nil {
					t.Fatal("Send succeeded")
				}
				if got := errors.Is(err, ErrPermanent); got != c.permanent {
					t.Errorf("permanent = %v, want %v (err %v)", got, c.permanent, err)
				}
				if strings.Contains(err.Error(), to) || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q names the recipient or the password", err)
				}
				if n := len(be.received()); n != 0 {
					t.Errorf("server received %d messages", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := be.received()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			r := msgs[0]
			if r.from != "noreply@example.com" || len(r.rcpt) != 1 || r.rcpt[0] != to {
				t.Errorf("envelope from %q to %v", r.from, r.rcpt)
			}
			if r.tls != c.wantTLS || r.authUser != c.wantAuthed {
				t.Errorf("tls = %v, auth = %q; want %v, %q", r.tls, r.authUser, c.wantTLS, c.wantAuthed)
			}
			p := parseMail(t, r.data)
			if p.to != "<"+to+">" || p.subject != subject || p.body != body+"\n" {
				t.Errorf("To %q, Subject %q, body %q", p.to, p.subject, p.body)
			}
			if a, err := mail.ParseAddress(p.from); err != nil || a.Address != "noreply@example.com" || a.Name != "Partnergate" {
				t.Errorf("From %q: %v", p.from, err)
			}
			for _, h := range []string{"Date", "Message-Id", "Mime-Version", "Content-Type", "Auto-Submitted"} {
				if p.header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if _, err := p.header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
		})
	}
}

// A header value cannot smuggle a header or break the envelope.
func TestSMTPHeaderInjection(t *testing.T) {
	be := &smtpBackend{}
	port := startSMTP(t, be, nil)
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "noreply@example.com", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), "zoe@example.com\r\nBcc: evil@example.com", "s", "b"); err == nil {
		t.Error("a recipient with CRLF was accepted")
	}
	if err := s.Send(t.Context(), "zoe@example.com", "hi\r\nBcc: evil@example.com", "b"); err != nil {
		t.Fatal(err)
	}
	msgs := be.received()
	if len(msgs) != 1 {
		t.Fatalf("received %d", len(msgs))
	}
	p := parseMail(t, msgs[0].data)
	if p.header.Get("Bcc") != "" || len(msgs[0].rcpt) != 1 {
		t.Errorf("subject injected a header: %v, rcpt %v", p.header, msgs[0].rcpt)
	}
}

// A server that accepts the connection and never answers costs the
// timeout, not forever.
func TestSMTPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns sync.WaitGroup
	done := make(chan struct{})
	conns.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		<-done
		c.Close()
	})
	defer conns.Wait()
	defer close(done)
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "noreply@example.com", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(t.Context(), "zoe@example.com", "s", "b")
	if err == nil {
		t.Fatal("Send succeeded against a silent server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", d)
	}
}

func TestNewSMTPValidates(t *testing.T) {
	cases := []struct {
		name string
		cfg  SMTPConfig
		ok   bool
	}{
		{"minimal", SMTPConfig{Host: "smtp.example.com", From: "noreply@example.com"}, true},
		{"no host", SMTPConfig{From: "noreply@example.com"}, false},
		{"bad from", SMTPConfig{Host: "smtp.example.com", From: "not an address"}, false},
		{"bad port", SMTPConfig{Host: "smtp.example.com", Port: 70000, From: "noreply@example.com"}, false},
		{"password without user", SMTPConfig{Host: "smtp.example.com", From: "noreply@example.com", Password: "x"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSMTP(c.cfg)
			if (err == nil) != c.ok {
				t.Fatalf("NewSMTP: %v, want ok=%v", err, c.ok)
			}
			if c.ok && (s.addr != "smtp.example.com:"+strconv.Itoa(587) || s.cfg.Timeout != DefaultSMTPTimeout) {
				t.Errorf("defaults: addr %s timeout %v", s.addr, s.cfg.Timeout)
			}
		})
	}
}
