package delivery

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type hookRequest struct {
	method, contentType, auth string
	body                      []byte
}

func TestWebhookSend(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		auth    string
		wantErr string
	}{
		{"200 with auth", http.StatusOK, "Bearer sms-t0ken", ""},
		{"202 without auth", http.StatusAccepted, "", ""},
		{"204", http.StatusNoContent, "", ""},
		{"400", http.StatusBadRequest, "", "status 400"},
		{"401", http.StatusUnauthorized, "Bearer wrong", "status 401"},
		{"500", http.StatusInternalServerError, "", "status 500"},
		{"503", http.StatusServiceUnavailable, "", "status 503"},
		{"redirect not followed", http.StatusFound, "", "status 302"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				reqs []hookRequest
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				reqs = append(reqs, hookRequest{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b})
				mu.Unlock()
				if c.status == http.StatusFound {
					http.Redirect(w, r, "/elsewhere", c.status)
					return
				}
				w.WriteHeader(c.status)
				// An answer echoing the message must not reach the error.
				_, _ = w.Write(b)
			}))
			defer srv.Close()
			wh, err := NewWebhook(WebhookConfig{URL: srv.URL + "/sms?key=url-s3cret", Authorization: c.auth, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			const body = "Ваш код: 493817"
			err = wh.Send(t.Context(), "+15550100", "ignored subject", body)
			if c.wantErr == "" && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				for _, secret := range []string{"493817", "url-s3cret", "sms-t0ken", "+15550100"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q holds %q", err, secret)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (redirects are not followed)", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.contentType != "application/json" || r.auth != c.auth {
				t.Errorf("method %s, content type %q, Authorization %q", r.method, r.contentType, r.auth)
			}
			var got map[string]any
			dec := json.NewDecoder(bytes.NewReader(r.body))
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if len(got) != 2 || got["to"] != "+15550100" || got["body"] != body {
				t.Errorf("JSON = %v, want exactly to and body", got)
			}
		})
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	wh, err := NewWebhook(WebhookConfig{URL: srv.URL + "/?key=url-s3cret", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = wh.Send(t.Context(), "+15550100", "", "code 493817")
	if err == nil {
		t.Fatal("Send succeeded against a server that never answers")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v with a 100ms timeout", d)
	}
	if strings.Contains(err.Error(), "url-s3cret") || strings.Contains(err.Error(), "493817") {
		t.Errorf("error %q leaks the URL or the body", err)
	}
}

func TestWebhookUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	wh, err := NewWebhook(WebhookConfig{URL: url + "/?key=url-s3cret", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = wh.Send(t.Context(), "+15550100", "", "x")
	if err == nil || strings.Contains(err.Error(), "url-s3cret") {
		t.Fatalf("err = %v, want an error without the URL", err)
	}
}

func TestNewWebhookValidates(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "/relative", "https://", "https://user:pw-s3cret@%zz/"} {
		_, err := NewWebhook(WebhookConfig{URL: u})
		if err == nil {
			t.Errorf("NewWebhook(%q) accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error %q echoes the URL", err)
		}
	}
	wh, err := NewWebhook(WebhookConfig{URL: "https://sms.example.com/send"})
	if err != nil || wh.timeout != DefaultWebhookTimeout {
		t.Fatalf("NewWebhook: %v, timeout %v", err, wh.timeout)
	}
}
