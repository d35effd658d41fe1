package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"partnergate/client"
	"partnergate/core/partners"
	"partnergate/methods/auth/authwire"
)

// leaf is what the client may link of the project: itself and the dialects'
// wire packages, which import only the standard library.
var leaf = regexp.MustCompile(`^partnergate/(client|methods/[a-z0-9]+/[a-z0-9]+wire)$`)

// TestDependsOnStdlibOnly keeps the SDK from linking the server: a client
// that imported methods/auth would pull in the store, Redis, argon2,
// Prometheus and the SQL drivers with it. The wire packages are held to the
// same rule, since an SDK user imports them beside the client.
func TestDependsOnStdlibOnly(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	out, err := exec.Command("go", "list", "partnergate/methods/...wire").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	roots := append([]string{"partnergate/client"}, strings.Fields(string(out))...)
	if len(roots) < 5 {
		t.Fatalf("found %d wire packages, want one per dialect: %q", len(roots)-1, roots[1:])
	}
	for _, root := range roots {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", root).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", root, err, out)
		}
		for line := range strings.Lines(string(out)) {
			path, std, ok := strings.Cut(strings.TrimSpace(line), " ")
			if !ok {
				t.Fatalf("go list: unexpected line %q", line)
			}
			if std == "true" || leaf.MatchString(path) {
				continue
			}
			t.Errorf("%s depends on %s: only the standard library and partnergate/methods/*/*wire are allowed", root, path)
		}
	}
}

// TestSignMatchesServer: the client's copy of the signature must be the one
// the server verifies.
func TestSignMatchesServer(t *testing.T) {
	var hdr http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr = r.Header.Clone()
		body, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","result":{"data":null,"error":{"status":false,"code":0,"message":""}},"id":1}`)
	}))
	defer srv.Close()
	c := client.New(srv.URL).WithPartner("pk_test", "pks_secret")
	if err := c.Call(context.Background(), "auth.registerUser", authwire.RegisterUserParams{Email: "a@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	want := partners.Sign("pks_secret", hdr.Get("X-Api-Timestamp"), hdr.Get("X-Api-Nonce"), "pk_test", "/rpc", body)
	if got := hdr.Get("X-Api-Signature"); got != want || hdr.Get("X-Api-Key") != "pk_test" {
		t.Errorf("signature %q, server computes %q (key %q)", got, want, hdr.Get("X-Api-Key"))
	}
	if n := hdr.Get("X-Api-Nonce"); len(n) < 16 || len(n) > 64 {
		t.Errorf("nonce %q", n)
	}
}

func TestCall(t *testing.T) {
	var reply string
	var got struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = io.WriteString(w, reply)
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	ctx := context.Background()

	t.Run("Data", func(t *testing.T) {
		reply = `{"jsonrpc":"2.0","result":{"data":{"userId":"u1"},"error":{"status":false,"code":0,"message":""}},"id":1}`
		r, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", authwire.RegisterUserParams{Email: "a@example.com"})
		if err != nil || r.UserID != "u1" {
			t.Fatalf("%+v %v", r, err)
		}
		if got.Method != "auth.registerUser" || !strings.Contains(string(got.Params), `"email":"a@example.com"`) {
			t.Errorf("sent %+v", got)
		}
	})
	t.Run("EnvelopeError", func(t *testing.T) {
		reply = `{"jsonrpc":"2.0","result":{"data":null,"error":{"status":true,"code":1003,"message":"Already exists.","fields":{"email":"taken"},"retryAfter":7}},"id":1}`
		_, err := client.Call[authwire.RegisterUserResult](ctx, c, "auth.registerUser", nil)
		var e *client.Error
		if !errors.As(err, &e) || e.Code != 1003 || e.Fields["email"] != "taken" || e.RetryAfter != 7 || !client.IsCode(err, 1003) {
			t.Fatalf("%#v", err)
		}
	})
	t.Run("ProtocolError", func(t *testing.T) {
		reply = `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"field":"x"}},"id":1}`
		_, err := client.Call[json.RawMessage](ctx, c, "auth.registerUser", map[string]int{"x": 1})
		var pe *client.ProtocolError
		if !errors.As(err, &pe) || pe.Code != -32602 || client.IsCode(err, -32602) {
			t.Fatalf("%#v", err)
		}
	})
	t.Run("NotJSONRPC", func(t *testing.T) {
		reply = `<html>`
		if _, err := client.Call[bool](ctx, c, "system.ping", nil); err == nil {
			t.Fatal("no error for a reply that is not JSON-RPC")
		}
	})
}
