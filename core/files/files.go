// Package files keeps users' uploaded files: the bytes in a blob storage
// (Blobs: a directory in embedded mode, an S3-compatible bucket in
// production) and the record (owner, purpose, type, size, SHA-256) in the
// SQL store, so that every limit and every access check reads the
// database. The type of a file is what its first bytes say (PNG, JPEG,
// WebP, PDF), never what the caller claims; each purpose allows its own
// types; sizes and per-user counts are capped.
//
// Seed 003's files.create and photos and seed 002's KYC documents use it.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/store"
)

// Content types the sniffer knows.
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
)

// allowed maps each purpose to the types it takes.
var allowed = map[string][]string{
	store.FileUpload:   {TypePNG, TypeJPEG, TypeWebP},
	store.FileDocument: {TypePNG, TypeJPEG, TypePDF},
}

// Allowed returns the content types a purpose accepts (nil: unknown purpose).
func Allowed(purpose string) []string { return append([]string(nil), allowed[purpose]...) }

// Sniff names the type of b from its magic bytes: PNG's eight-byte
// signature, JPEG's SOI and a marker, WebP's RIFF....WEBP header, PDF's
// "%PDF-". Anything else is "".
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case len(b) >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return TypeJPEG
	case len(b) >= 16 && bytes.Equal(b[0:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")) &&
		(bytes.Equal(b[12:16], []byte("VP8 ")) || bytes.Equal(b[12:16], []byte("VP8L")) || bytes.Equal(b[12:16], []byte("VP8X"))):
		return TypeWebP
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return TypePDF
	}
	return ""
}

// Policy is the limits, each a documented setting.
type Policy struct {
	// MaxSize is the largest file, in bytes (decoded).
	MaxSize int64
	// MaxPerUser caps the files of purpose upload one user holds
	// (documents have their own cap, in core/documents).
	MaxPerUser int
}

// DefaultPolicy fits the default 1 MiB request body: 512 KiB is 683 KiB
// in base64.
var DefaultPolicy = Policy{MaxSize: 512 << 10, MaxPerUser: 50}

// Decode reads a file sent as standard, padded base64 (RFC 4648 §4, no
// line breaks, no data: URL prefix) and checks it is at most max bytes
// and of a type purpose allows. It returns the bytes and their type.
// The length is checked before decoding, so an over-long string costs
// nothing.
func Decode(s string, max int64, purpose string) ([]byte, string, error) {
	if s == "" {
		return nil, "", fault.New(fault.FileInvalid)
	}
	if int64(base64.StdEncoding.DecodedLen(len(s))) > max+2 {
		return nil, "", fault.New(fault.FileTooLarge)
	}
	// Strict refuses non-zero padding bits but, like every Go decoder,
	// skips CR and LF: refuse them here, so one file has one encoding.
	if strings.ContainsAny(s, "\r\n") {
		return nil, "", fault.New(fault.FileInvalid)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, "", fault.New(fault.FileInvalid)
	}
	if int64(len(b)) > max {
		return nil, "", fault.New(fault.FileTooLarge)
	}
	t, err := Check(b, purpose)
	if err != nil {
		return nil, "", err
	}
	return b, t, nil
}

// Check returns b's type when purpose allows it, else FileTypeRefused.
func Check(b []byte, purpose string) (string, error) {
	t := Sniff(b)
	for _, a := range allowed[purpose] {
		if t != "" && t == a {
			return t, nil
		}
	}
	return "", fault.New(fault.FileTypeRefused)
}

// Service stores and serves files.
type Service struct {
	Store  store.Store
	Blobs  Blobs
	Policy Policy
	Log    zerolog.Logger
	// Visible decides who besides the owner may read a file; nil lets
	// only the owner read. The hook for seed 003's public photos.
	Visible Visibility
	// Now stamps records; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Path is where the gateway serves a file's bytes (GET, with the
// caller's credentials): never a bucket URL.
func Path(id string) string { return "/files/" + id }

// BlobName is where a file's bytes live: "f/<id>".
func BlobName(id string) string { return "f/" + id }

// Prepare checks b for purpose and returns the record it would have; it
// writes nothing. Callers that record files in their own transaction
// (documents) use Prepare, Put and Discard.
func (s *Service) Prepare(userID, purpose string, b []byte) (store.File, error) {
	if int64(len(b)) > s.Policy.MaxSize {
		return store.File{}, fault.New(fault.FileTooLarge)
	}
	if len(b) == 0 {
		return store.File{}, fault.New(fault.FileInvalid)
	}
	t, err := Check(b, purpose)
	if err != nil {
		return store.File{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.File{}, err
	}
	sum := sha256.Sum256(b)
	return store.File{ID: id.String(), UserID: userID, Purpose: purpose, ContentType: t,
		Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), Created: s.now().UTC()}, nil
}

// Put writes f's bytes to the blob storage.
func (s *Service) Put(ctx context.Context, f store.File, b []byte) error {
	if err := s.Blobs.Put(ctx, BlobName(f.ID), b); err != nil {
		return fault.Wrap(fault.Unavailable, err)
	}
	return nil
}

// Discard removes the blobs of files whose record was not written (or
// was deleted), logging what it could not remove: an orphan blob is
// unreachable (every read goes through a record) and only costs space.
func (s *Service) Discard(ctx context.Context, ids ...string) error {
	var errs []error
	for _, id := range ids {
		if err := s.Blobs.Delete(context.WithoutCancel(ctx), BlobName(id)); err != nil {
			s.Log.Warn().Err(err).Str("file", id).Msg("blob not removed")
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Create stores an upload of userID: the blob first, then the record
// under the per-user cap; a refused record removes the blob again.
func (s *Service) Create(ctx context.Context, userID string, b []byte) (store.File, error) {
	f, err := s.Prepare(userID, store.FileUpload, b)
	if err != nil {
		return store.File{}, err
	}
	if err := s.Put(ctx, f, b); err != nil {
		return store.File{}, err
	}
	if err := s.Store.CreateFile(ctx, f, s.Policy.MaxPerUser); err != nil {
		_ = s.Discard(ctx, f.ID)
		switch {
		case errors.Is(err, store.ErrLimitReached):
			return store.File{}, fault.New(fault.FileLimitReached)
		case errors.Is(err, store.ErrNotFound):
			return store.File{}, fault.New(fault.SessionInvalid)
		}
		return store.File{}, core.StoreError("files: create", err)
	}
	return f, nil
}

// Visibility decides who besides the owner may read a file: seed 003's
// public photos plug in here, with a Visibility that answers true for a
// file attached to a profile as a photo. viewerID is "" for a caller
// without a session.
type Visibility func(ctx context.Context, f store.File, viewerID string) (bool, error)

// Open returns a file's record and bytes for viewerID ("" for a caller
// without a session): the owner, or whoever s.Visible admits. A file the
// viewer may not read answers NotFound, the same as a file that does not
// exist.
func (s *Service) Open(ctx context.Context, id, viewerID string) (store.File, []byte, error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return store.File{}, nil, fault.New(fault.NotFound)
	}
	f, err := s.Store.File(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.File{}, nil, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.File{}, nil, core.StoreError("files: open", err)
	}
	ok := viewerID != "" && viewerID == f.UserID
	if !ok && s.Visible != nil {
		if ok, err = s.Visible(ctx, f, viewerID); err != nil {
			return store.File{}, nil, err
		}
	}
	if !ok {
		return store.File{}, nil, fault.New(fault.NotFound)
	}
	b, err := s.Blobs.Get(ctx, BlobName(f.ID), f.Size)
	if errors.Is(err, ErrNoBlob) {
		return store.File{}, nil, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.File{}, nil, fault.Wrap(fault.Unavailable, err)
	}
	return f, b, nil
}

// Delete removes one of userID's files: the record, then the blob.
// Another user's file answers NotFound.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	err := s.Store.DeleteFile(ctx, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound)
	}
	if err != nil {
		return core.StoreError("files: delete", err)
	}
	_ = s.Discard(ctx, id)
	return nil
}

// UserBlobs lists the ids of every file of a user, for an account
// deletion that removes the blobs after its transaction committed.
func (s *Service) UserBlobs(ctx context.Context, userID string) ([]string, error) {
	fs, err := s.Store.UserFiles(ctx, userID)
	if err != nil {
		return nil, core.StoreError("files: list", err)
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids, nil
}

// Validate checks a policy against the request body limit: a file of
// MaxSize must fit in the body as base64 with room for the call around it.
func (p Policy) Validate(maxBody int64) error {
	if p.MaxSize < 1 || p.MaxPerUser < 0 {
		return errors.New("files: the size cap must be positive and the count cap not negative")
	}
	if need := int64(base64.StdEncoding.EncodedLen(int(p.MaxSize))) + 4096; need > maxBody {
		return fmt.Errorf("files: a %d-byte file needs a request body of at least %d bytes (PARTNERGATE_MAX_BODY)", p.MaxSize, need)
	}
	return nil
}
