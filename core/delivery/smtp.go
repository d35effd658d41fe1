package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// SMTPConfig configures the email sender.
type SMTPConfig struct {
	// Host is the server's name; it is also the name its TLS certificate
	// must hold. Required.
	Host string
	// Port defaults to 587 (submission).
	Port int
	// From is the sender, "noreply@example.com" or "Example <noreply@example.com>".
	// Required.
	From string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN, which net/smtp only does over TLS (or to localhost).
	Username string
	Password string
	// Timeout bounds one whole delivery, connecting included. Default 30 s.
	Timeout time.Duration
	// RequireTLS refuses to send when the server does not offer STARTTLS.
	// Without it, STARTTLS is used whenever the server offers it.
	RequireTLS bool
	// TLSConfig, if set, is used for STARTTLS (its ServerName defaults to
	// Host); by default the system roots verify the server.
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO; default "localhost".
	HelloName string
}

// DefaultSMTPTimeout bounds one SMTP delivery when SMTPConfig.Timeout is 0.
const DefaultSMTPTimeout = 30 * time.Second

// SMTP sends email through one SMTP server, one connection per message.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	addr string
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns the sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " \r\n/") {
		return nil, errors.New("delivery: smtp: a host name is required")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("delivery: smtp: port %d out of range", cfg.Port)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("delivery: smtp: from address: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("delivery: smtp: a password without a username")
	}
	return &SMTP{cfg: cfg, from: from, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}, nil
}

// sendError is an SMTP failure whose text names the stage and hides the
// recipient's address, which servers like to quote.
type sendError struct {
	msg string
	err error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

func smtpFail(stage string, err error, rcpt string) error {
	msg := err.Error()
	if rcpt != "" {
		msg = strings.ReplaceAll(msg, rcpt, "<recipient>")
	}
	e := &sendError{msg: "smtp: " + stage + ": " + msg, err: err}
	var tp *textproto.Error
	if stage == "rcpt" && errors.As(err, &tp) && tp.Code >= 500 {
		// The server refused this recipient for good (unknown mailbox,
		// bad address): retrying cannot help.
		return Permanent(e)
	}
	return e
}

// Send delivers one message: STARTTLS when offered (or required), AUTH
// PLAIN when configured, then the message as UTF-8 quoted-printable text.
func (s *SMTP) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: recipient: %w", err))
	}
	msg, err := buildMessage(s.from, rcpt.Address, subject, body, time.Now())
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return smtpFail("connect", err, "")
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Cancelling ctx interrupts whatever read or write is under way.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return smtpFail("greeting", err, "")
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return smtpFail("ehlo", err, "")
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.cfg.TLSConfig != nil {
			tc = s.cfg.TLSConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = s.cfg.Host
		}
		if err := c.StartTLS(tc); err != nil {
			return smtpFail("starttls", err, "")
		}
	} else if s.cfg.RequireTLS {
		return smtpFail("starttls", errors.New("the server does not offer STARTTLS and TLS is required"), "")
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return smtpFail("auth", errors.New("the server does not offer AUTH"), "")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return smtpFail("auth", err, "")
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return smtpFail("mail from", err, "")
	}
	if err := c.Rcpt(rcpt.Address); err != nil {
		return smtpFail("rcpt", err, rcpt.Address)
	}
	w, err := c.Data()
	if err != nil {
		return smtpFail("data", err, rcpt.Address)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpFail("data", err, rcpt.Address)
	}
	if err := w.Close(); err != nil {
		return smtpFail("data", err, rcpt.Address)
	}
	// The server has taken the message; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// headerSafe turns line breaks and other control characters into spaces so
// a value cannot start a new header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// buildMessage returns an RFC 5322 message: plain UTF-8 text, quoted-
// printable, subject encoded per RFC 2047 when not ASCII.
func buildMessage(from *mail.Address, to, subject, body string, now time.Time) ([]byte, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("smtp: message id: %w", err)
	}
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from.String())
	hdr("To", (&mail.Address{Address: to}).String())
	hdr("Subject", mime.BEncoding.Encode("utf-8", headerSafe(subject)))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: machine-generated; auto-responders should not answer.
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}
