package files_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

// Smallest headers of each kind, padded to look like a file.
var (
	png  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 50)...)
	jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'}, bytes.Repeat([]byte{7}, 50)...)
	webp = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{7}, 50)...)
	pdf  = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{7}, 50)...)
	gif  = []byte("GIF89a\x01\x00\x01\x00")
	html = []byte("<html><script>alert(1)</script></html>")
	svg  = []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)
)

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"png", png, files.TypePNG},
		{"jpeg", jpeg, files.TypeJPEG},
		{"webp", webp, files.TypeWebP},
		{"pdf", pdf, files.TypePDF},
		{"gif", gif, ""},
		{"html", html, ""},
		{"svg", svg, ""},
		{"empty", nil, ""},
		{"png truncated", png[:7], ""},
		{"jpeg truncated", jpeg[:3], ""},
		{"riff not webp", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), ""},
		{"webp without a chunk", []byte("RIFF\x24\x00\x00\x00WEBP"), ""},
		{"pdf lowercase", []byte("%pdf-1.7"), ""},
		{"pdf after junk", append([]byte(" "), pdf...), ""},
	} {
		if got := files.Sniff(tc.b); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestDecode(t *testing.T) {
	const max = 100
	for _, tc := range []struct {
		name    string
		in      string
		purpose string
		code    fault.Code
		typ     string
	}{
		{"png upload", b64(png), store.FileUpload, 0, files.TypePNG},
		{"jpeg upload", b64(jpeg), store.FileUpload, 0, files.TypeJPEG},
		{"webp upload", b64(webp), store.FileUpload, 0, files.TypeWebP},
		{"pdf upload refused", b64(pdf), store.FileUpload, fault.FileTypeRefused, ""},
		{"pdf document", b64(pdf), store.FileDocument, 0, files.TypePDF},
		{"webp document refused", b64(webp), store.FileDocument, fault.FileTypeRefused, ""},
		{"gif refused", b64(gif), store.FileUpload, fault.FileTypeRefused, ""},
		{"html refused", b64(html), store.FileUpload, fault.FileTypeRefused, ""},
		{"unknown purpose", b64(png), "avatar", fault.FileTypeRefused, ""},
		{"empty", "", store.FileUpload, fault.FileInvalid, ""},
		{"not base64", "!!!!", store.FileUpload, fault.FileInvalid, ""},
		{"url alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(b64(append(png, 0xfb, 0xff))), store.FileUpload, fault.FileInvalid, ""},
		{"unpadded", strings.TrimRight(b64(png[:61]), "="), store.FileUpload, fault.FileInvalid, ""},
		{"line break", b64(png)[:20] + "\n" + b64(png)[20:], store.FileUpload, fault.FileInvalid, ""},
		{"data url", "data:image/png;base64," + b64(png), store.FileUpload, fault.FileInvalid, ""},
		{"non-zero padding bits", "iVBORw0KGgp=", store.FileUpload, fault.FileInvalid, ""},
		{"exactly max", b64(append(png[:8], bytes.Repeat([]byte{1}, max-8)...)), store.FileUpload, 0, files.TypePNG},
		{"max + 1", b64(append(png[:8], bytes.Repeat([]byte{1}, max-7)...)), store.FileUpload, fault.FileTooLarge, ""},
		{"far too long", strings.Repeat("A", 10*max), store.FileUpload, fault.FileTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, typ, err := files.Decode(tc.in, max, tc.purpose)
			if got := fault.CodeOf(err); got != tc.code || (err != nil) != (tc.code != 0) {
				t.Fatalf("code %d (%v), want %d", got, err, tc.code)
			}
			if typ != tc.typ || (tc.code == 0 && len(b) == 0) {
				t.Fatalf("type %q len %d, want %q", typ, len(b), tc.typ)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, b := range [][]byte{png, jpeg, webp, pdf, gif, html, nil} {
		f.Add(b64(b))
	}
	f.Add("====")
	f.Add("data:image/png;base64,AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []string{store.FileUpload, store.FileDocument} {
			b, typ, err := files.Decode(s, 1<<10, p)
			if err != nil {
				if _, ok := fault.As(err); !ok {
					t.Fatalf("uncoded error %v", err)
				}
				continue
			}
			if len(b) == 0 || len(b) > 1<<10 || typ == "" || files.Sniff(b) != typ {
				t.Fatalf("accepted %d bytes of type %q", len(b), typ)
			}
			if base64.StdEncoding.EncodeToString(b) != s {
				t.Fatalf("accepted a non-canonical encoding %q", s)
			}
			ok := false
			for _, a := range files.Allowed(p) {
				ok = ok || a == typ
			}
			if !ok {
				t.Fatalf("type %q accepted for %s", typ, p)
			}
		}
	})
}

type env struct {
	dir string
	st  *sqlstore.Store
	fs  *files.FS
	svc *files.Service
}

func newEnv(t *testing.T, p files.Policy) *env {
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
	dir := filepath.Join(t.TempDir(), "blobs")
	fs, err := files.OpenFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	for _, id := range []string{"alice", "bob"} {
		if err := st.CreateUser(ctx, store.NewUser{User: store.User{ID: id, State: store.StateActive}}); err != nil {
			t.Fatal(err)
		}
	}
	return &env{dir: dir, st: st, fs: fs, svc: &files.Service{Store: st, Blobs: fs, Policy: p, Log: zerolog.Nop()}}
}

func TestServiceCreateOpenDelete(t *testing.T) {
	e := newEnv(t, files.Policy{MaxSize: 1 << 10, MaxPerUser: 2})
	ctx := context.Background()
	f, err := e.svc.Create(ctx, "alice", png)
	if err != nil {
		t.Fatal(err)
	}
	if f.UserID != "alice" || f.ContentType != files.TypePNG || f.Size != int64(len(png)) || len(f.SHA256) != 64 || f.Purpose != store.FileUpload {
		t.Fatalf("record %+v", f)
	}
	rec, b, err := e.svc.Open(ctx, f.ID, "alice")
	if err != nil || !bytes.Equal(b, png) || rec.ID != f.ID {
		t.Fatalf("owner open: %v", err)
	}
	// Another user, and no user at all, see "not found", the same as an
	// unknown id.
	for _, viewer := range []string{"bob", ""} {
		if _, _, err := e.svc.Open(ctx, f.ID, viewer); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("viewer %q: %v", viewer, err)
		}
	}
	for _, id := range []string{"0190a3c2-7d1e-7b7a-9c1e-1234567890ab", "../etc/passwd", "", strings.Repeat("a", 36)} {
		if _, _, err := e.svc.Open(ctx, id, "alice"); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("id %q: %v", id, err)
		}
	}
	// The visibility hook widens who may read.
	e.svc.Visible = func(context.Context, store.File, string) (bool, error) { return true, nil }
	if _, _, err := e.svc.Open(ctx, f.ID, ""); err != nil {
		t.Fatalf("public hook: %v", err)
	}
	hookErr := errors.New("hook down")
	e.svc.Visible = func(context.Context, store.File, string) (bool, error) { return false, hookErr }
	if _, _, err := e.svc.Open(ctx, f.ID, "bob"); !errors.Is(err, hookErr) {
		t.Fatalf("hook error: %v", err)
	}
	e.svc.Visible = nil
	// Delete: another user's answers not found and removes nothing.
	if err := e.svc.Delete(ctx, "bob", f.ID); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("bob deletes alice's: %v", err)
	}
	if err := e.svc.Delete(ctx, "alice", f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fs.Get(ctx, files.BlobName(f.ID), 1<<10); !errors.Is(err, files.ErrNoBlob) {
		t.Fatalf("blob kept after delete: %v", err)
	}
}

func TestServiceLimits(t *testing.T) {
	e := newEnv(t, files.Policy{MaxSize: 100, MaxPerUser: 2})
	ctx := context.Background()
	big := append(append([]byte(nil), png[:8]...), bytes.Repeat([]byte{1}, 93)...)
	for _, tc := range []struct {
		name string
		b    []byte
		code fault.Code
	}{
		{"too large", big, fault.FileTooLarge},
		{"pdf is not an upload", pdf, fault.FileTypeRefused},
		{"html", html, fault.FileTypeRefused},
		{"empty", nil, fault.FileInvalid},
	} {
		if _, err := e.svc.Create(ctx, "alice", tc.b); fault.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.code)
		}
	}
	for range 2 {
		if _, err := e.svc.Create(ctx, "alice", jpeg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Create(ctx, "alice", webp); fault.CodeOf(err) != fault.FileLimitReached {
		t.Fatalf("third file under a cap of 2: %v", err)
	}
	// Nothing refused left a record or a blob.
	fs, err := e.st.UserFiles(ctx, "alice")
	if err != nil || len(fs) != 2 {
		t.Fatalf("records %d %v", len(fs), err)
	}
	if n := blobCount(t, e); n != 2 {
		t.Fatalf("%d blobs on disk, want 2 (a refused upload left its blob)", n)
	}
	// Bob has his own allowance.
	if _, err := e.svc.Create(ctx, "bob", png); err != nil {
		t.Fatal(err)
	}
	ids, err := e.svc.UserBlobs(ctx, "alice")
	if err != nil || len(ids) != 2 {
		t.Fatalf("UserBlobs %v %v", ids, err)
	}
}

// blobCount counts the blobs the FS holds (temporaries included).
func blobCount(t *testing.T, e *env) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestPolicyValidate(t *testing.T) {
	if err := files.DefaultPolicy.Validate(1 << 20); err != nil {
		t.Fatalf("default policy does not fit the default body: %v", err)
	}
	if err := (files.Policy{MaxSize: 1 << 20, MaxPerUser: 1}).Validate(1 << 20); err == nil {
		t.Fatal("a 1 MiB file cap fits a 1 MiB body?")
	}
	if err := (files.Policy{MaxSize: 0}).Validate(1 << 30); err == nil {
		t.Fatal("a zero size cap accepted")
	}
}
