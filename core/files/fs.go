package files

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// FS keeps blobs as files under one directory, opened as an os.Root so
// that no name, symlink or ".." can reach outside it. Writes go to a
// temporary file in the target's directory, are fsynced, renamed over the
// target and the directory fsynced: a crash leaves the old blob or the new
// one, never a torn one.
type FS struct {
	dir  string
	root *os.Root
}

var _ Blobs = (*FS)(nil)

// OpenFS opens (creating it owner-only) the directory dir.
func OpenFS(dir string) (*FS, error) {
	if dir == "" {
		return nil, errors.New("files: fs: a directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("files: fs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("files: fs: %w", err)
	}
	return &FS{dir: dir, root: root}, nil
}

// Close releases the directory.
func (f *FS) Close() error { return f.root.Close() }

// Put implements Blobs.
func (f *FS) Put(ctx context.Context, name string, data []byte) error {
	if !ValidName(name) {
		return ErrBadName
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := path.Dir(name)
	if dir != "." {
		if err := f.root.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("files: fs: put: %w", err)
		}
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := path.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	w, err := f.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("files: fs: put: %w", err)
	}
	_, err = w.Write(data)
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.root.Rename(tmp, name)
	}
	if err != nil {
		_ = f.root.Remove(tmp)
		return fmt.Errorf("files: fs: put: %w", err)
	}
	return f.syncDir(dir)
}

// syncDir makes a rename in dir durable.
func (f *FS) syncDir(dir string) error {
	d, err := f.root.Open(dir)
	if err != nil {
		return fmt.Errorf("files: fs: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("files: fs: sync dir: %w", err)
	}
	return nil
}

// Get implements Blobs.
func (f *FS) Get(ctx context.Context, name string, max int64) ([]byte, error) {
	if !ValidName(name) {
		return nil, ErrBadName
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := f.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBlob
	}
	if err != nil {
		return nil, fmt.Errorf("files: fs: get: %w", err)
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		return nil, fmt.Errorf("files: fs: get: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, ErrNoBlob
	}
	return readMax(r, max)
}

// Delete implements Blobs.
func (f *FS) Delete(ctx context.Context, name string) error {
	if !ValidName(name) {
		return ErrBadName
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := f.root.Remove(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: fs: delete: %w", err)
	}
	return nil
}

// readMax reads all of r, failing when it holds more than max bytes.
func readMax(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("files: read: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("files: blob larger than %d bytes", max)
	}
	return b, nil
}
