package store

import (
	"context"
	"errors"
	"time"
)

// This file holds the contract for uploaded files (core/files). The bytes
// live in a blob storage (a directory, or an S3-compatible bucket); the SQL
// record says whose a file is, what it is and how large, so that every
// limit and every access check reads the database, never the bucket.

// ErrLimitReached is returned when a create would take a user past a
// per-user cap the caller passed in (files, documents, API keys). Nothing
// is written.
var ErrLimitReached = errors.New("limit reached")

// File purposes: what an upload is for. Each purpose has its own allowed
// types and its own per-user cap.
const (
	// FileUpload is a file uploaded by files.create (seed 003's photos).
	FileUpload = "upload"
	// FileDocument is the file of a KYC document (seed 002).
	FileDocument = "document"
)

// File is the record of one stored blob. ID is also the blob's name.
type File struct {
	ID          string
	UserID      string
	Purpose     string // FileUpload or FileDocument
	ContentType string // image/png, image/jpeg, image/webp, application/pdf
	Size        int64
	SHA256      string // lower-case hex of the bytes
	Created     time.Time
}

// Files keeps the file records.
type Files interface {
	// CreateFile records f unless the user already holds max files of
	// f.Purpose (ErrLimitReached; max ≤ 0 means no cap). Concurrent
	// creates for one user are serialised, so the cap holds under races.
	// A zero Created is taken from the store's clock. ErrNotFound when the
	// user does not exist; ErrAlreadyExists on a used ID.
	CreateFile(ctx context.Context, f File, max int) error
	// File returns one record. ErrNotFound.
	File(ctx context.Context, id string) (File, error)
	// UserFiles lists every file of the user, all purposes, oldest first;
	// none is an empty list.
	UserFiles(ctx context.Context, userID string) ([]File, error)
	// DeleteFile removes the user's file record. ErrNotFound when the user
	// has no file id (another user's file included). A file a document
	// still uses cannot be deleted (an error wrapping neither sentinel).
	DeleteFile(ctx context.Context, userID, id string) error
}
