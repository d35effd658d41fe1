package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// runDocuments runs the conformance tests of store.Documents,
// store.DataStorages and store.APIKeys.
func runDocuments(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Documents/CreateListState", testDocumentsCreateListState},
		{"Documents/CapAllOrNothing", testDocumentsCap},
		{"Documents/CapParallel", testDocumentsCapParallel},
		{"Documents/FileKept", testDocumentsFileKept},
		{"DataStorages", testDataStorages},
		{"APIKeys/CRUD", testAPIKeys},
		{"APIKeys/CapParallel", testAPIKeysCapParallel},
		{"DeleteUserRemovesKYC", testDeleteUserRemovesKYC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func aDoc(id, user string) (store.Document, store.File) {
	f := aFile("file-"+id, user, store.FileDocument)
	return store.Document{ID: id, UserID: user, FileID: f.ID, Type: "Passport", Number: "AB 123-4",
		Expire: "2031-02-03", Issue: "2021-02-03", Metadata: `{"country":"NL"}`, State: store.DocumentPending,
		Created: base, Updated: base}, f
}

func docs(user string, ids ...string) ([]store.Document, []store.File) {
	var ds []store.Document
	var fs []store.File
	for _, id := range ids {
		d, f := aDoc(id, user)
		ds, fs = append(ds, d), append(fs, f)
	}
	return ds, fs
}

func testDocumentsCreateListState(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1", "u2")
	ds, fs := docs("u1", "d1", "d2")
	ds[1].Created, ds[1].Updated = base.Add(time.Second), base.Add(time.Second)
	if err := s.CreateDocuments(ctx, ds, fs, 10); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserDocuments(ctx, "u1")
	if err != nil || !reflect.DeepEqual(got, ds) {
		t.Fatalf("UserDocuments = %+v, %v; want %+v", got, err, ds)
	}
	if f, err := s.File(ctx, "file-d1"); err != nil || f.Purpose != store.FileDocument {
		t.Fatalf("document file %+v %v", f, err)
	}
	if got, err := s.UserDocuments(ctx, "u2"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("u2 documents %#v %v", got, err)
	}
	ds2, fs2 := docs("u2", "d3")
	ds2[0].Created = base.Add(2 * time.Second)
	if err := s.CreateDocuments(ctx, ds2, fs2, 10); err != nil {
		t.Fatal(err)
	}
	pend, err := s.PendingDocuments(ctx, 10, 0)
	if err != nil || len(pend) != 3 || pend[0].ID != "d1" || pend[2].ID != "d3" {
		t.Fatalf("pending %+v %v", pend, err)
	}
	if page, err := s.PendingDocuments(ctx, 1, 1); err != nil || len(page) != 1 || page[0].ID != "d2" {
		t.Fatalf("page %+v %v", page, err)
	}
	d, err := s.SetDocumentState(ctx, "d1", store.DocumentVerified)
	if err != nil || d.State != store.DocumentVerified || d.Updated.Before(d.Created) {
		t.Fatalf("set state %+v %v", d, err)
	}
	if d, err := s.Document(ctx, "d1"); err != nil || d.State != store.DocumentVerified {
		t.Fatalf("document %+v %v", d, err)
	}
	if pend, _ := s.PendingDocuments(ctx, 10, 0); len(pend) != 2 {
		t.Fatalf("verified still pending: %+v", pend)
	}
	if _, err := s.SetDocumentState(ctx, "d1", "approved"); err == nil {
		t.Fatal("unknown state stored")
	}
	if _, err := s.SetDocumentState(ctx, "absent", store.DocumentRejected); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if _, err := s.Document(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	ds3, fs3 := docs("nobody", "d9")
	if err := s.CreateDocuments(ctx, ds3, fs3, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func testDocumentsCap(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	ds, fs := docs("u1", "a", "b")
	if err := s.CreateDocuments(ctx, ds, fs, 3); err != nil {
		t.Fatal(err)
	}
	ds, fs = docs("u1", "c", "d")
	if err := s.CreateDocuments(ctx, ds, fs, 3); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("2 + 2 under a cap of 3: %v", err)
	}
	// Nothing of the refused batch was written, files included.
	if got, _ := s.UserDocuments(ctx, "u1"); len(got) != 2 {
		t.Fatalf("%d documents", len(got))
	}
	if _, err := s.File(ctx, "file-c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused batch left a file: %v", err)
	}
	// A failure inside the batch (a used id) rolls every row back.
	ds, fs = docs("u1", "e", "a")
	fs[1].ID, ds[1].FileID = "file-a2", "file-a2"
	if err := s.CreateDocuments(ctx, ds, fs, 10); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("used id: %v", err)
	}
	if _, err := s.Document(ctx, "e"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half a batch written: %v", err)
	}
}

func testDocumentsCapParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds, fs := docs("u1", fmt.Sprint("p", i))
			errs <- s.CreateDocuments(ctx, ds, fs, 4)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, store.ErrLimitReached) {
			t.Error(err)
		}
	}
	if got, _ := s.UserDocuments(ctx, "u1"); len(got) != 4 {
		t.Fatalf("%d documents under a cap of 4", len(got))
	}
}

func testDocumentsFileKept(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	ds, fs := docs("u1", "d1")
	if err := s.CreateDocuments(ctx, ds, fs, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFile(ctx, "u1", "file-d1"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a document's file was deleted: %v", err)
	}
}

func testDataStorages(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1", "u2")
	d := store.DataStorage{ID: "s1", UserID: "u1", Title: "Bank", TitleNorm: "bank", Data: `{"iban":"NL00"}`, Created: base, Updated: base}
	if err := s.CreateDataStorage(ctx, d); err != nil {
		t.Fatal(err)
	}
	dup := d
	dup.ID, dup.Title = "s2", "BANK"
	if err := s.CreateDataStorage(ctx, dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("same title, other case: %v", err)
	}
	other := dup
	other.UserID = "u2"
	if err := s.CreateDataStorage(ctx, other); err != nil {
		t.Fatalf("another user's title: %v", err)
	}
	got, err := s.UserDataStorages(ctx, "u1")
	if err != nil || !reflect.DeepEqual(got, []store.DataStorage{d}) {
		t.Fatalf("%+v %v", got, err)
	}
	nobody := d
	nobody.ID, nobody.UserID = "s3", "nobody"
	if err := s.CreateDataStorage(ctx, nobody); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	big := d
	big.ID, big.TitleNorm, big.Data = "s4", "big", string(make([]byte, 5121))
	if err := s.CreateDataStorage(ctx, big); err == nil {
		t.Fatal("over 5120 characters stored")
	}
	if err := s.DeleteDataStorage(ctx, "u2", "bank"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDataStorage(ctx, "u2", "bank"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func aKey(kid, user string) store.APIKey {
	return store.APIKey{KID: kid, UserID: user, Algorithm: "HS256", Scope: []string{"resource"}, State: store.APIKeyActive,
		SecretSealed: "sealed-" + kid, Created: base, Updated: base}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1", "u2")
	k := aKey("k1", "u1")
	if err := s.CreateAPIKey(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.APIKey(ctx, "k1"); err != nil || !reflect.DeepEqual(got, k) {
		t.Fatalf("APIKey = %+v %v", got, err)
	}
	if err := s.CreateAPIKey(ctx, k, 2); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("used kid: %v", err)
	}
	k2 := aKey("k2", "u1")
	k2.Scope, k2.Created = nil, base.Add(time.Second)
	if err := s.CreateAPIKey(ctx, k2, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, aKey("k3", "u1"), 2); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("third key under a cap of 2: %v", err)
	}
	bad := aKey("k4", "u2")
	bad.Algorithm = "HS1"
	if err := s.CreateAPIKey(ctx, bad, 2); err == nil {
		t.Fatal("algorithm HS1 stored")
	}
	ks, total, err := s.UserAPIKeys(ctx, "u1", 1, 1)
	if err != nil || total != 2 || len(ks) != 1 || ks[0].KID != "k2" || ks[0].Scope == nil || len(ks[0].Scope) != 0 {
		t.Fatalf("page %+v %d %v", ks, total, err)
	}
	// Update: only scope and state change; another user's key is not found.
	if _, err := s.UpdateAPIKey(ctx, "u2", "k1", func(k store.APIKey) (store.APIKey, error) { return k, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other user's update: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateAPIKey(ctx, "u1", "k1", func(k store.APIKey) (store.APIKey, error) {
		k.State = store.APIKeyDisabled
		return k, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	up, err := s.UpdateAPIKey(ctx, "u1", "k1", func(k store.APIKey) (store.APIKey, error) {
		k.State, k.Scope, k.SecretSealed, k.Algorithm = store.APIKeyDisabled, []string{"a", "b"}, "changed", "HS512"
		return k, nil
	})
	if err != nil || up.State != store.APIKeyDisabled || up.SecretSealed != "sealed-k1" || up.Algorithm != "HS256" {
		t.Fatalf("update %+v %v", up, err)
	}
	if got, _ := s.APIKey(ctx, "k1"); !reflect.DeepEqual(got, up) {
		t.Fatalf("stored %+v, returned %+v", got, up)
	}
	if err := s.DeleteAPIKey(ctx, "u2", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other user's delete: %v", err)
	}
	if err := s.DeleteAPIKey(ctx, "u1", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIKey(ctx, "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testAPIKeysCapParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.CreateAPIKey(ctx, aKey(fmt.Sprint("k", i), "u1"), 5)
		}()
	}
	wg.Wait()
	if _, total, err := s.UserAPIKeys(ctx, "u1", 100, 0); err != nil || total != 5 {
		t.Fatalf("%d keys under a cap of 5 (%v)", total, err)
	}
}

func testDeleteUserRemovesKYC(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	ds, fs := docs("u1", "d1")
	if err := s.CreateDocuments(ctx, ds, fs, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDataStorage(ctx, store.DataStorage{ID: "s1", UserID: "u1", Title: "t", TitleNorm: "t", Data: "{}"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, aKey("k1", "u1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Document(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("document kept: %v", err)
	}
	if _, err := s.File(ctx, "file-d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("file kept: %v", err)
	}
	if _, err := s.APIKey(ctx, "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key kept: %v", err)
	}
	if got, _ := s.UserDataStorages(ctx, "u1"); len(got) != 0 {
		t.Fatalf("storage kept: %+v", got)
	}
}
