package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/internal/testkit"
	"partnergate/methods/resource/resourcewire"
	"partnergate/store"
)

func docParams(uploads ...[]byte) map[string]any {
	up := make([]string, len(uploads))
	for i, u := range uploads {
		up[i] = b64(u)
	}
	return map[string]any{"doc_type": "Passport", "doc_number": "AB 1234-5", "doc_expire": "2099-01-31",
		"doc_issue": "2020-05-01", "metadata": map[string]any{"country": "NL", "pages": 2}, "upload": up}
}

func with(p map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for a, b := range p {
		out[a] = b
	}
	out[k] = v
	return out
}

func TestSeed002Documents(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := map[string]string{"PARTNERGATE_FILES_MAX_SIZE": "1000", "PARTNERGATE_DOCUMENTS_MAX_PER_USER": "4"}
			for k, v := range b.Env {
				env[k] = v
			}
			g := mustRunMain(t, looseRates, env)
			_, alice := newVerifiedUser(t, g, "docs-alice@example.com", strongPassword)
			_, bob := newVerifiedUser(t, g, "docs-bob@example.com", strongPassword)
			as := g.Client().WithToken(alice)
			list := func() []resourcewire.Document {
				t.Helper()
				e := g.CallAs(t, as, "resource.documents.list", nil)
				var ds []resourcewire.Document
				if err := json.Unmarshal(e.Data, &ds); e.Error.Status || err != nil {
					t.Fatalf("list: %+v %v", e.Error, err)
				}
				return ds
			}

			if ds := list(); ds == nil || len(ds) != 0 {
				t.Fatalf("new user's documents %#v, want []", ds)
			}
			e := g.CallAs(t, as, "resource.documents.create", docParams(jpegFile, pdfFile))
			var created []resourcewire.Document
			if err := json.Unmarshal(e.Data, &created); e.Error.Status || err != nil || len(created) != 2 {
				t.Fatalf("create: %+v %s", e.Error, e.Data)
			}
			ds := list()
			if len(ds) != 2 {
				t.Fatalf("%d documents", len(ds))
			}
			for _, d := range ds {
				if d.State != "pending" || d.DocType != "Passport" || d.DocNumber != "AB 1234-5" || d.DocExpire == nil || *d.DocExpire != "2099-01-31" ||
					d.DocIssue == nil || *d.DocIssue != "2020-05-01" || string(d.Metadata) != `{"country":"NL","pages":2}` || !strings.HasPrefix(d.Upload.URL, "/files/") {
					t.Fatalf("document %+v (metadata %s)", d, d.Metadata)
				}
			}

			t.Run("the owner reads the files, nobody else", func(t *testing.T) {
				resp, body := getFile(t, g, ds[1].Upload.URL, alice)
				if resp.StatusCode != http.StatusOK || string(body) != string(pdfFile) || resp.Header.Get("Content-Type") != "application/pdf" ||
					!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Fatalf("%d %v", resp.StatusCode, resp.Header)
				}
				if resp, _ := getFile(t, g, ds[0].Upload.URL, bob); resp.StatusCode != http.StatusNotFound {
					t.Fatalf("bob reads alice's document: %d", resp.StatusCode)
				}
				bl := g.CallAs(t, g.Client().WithToken(bob), "resource.documents.list", nil)
				if string(bl.Data) != "[]" {
					t.Fatalf("bob lists %s", bl.Data)
				}
			})

			t.Run("bad input changes nothing", func(t *testing.T) {
				big := append(append([]byte(nil), pdfFile[:9]...), make([]byte, 1000)...)
				for _, tc := range []struct {
					name   string
					params map[string]any
					code   fault.Code
					msg    string
				}{
					{"unknown doc_type", with(docParams(pngFile), "doc_type", "Library card"), fault.Invalid, "doc_type.inclusion"},
					{"doc_number charset", with(docParams(pngFile), "doc_number", "AB<script>"), fault.Invalid, "doc_number.invalid"},
					{"expired", with(docParams(pngFile), "doc_expire", "2001-01-01"), fault.DocumentExpired, "resource.documents.already_expired"},
					{"not a date", with(docParams(pngFile), "doc_expire", "2031-02-30"), fault.Invalid, "resource.documents.expire_not_a_date"},
					{"issued in the future", with(docParams(pngFile), "doc_issue", "2098-01-01"), fault.Invalid, "doc_issue.invalid"},
					{"nested metadata", with(docParams(pngFile), "metadata", map[string]any{"a": map[string]int{"b": 1}}), fault.Invalid, "metadata.invalid"},
					{"no upload", with(docParams(), "upload", []string{}), fault.Invalid, "upload.blank"},
					{"wrong magic bytes", docParams(pngFile, []byte("GIF89a\x01\x00\x01\x00")), fault.FileTypeRefused, "File type not allowed."},
					{"webp is not a document", docParams(webpFile), fault.FileTypeRefused, "File type not allowed."},
					{"too large", docParams(big), fault.FileTooLarge, "File too large."},
					{"not base64", with(docParams(), "upload", []string{"%%%"}), fault.FileInvalid, "File content invalid."},
				} {
					e := g.CallAs(t, as, "resource.documents.create", tc.params)
					if e.Error.Code != int(tc.code) || e.Error.Message != tc.msg || string(e.Data) != "null" {
						t.Errorf("%s: %+v, want %d %q", tc.name, e.Error, tc.code, tc.msg)
					}
				}
				if n := len(list()); n != 2 {
					t.Fatalf("%d documents after refused uploads, want 2", n)
				}
				fs, err := g.Store().UserFiles(context.Background(), mustUserID(t, g, "docs-alice@example.com"))
				if err != nil || len(fs) != 2 {
					t.Fatalf("%d files after refused uploads, want 2 (%v)", len(fs), err)
				}
			})

			t.Run("limit", func(t *testing.T) {
				e := g.CallAs(t, as, "resource.documents.create", docParams(pngFile, pngFile, pngFile))
				if e.Error.Code != int(fault.DocumentLimitWouldPass) || e.Error.Message != "resource.documents.limit_will_be_reached" {
					t.Fatalf("2 + 3 under 4: %+v", e.Error)
				}
				es := g.Batch(t, alice,
					testkit.Req("resource.documents.create", 1, docParams(pngFile, jpegFile)),
					testkit.Req("resource.documents.create", 2, docParams(pngFile)),
					testkit.Req("resource.documents.list", 3, nil),
				)
				if es[0].Error.Status || es[1].Error.Code != int(fault.DocumentLimitReached) || es[1].Error.Message != "resource.documents.limit_reached" {
					t.Fatalf("batch: %+v / %+v", es[0].Error, es[1].Error)
				}
				var ds []resourcewire.Document
				if err := json.Unmarshal(es[2].Data, &ds); err != nil || len(ds) != 4 {
					t.Fatalf("list in batch: %s", es[2].Data)
				}
			})
			t.Run("activity trail", func(t *testing.T) {
				as, err := g.Store().Activities(context.Background(), store.ActivityFilter{UserID: mustUserID(t, g, "docs-alice@example.com"), Topic: "document", Limit: 100})
				// Two uploads succeeded (the first, and the batch's first call);
				// no refused one left an entry.
				if err != nil || len(as) != 2 {
					t.Fatalf("%d document entries (%v), want 2", len(as), err)
				}
			})
			t.Run("needs a session", func(t *testing.T) {
				if e := g.Call(t, "resource.documents.list", nil); e.Error.Code != int(fault.Unauthenticated) {
					t.Fatalf("%+v", e.Error)
				}
			})
		})
	}
}

func TestSeed002DataStorage(t *testing.T) {
	for _, b := range testkit.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			g := mustRunMain(t, looseRates, b.Env)
			_, alice := newVerifiedUser(t, g, "ds-alice@example.com", strongPassword)
			_, bob := newVerifiedUser(t, g, "ds-bob@example.com", strongPassword)
			as := g.Client().WithToken(alice)
			e := g.CallAs(t, as, "resource.data_storage.create", map[string]string{"title": "Bank details", "data": `{"iban":"NL91ABNA0417164300"}`})
			var d resourcewire.DataStorage
			if err := json.Unmarshal(e.Data, &d); e.Error.Status || err != nil || d.Title != "Bank details" || d.Data != `{"iban":"NL91ABNA0417164300"}` || d.CreatedAt.IsZero() {
				t.Fatalf("create: %+v %s", e.Error, e.Data)
			}
			for _, tc := range []struct {
				name, title, data string
				code              fault.Code
				msg               string
			}{
				{"same title, other case", "BANK DETAILS", `{}`, fault.DataStorageTaken, "title.taken"},
				{"reserved title", "Profile", `{}`, fault.Invalid, "title.inclusion"},
				{"title charset", "a/b", `{}`, fault.Invalid, "title.inclusion"},
				{"not JSON", "notes", `{"a":`, fault.Invalid, "data.invalid"},
				{"blank data", "notes", `   `, fault.Invalid, "data.invalid"},
			} {
				e := g.CallAs(t, as, "resource.data_storage.create", map[string]string{"title": tc.title, "data": tc.data})
				if e.Error.Code != int(tc.code) || e.Error.Message != tc.msg {
					t.Errorf("%s: %+v, want %d %q", tc.name, e.Error, tc.code, tc.msg)
				}
			}
			// Over 5120 bytes is refused by the params' declared limit.
			r := apiCaller{base: g.URL}.withToken(alice).call(context.Background(), "resource.data_storage.create",
				map[string]string{"title": "big", "data": `"` + strings.Repeat("x", 5200) + `"`})
			if r.Proto == nil || r.Proto.Code != -32602 {
				t.Fatalf("5202 bytes of data: %v", r)
			}
			// Another user may use the same title; a batch answers in order.
			es := g.Batch(t, bob,
				testkit.Req("resource.data_storage.create", 1, map[string]string{"title": "Bank details", "data": `[1,2]`}),
				testkit.Req("resource.data_storage.create", 2, map[string]string{"title": "bank DETAILS", "data": `"x"`}),
			)
			if es[0].Error.Status || es[1].Error.Code != int(fault.DataStorageTaken) {
				t.Fatalf("batch: %+v / %+v", es[0].Error, es[1].Error)
			}
			ss, err := g.Store().UserDataStorages(context.Background(), mustUserID(t, g, "ds-alice@example.com"))
			if err != nil || len(ss) != 1 {
				t.Fatalf("alice has %d storages (%v), want 1", len(ss), err)
			}
		})
	}
}

func mustUserID(t *testing.T, g *testkit.Gateway, email string) string {
	t.Helper()
	u, err := g.Store().UserByIdentifier(context.Background(), "email", email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
