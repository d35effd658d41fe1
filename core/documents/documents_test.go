package documents_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"partnergate/core/documents"
	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/store"
	"partnergate/store/sqlstore"
)

var pdf = base64.StdEncoding.EncodeToString([]byte("%PDF-1.7\nhello"))

func newService(t *testing.T) *documents.Service {
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
	fs, err := files.OpenFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	if err := st.CreateUser(ctx, store.NewUser{User: store.User{ID: "u1", State: store.StateActive}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	return &documents.Service{Store: st, MaxPerUser: 3, Now: func() time.Time { return now },
		Files: &files.Service{Store: st, Blobs: fs, Policy: files.DefaultPolicy, Log: zerolog.Nop()}}
}

func TestCheck(t *testing.T) {
	s := newService(t)
	ok := documents.New{Type: "Passport", Number: "X1", Uploads: []string{pdf}}
	for _, tc := range []struct {
		name  string
		edit  func(n *documents.New)
		code  fault.Code
		field string
	}{
		{"ok", func(*documents.New) {}, 0, ""},
		{"all types", func(n *documents.New) { n.Type = "Utility Bill" }, 0, ""},
		{"type case", func(n *documents.New) { n.Type = "passport" }, fault.Invalid, "doc_type"},
		{"empty number", func(n *documents.New) { n.Number = "" }, fault.Invalid, "doc_number"},
		{"number newline", func(n *documents.New) { n.Number = "A\nB" }, fault.Invalid, "doc_number"},
		{"number 129", func(n *documents.New) { n.Number = string(make([]byte, 129)) }, fault.Invalid, "doc_number"},
		{"expire today", func(n *documents.New) { n.Expire = "2030-06-15" }, 0, ""},
		{"expire yesterday", func(n *documents.New) { n.Expire = "2030-06-14" }, fault.DocumentExpired, "doc_expire"},
		{"expire format", func(n *documents.New) { n.Expire = "15.06.2031" }, fault.Invalid, "doc_expire"},
		{"expire not padded", func(n *documents.New) { n.Expire = "2031-6-1" }, fault.Invalid, "doc_expire"},
		{"issue tomorrow", func(n *documents.New) { n.Issue = "2030-06-16" }, fault.Invalid, "doc_issue"},
		{"metadata flat", func(n *documents.New) { n.Metadata = json.RawMessage(`{"a":1,"b":"x","c":null}`) }, 0, ""},
		{"metadata null", func(n *documents.New) { n.Metadata = json.RawMessage(`null`) }, 0, ""},
		{"metadata array", func(n *documents.New) { n.Metadata = json.RawMessage(`[1]`) }, fault.Invalid, "metadata"},
		{"metadata nested", func(n *documents.New) { n.Metadata = json.RawMessage(`{"a":[1]}`) }, fault.Invalid, "metadata"},
		{"no uploads", func(n *documents.New) { n.Uploads = nil }, fault.Invalid, "upload"},
		{"more uploads than the cap", func(n *documents.New) { n.Uploads = []string{pdf, pdf, pdf, pdf} }, fault.Invalid, "upload"},
	} {
		n := ok
		tc.edit(&n)
		_, err := s.Check(n)
		fe, _ := fault.As(err)
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != 0 && (fe == nil || fe.Code != tc.code || fe.Fields[tc.field] == ""):
			t.Errorf("%s: %v, want %d on %s", tc.name, err, tc.code, tc.field)
		}
	}
}

func TestCreateAndAdminState(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	ds, err := s.Create(ctx, "u1", documents.New{Type: "Passport", Number: "X1", Uploads: []string{pdf, pdf}})
	if err != nil || len(ds) != 2 || ds[0].State != store.DocumentPending || ds[0].FileID == ds[1].FileID {
		t.Fatalf("%+v %v", ds, err)
	}
	if _, err := s.Create(ctx, "u1", documents.New{Type: "Passport", Number: "X1", Uploads: []string{pdf, pdf}}); fault.CodeOf(err) != fault.DocumentLimitWouldPass {
		t.Fatalf("2 + 2 under 3: %v", err)
	}
	if _, err := s.Create(ctx, "u1", documents.New{Type: "Passport", Number: "X1", Uploads: []string{pdf}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "u1", documents.New{Type: "Passport", Number: "X1", Uploads: []string{pdf}}); fault.CodeOf(err) != fault.DocumentLimitReached {
		t.Fatalf("at the cap: %v", err)
	}
	pend, err := s.Pending(ctx, 10, 0)
	if err != nil || len(pend) != 3 {
		t.Fatalf("pending %d %v", len(pend), err)
	}
	if _, err := s.SetState(ctx, pend[0].ID, "approved"); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("unknown state: %v", err)
	}
	if _, err := s.SetState(ctx, "absent", store.DocumentRejected); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("absent: %v", err)
	}
	if d, err := s.SetState(ctx, pend[0].ID, store.DocumentVerified); err != nil || d.State != store.DocumentVerified {
		t.Fatalf("%+v %v", d, err)
	}
	if pend, _ := s.Pending(ctx, 10, 0); len(pend) != 2 {
		t.Fatalf("pending after verify: %d", len(pend))
	}
}

func TestDataStorageTitles(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	s.Titles = []string{"Bank", "Tax"}
	if _, err := s.CreateDataStorage(ctx, "u1", "bank", `{}`); err != nil {
		t.Fatalf("allowlisted, other case: %v", err)
	}
	if _, err := s.CreateDataStorage(ctx, "u1", "Notes", `{}`); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("not allowlisted: %v", err)
	}
	if _, err := s.CreateDataStorage(ctx, "u1", "BANK", `{}`); fault.CodeOf(err) != fault.DataStorageTaken {
		t.Fatalf("taken: %v", err)
	}
	if _, err := s.CreateDataStorage(ctx, "u1", "Tax", string(make([]byte, 5121))); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("5121 bytes: %v", err)
	}
}
