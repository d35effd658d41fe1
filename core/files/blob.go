package files

import (
	"context"
	"errors"
	"regexp"
)

// Blobs is where the bytes of uploaded files live: a small interface so
// that the filesystem (embedded mode) and an S3-compatible bucket
// (production) are interchangeable. Names are chosen by the server (see
// ValidName), never taken from a request.
type Blobs interface {
	// Put stores data under name, replacing nothing half-written: a
	// reader sees either the whole blob or none.
	Put(ctx context.Context, name string, data []byte) error
	// Get returns the blob's bytes, at most max of them (a larger blob is
	// an error). ErrNoBlob when there is none.
	Get(ctx context.Context, name string, max int64) ([]byte, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, name string) error
}

// ErrNoBlob is returned by Get for a name that holds no blob.
var ErrNoBlob = errors.New("files: no such blob")

// ErrBadName is returned for a name ValidName refuses.
var ErrBadName = errors.New("files: invalid blob name")

// namePattern: one to four segments of lower-case letters and digits,
// joined inside a segment by single '.', '_' or '-'. No segment can be
// empty, "." or "..", start with a dot (temporary files do) or hold a
// separator of any platform.
var namePattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*){0,3}$`)

// ValidName reports whether name is a blob name every backend accepts as
// is: relative, without traversal, at most 200 bytes.
func ValidName(name string) bool {
	return len(name) <= 200 && namePattern.MatchString(name)
}
