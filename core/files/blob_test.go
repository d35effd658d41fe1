package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// testBlobs is the conformance suite both backends pass.
func testBlobs(t *testing.T, b Blobs) {
	ctx := context.Background()
	t.Run("PutGetDelete", func(t *testing.T) {
		data := []byte("\x89PNG\r\n\x1a\nhello")
		if err := b.Put(ctx, "f/one", data); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "f/one", 1<<20)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get: %q %v", got, err)
		}
		if err := b.Delete(ctx, "f/one"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "f/one", 1<<20); !errors.Is(err, ErrNoBlob) {
			t.Fatalf("get after delete: %v, want ErrNoBlob", err)
		}
		if err := b.Delete(ctx, "f/one"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		if _, err := b.Get(ctx, "f/never-written", 10); !errors.Is(err, ErrNoBlob) {
			t.Fatalf("got %v, want ErrNoBlob", err)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		for _, v := range []string{"first version", "second"} {
			if err := b.Put(ctx, "f/over", []byte(v)); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Get(ctx, "f/over", 100); err != nil || string(got) != v {
				t.Fatalf("got %q %v, want %q", got, err, v)
			}
		}
	})
	t.Run("MaxRead", func(t *testing.T) {
		if err := b.Put(ctx, "f/big", bytes.Repeat([]byte{1}, 100)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "f/big", 99); err == nil {
			t.Fatal("a blob over max was read")
		}
		if got, err := b.Get(ctx, "f/big", 100); err != nil || len(got) != 100 {
			t.Fatalf("exactly max: %d %v", len(got), err)
		}
	})
	t.Run("BadNames", func(t *testing.T) {
		for _, n := range badNames {
			if err := b.Put(ctx, n, []byte("x")); !errors.Is(err, ErrBadName) {
				t.Errorf("put %q: %v, want ErrBadName", n, err)
			}
			if _, err := b.Get(ctx, n, 10); !errors.Is(err, ErrBadName) {
				t.Errorf("get %q: %v, want ErrBadName", n, err)
			}
			if err := b.Delete(ctx, n); !errors.Is(err, ErrBadName) {
				t.Errorf("delete %q: %v, want ErrBadName", n, err)
			}
		}
	})
	t.Run("ParallelPuts", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- b.Put(ctx, "f/same", []byte(fmt.Sprintf("version-%02d", i)))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.Get(ctx, "f/same", 100)
		if err != nil || len(got) != len("version-00") || !bytes.HasPrefix(got, []byte("version-")) {
			t.Fatalf("after parallel puts: %q %v (a torn write?)", got, err)
		}
	})
}

var badNames = []string{
	"", "/abs", "../up", "f/../../etc/passwd", "f/..", "..", ".", "f/./x", "f//x", "f/", "F/Upper",
	`f\x`, "f/.tmp-abc", ".hidden", "f/x\x00", "a/b/c/d/e", "f/x y", "f/é", string(make([]byte, 201)),
}

func TestValidName(t *testing.T) {
	for _, n := range badNames {
		if ValidName(n) {
			t.Errorf("ValidName(%q) = true", n)
		}
	}
	for _, n := range []string{"f/0190a3c2-7d1e-7b7a-9c1e-1234567890ab", "a", "a/b/c/d", "x.y_z-1"} {
		if !ValidName(n) {
			t.Errorf("ValidName(%q) = false", n)
		}
	}
}
