package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"partnergate/store"
)

// runFiles runs the conformance tests of store.Files (store/files.go).
func runFiles(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateAndRead", testFileCreateAndRead},
		{"CapPerPurpose", testFileCapPerPurpose},
		{"CapParallel", testFileCapParallel},
		{"DeleteOwnerOnly", testFileDeleteOwnerOnly},
		{"DeleteUserRemovesFiles", testFileDeleteUser},
	}
	for _, tc := range tests {
		t.Run("Files/"+tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func aFile(id, user, purpose string) store.File {
	return store.File{ID: id, UserID: user, Purpose: purpose, ContentType: "image/png", Size: 1234,
		SHA256: strings.Repeat("ab", 32), Created: base}
}

func testFileCreateAndRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	f := aFile("f1", "u1", store.FileUpload)
	if err := s.CreateFile(ctx, f, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.File(ctx, "f1")
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("File = %+v, %v; want %+v", got, err, f)
	}
	if err := s.CreateFile(ctx, f, 0); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("same id again: %v", err)
	}
	if err := s.CreateFile(ctx, aFile("f2", "nobody", store.FileUpload), 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := s.File(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	later := aFile("f3", "u1", store.FileDocument)
	later.Created = base.Add(time.Second)
	if err := s.CreateFile(ctx, later, 0); err != nil {
		t.Fatal(err)
	}
	fs, err := s.UserFiles(ctx, "u1")
	if err != nil || len(fs) != 2 || fs[0].ID != "f1" || fs[1].ID != "f3" {
		t.Fatalf("UserFiles = %+v, %v", fs, err)
	}
	if fs, err := s.UserFiles(ctx, "nobody"); err != nil || fs == nil || len(fs) != 0 {
		t.Fatalf("no files: %#v, %v (want an empty list)", fs, err)
	}
	bad := aFile("f4", "u1", "avatar")
	if err := s.CreateFile(ctx, bad, 0); err == nil {
		t.Fatal("unknown purpose stored")
	}
}

func testFileCapPerPurpose(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1", "u2")
	for i := range 3 {
		if err := s.CreateFile(ctx, aFile(fmt.Sprint("a", i), "u1", store.FileUpload), 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateFile(ctx, aFile("a3", "u1", store.FileUpload), 3); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("fourth upload under a cap of 3: %v", err)
	}
	if _, err := s.File(ctx, "a3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused file was stored: %v", err)
	}
	// Other purposes and other users count apart.
	if err := s.CreateFile(ctx, aFile("d0", "u1", store.FileDocument), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFile(ctx, aFile("b0", "u2", store.FileUpload), 3); err != nil {
		t.Fatal(err)
	}
	// Deleting one frees a place.
	if err := s.DeleteFile(ctx, "u1", "a0"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFile(ctx, aFile("a3", "u1", store.FileUpload), 3); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
}

func testFileCapParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	const n, max = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.CreateFile(ctx, aFile(fmt.Sprint("p", i), "u1", store.FileUpload), max)
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrLimitReached):
			t.Errorf("unexpected: %v", err)
		}
	}
	fs, err := s.UserFiles(ctx, "u1")
	if err != nil || ok != max || len(fs) != max {
		t.Fatalf("%d parallel creates under a cap of %d: %d succeeded, %d stored (%v)", n, max, ok, len(fs), err)
	}
}

func testFileDeleteOwnerOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1", "u2")
	if err := s.CreateFile(ctx, aFile("f1", "u1", store.FileUpload), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFile(ctx, "u2", "f1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's delete: %v", err)
	}
	if _, err := s.File(ctx, "f1"); err != nil {
		t.Fatalf("file gone after another user's delete: %v", err)
	}
	if err := s.DeleteFile(ctx, "u1", "f1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFile(ctx, "u1", "f1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testFileDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUsers(t, s, "u1")
	if err := s.CreateFile(ctx, aFile("f1", "u1", store.FileUpload), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.File(ctx, "f1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("file kept after its user's deletion: %v", err)
	}
}
