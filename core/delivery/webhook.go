package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// WebhookConfig configures the SMS sender: an HTTP endpoint (an SMS
// gateway, or a small adapter in front of one) that takes
// POST {"to": "+15550100", "body": "..."} as JSON and answers 2xx once it
// has accepted the message.
type WebhookConfig struct {
	// URL is the http or https endpoint. Required.
	URL string
	// Authorization, if set, is sent verbatim as the Authorization header
	// ("Bearer …", "Basic …").
	Authorization string
	// Timeout bounds one request, response included. Default 10 s.
	Timeout time.Duration
	// Transport, if set, carries the requests (tests, proxies); default
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// DefaultWebhookTimeout bounds one webhook call when WebhookConfig.Timeout
// is 0.
const DefaultWebhookTimeout = 10 * time.Second

// Webhook sends SMS through an HTTP webhook.
type Webhook struct {
	url     string
	auth    string
	timeout time.Duration
	client  *http.Client
}

var _ Sender = (*Webhook)(nil)

// NewWebhook checks cfg and returns the sender.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may carry a token: never echo it.
		return nil, errors.New("delivery: webhook: the URL must be an absolute http or https URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	return &Webhook{
		url:     cfg.URL,
		auth:    cfg.Authorization,
		timeout: cfg.Timeout,
		client: &http.Client{
			Transport: cfg.Transport,
			Timeout:   cfg.Timeout,
			// A redirect is an error, not a reason to post the code
			// somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Send posts {"to", "body"}; the subject is not used. Any status but 2xx
// is an error.
func (w *Webhook) Send(ctx context.Context, to, subject, body string) error {
	payload, err := json.Marshal(struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}{to, body})
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return errors.New("webhook: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "partnergate")
	if w.auth != "" {
		req.Header.Set("Authorization", w.auth)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	// Read a little so the connection can be reused; the answer itself is
	// never logged (it may echo the body).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: status %d", resp.StatusCode)
	}
	return nil
}
