package files

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFS(t *testing.T) {
	dir := t.TempDir()
	b, err := OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	testBlobs(t, b)

	t.Run("OwnerOnlyAndNoTemporaries", func(t *testing.T) {
		if err := b.Put(context.Background(), "f/perm", []byte("x")); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "blobs", "f", "perm"))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", st.Mode().Perm())
		}
		ents, err := os.ReadDir(filepath.Join(dir, "blobs", "f"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name()[0] == '.' {
				t.Fatalf("temporary file %s left behind", e.Name())
			}
		}
	})
	t.Run("SymlinkEscapeRefused", func(t *testing.T) {
		outside := filepath.Join(dir, "secret")
		if err := os.WriteFile(outside, []byte("do not read"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "blobs", "f", "link")); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Get(context.Background(), "f/link", 100); err == nil {
			t.Fatalf("read through a symlink out of the root: %q", got)
		}
		if err := os.Symlink(dir, filepath.Join(dir, "blobs", "esc")); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(context.Background(), "esc/planted", []byte("x")); err == nil {
			t.Fatal("wrote through a directory symlink out of the root")
		}
		if _, err := os.Stat(filepath.Join(dir, "planted")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("file planted outside the root: %v", err)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := b.Put(ctx, "f/c", []byte("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("put: %v", err)
		}
	})
}
