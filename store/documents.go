package store

import (
	"context"
	"time"
)

// This file holds the contract for seed 002's (Barong's) KYC documents
// and data storage. Both belong to a user and go with the user.

// Document states: a new document is pending until an admin verifies or
// rejects it.
const (
	DocumentPending  = "pending"
	DocumentVerified = "verified"
	DocumentRejected = "rejected"
)

// Document is one uploaded identity document: one file, as Barong keeps
// one row per uploaded file. Expire and Issue are "2006-01-02" or "";
// Metadata is a compact JSON object or "".
type Document struct {
	ID       string
	UserID   string
	FileID   string
	Type     string
	Number   string
	Expire   string
	Issue    string
	Metadata string
	State    string
	Created  time.Time
	Updated  time.Time
}

// Documents keeps the documents.
type Documents interface {
	// CreateDocuments writes files[i] and docs[i] (docs[i].FileID is
	// files[i].ID), every one or none, in one transaction, unless the user
	// would then hold more than max documents (ErrLimitReached; max ≤ 0
	// means no cap; concurrent creates for one user are serialised).
	// Zero Created/Updated are taken from the store's clock. ErrNotFound
	// when the user does not exist.
	CreateDocuments(ctx context.Context, docs []Document, files []File, max int) error
	// UserDocuments lists the user's documents, oldest first; none is an
	// empty list.
	UserDocuments(ctx context.Context, userID string) ([]Document, error)
	// Document returns one document. ErrNotFound.
	Document(ctx context.Context, id string) (Document, error)
	// PendingDocuments lists documents in state pending, every user's,
	// oldest first, at most limit from offset (admin's queue).
	PendingDocuments(ctx context.Context, limit, offset int) ([]Document, error)
	// SetDocumentState sets a document's state (DocumentPending,
	// DocumentVerified or DocumentRejected) and Updated from the store's
	// clock, and returns it. ErrNotFound.
	SetDocumentState(ctx context.Context, id, state string) (Document, error)
}

// DataStorage is one of Barong's user data storages: a titled JSON
// document. The title is unique per user without regard to case
// (TitleNorm is its lower-cased form).
type DataStorage struct {
	ID        string
	UserID    string
	Title     string
	TitleNorm string
	Data      string
	Created   time.Time
	Updated   time.Time
}

// DataStorages keeps the data storages.
type DataStorages interface {
	// CreateDataStorage writes d. ErrAlreadyExists when the user has a
	// storage of d.TitleNorm; ErrNotFound when the user does not exist.
	// Zero times are taken from the store's clock.
	CreateDataStorage(ctx context.Context, d DataStorage) error
	// UserDataStorages lists the user's storages, oldest first.
	UserDataStorages(ctx context.Context, userID string) ([]DataStorage, error)
	// DeleteDataStorage removes the user's storage of titleNorm.
	// ErrNotFound.
	DeleteDataStorage(ctx context.Context, userID, titleNorm string) error
}
