package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/files/fileswire"
)

// Minimal files of each kind the sniffer knows, padded.
var (
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 64)...)
	jpegFile = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'}, bytes.Repeat([]byte{2}, 64)...)
	webpFile = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{3}, 64)...)
	pdfFile  = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{4}, 64)...)
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// getFile fetches GET /files/{id}-style path with an optional bearer.
func getFile(t *testing.T, g *testkit.Gateway, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func createFile(t *testing.T, g *testkit.Gateway, token string, data []byte) fileswire.File {
	t.Helper()
	e := g.CallAs(t, g.Client().WithToken(token), "files.create", map[string]string{"data": b64(data)})
	if e.Error.Status {
		t.Fatalf("files.create: %+v", e.Error)
	}
	var f fileswire.File
	if err := json.Unmarshal(e.Data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilesCreate(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_FILES_MAX_SIZE": "1000", "PARTNERGATE_FILES_MAX_PER_USER": "4"}
			for k, v := range b.Env {
				env[k] = v
			}
			g := mustRunMain(t, looseRates, env)
			aliceID, alice := newVerifiedUser(t, g, "files-alice@example.com", strongPassword)
			_, bob := newVerifiedUser(t, g, "files-bob@example.com", strongPassword)
			testFilesFlow(t, g, aliceID, alice, bob)
		})
	}
}

// testFilesFlow is the files.create and GET /files/{id} story for any
// blob backend; alice starts with no files and may hold four.
func testFilesFlow(t *testing.T, g *testkit.Gateway, aliceID, alice, bob string) {
	f := createFile(t, g, alice, pngFile)
	if f.ID == "" || f.FileType != "png" || f.FileSize != int64(len(pngFile)) || f.ContentType != "image/png" ||
		f.URL != "/files/"+f.ID || len(f.SHA256) != 64 || f.CreatedAt.IsZero() {
		t.Fatalf("file %+v", f)
	}

	t.Run("owner reads the bytes", func(t *testing.T) {
		resp, body := getFile(t, g, f.URL, alice)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pngFile) {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		for k, want := range map[string]string{
			"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
			t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
		}
	})
	t.Run("nobody else does", func(t *testing.T) {
		for _, tc := range []struct {
			name, path, token string
			status            int
		}{
			{"other user", f.URL, bob, http.StatusNotFound},
			{"no session", f.URL, "", http.StatusNotFound},
			{"unknown id", "/files/0190a3c2-7d1e-7b7a-9c1e-1234567890ab", alice, http.StatusNotFound},
			{"not an id", "/files/..%2f..%2fsecret.key", alice, http.StatusNotFound},
			{"bad token", f.URL, "pgs_not-a-session", http.StatusUnauthorized},
		} {
			resp, body := getFile(t, g, tc.path, tc.token)
			if resp.StatusCode != tc.status || bytes.Contains(body, pngFile[:8]) {
				t.Errorf("%s: %d %q, want %d", tc.name, resp.StatusCode, body, tc.status)
			}
		}
	})
	t.Run("jpeg and webp; pdf refused", func(t *testing.T) {
		if j := createFile(t, g, alice, jpegFile); j.FileType != "jpeg" {
			t.Fatalf("%+v", j)
		}
		e := g.CallAs(t, g.Client().WithToken(alice), "files.create", map[string]string{"data": b64(pdfFile)})
		if e.Error.Code != int(fault.FileTypeRefused) || string(e.Data) != "null" {
			t.Fatalf("pdf upload: %+v", e.Error)
		}
	})
	t.Run("batch", func(t *testing.T) {
		big := append(append([]byte(nil), pngFile[:8]...), bytes.Repeat([]byte{9}, 993)...)
		es := g.Batch(t, alice,
			testkit.Req("files.create", 1, map[string]string{"data": b64(webpFile)}),
			testkit.Req("files.create", 2, map[string]string{"data": "not base64!"}),
			testkit.Req("files.create", 3, map[string]string{"data": b64([]byte("<html><script>x</script>"))}),
			testkit.Req("files.create", 4, map[string]string{"data": b64(big)}),
			testkit.Req("files.create", 5, []string{b64(jpegFile)}),
			testkit.Req("files.create", 6, map[string]string{"data": b64(jpegFile)}),
		)
		want := []int{0, int(fault.FileInvalid), int(fault.FileTypeRefused), int(fault.FileTooLarge), 0, int(fault.FileLimitReached)}
		for i, e := range es {
			if e.Error.Code != want[i] {
				t.Errorf("call %d: code %d (%s), want %d", i+1, e.Error.Code, e.Error.Message, want[i])
			}
		}
		// Four stored (png, jpeg, webp, jpeg): the refused ones left nothing.
		fs, err := g.Store().UserFiles(context.Background(), aliceID)
		if err != nil || len(fs) != 4 {
			t.Fatalf("%d files stored, want 4 (%v)", len(fs), err)
		}
	})
	t.Run("needs a session", func(t *testing.T) {
		e := g.Call(t, "files.create", map[string]string{"data": b64(pngFile)})
		if e.Error.Code != int(fault.Unauthenticated) {
			t.Fatalf("%+v", e.Error)
		}
	})
}

func TestFilesOnS3(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("pg-e2e"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	g := mustRunMain(t, looseRates, map[string]string{
		"PARTNERGATE_FILES": "s3", "PARTNERGATE_S3_ENDPOINT": srv.URL, "PARTNERGATE_S3_BUCKET": "pg-e2e",
		"PARTNERGATE_S3_ACCESS_KEY": "k", "PARTNERGATE_S3_SECRET_KEY": "s", "PARTNERGATE_S3_PATH_STYLE": "true",
		"PARTNERGATE_S3_PREFIX": "pg/", "PARTNERGATE_FILES_MAX_SIZE": "1000", "PARTNERGATE_FILES_MAX_PER_USER": "4",
	})
	aliceID, alice := newVerifiedUser(t, g, "s3-alice@example.com", strongPassword)
	_, bob := newVerifiedUser(t, g, "s3-bob@example.com", strongPassword)
	testFilesFlow(t, g, aliceID, alice, bob)
	list, err := mem.ListBucket("pg-e2e", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil || len(list.Contents) != 4 {
		t.Fatalf("bucket holds %v objects (%v), want 4", list, err)
	}
	for _, o := range list.Contents {
		if !strings.HasPrefix(o.Key, "pg/f/") {
			t.Errorf("object %q outside the prefix", o.Key)
		}
	}
}

// TestFilesCapParallel: 20 parallel uploads of one user under a cap of 4
// store exactly 4, and every other answers 2253 with its blob removed.
func TestFilesCapParallel(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_FILES_MAX_PER_USER": "4"}
			for k, v := range b.Env {
				env[k] = v
			}
			g := mustRunMain(t, looseRates, env)
			id, tok := newVerifiedUser(t, g, "files-race@example.com", strongPassword)
			c := apiCaller{base: g.URL}.withToken(tok)
			var wg sync.WaitGroup
			codes := make(chan int, 20)
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes <- c.call(context.Background(), "files.create", map[string]string{"data": b64(pngFile)}).code()
				}()
			}
			wg.Wait()
			close(codes)
			n := map[int]int{}
			for code := range codes {
				n[code]++
			}
			fs, err := g.Store().UserFiles(context.Background(), id)
			if err != nil || n[0] != 4 || n[int(fault.FileLimitReached)] != 16 || len(fs) != 4 {
				t.Fatalf("outcomes %v, %d stored (%v)", n, len(fs), err)
			}
			ents, err := os.ReadDir(filepath.Join(g.Config.DataDir, "files", "f"))
			if err != nil || len(ents) != 4 {
				t.Fatalf("%d blobs on disk (%v), want 4 (a refused upload left its blob)", len(ents), err)
			}
		})
	}
}
