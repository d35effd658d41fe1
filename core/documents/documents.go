// Package documents keeps seed 002's (Barong's) KYC documents and user
// data storages. A document is one uploaded file (PNG, JPEG or PDF by its
// magic bytes, in the blob storage of core/files) with its type, number and
// dates; it is pending until an admin verifies or rejects it. A data
// storage is a titled JSON document a user records once per title.
package documents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"partnergate/core"
	"partnergate/core/activity"
	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/store"
)

// Types are Barong's document types, matched exactly.
var Types = []string{"Passport", "Identity card", "Driver license", "Utility Bill"}

// Limits, Barong's where it has them.
const (
	// DefaultMaxPerUser is Barong's DOCUMENTS_LIMIT.
	DefaultMaxPerUser = 10
	MaxNumber         = 128
	MaxMetadata       = 4096 // bytes of compact JSON
	MaxMetadataKeys   = 32
	MaxDataStorage    = 5120 // Barong: "maximum 5kb of data"
	MaxTitle          = 64
)

// BlockedTitles are Barong's BLACKLISTED_TITLES: names the system's own
// labels use.
var BlockedTitles = []string{"document", "label", "profile", "phone", "user"}

// Service is the documents and data-storage core.
type Service struct {
	Store store.Store
	Files *files.Service
	// MaxPerUser caps a user's documents (0: DefaultMaxPerUser).
	MaxPerUser int
	// Titles, when set, is the allowlist of data-storage titles (Barong's
	// UserStorageTitles), compared without case; nil admits any
	// well-formed title but BlockedTitles.
	Titles []string
	// Created, when set, runs after documents were created (Barong then
	// sets the user's private "document" label to pending). An error is
	// returned to the caller; the documents stay.
	Created func(ctx context.Context, userID string) error
	// Recorded, when set, runs after a data storage was created (Barong
	// then sets a private label of its title to "recorded").
	Recorded func(ctx context.Context, userID, title string) error
	// Activity, when set, receives each upload (topic document) and data
	// storage (topic data_storage).
	Activity *activity.Recorder
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) max() int {
	if s.MaxPerUser > 0 {
		return s.MaxPerUser
	}
	return DefaultMaxPerUser
}

// New is a document upload: one document per file in Uploads, each
// standard base64, sharing the rest.
type New struct {
	Type     string
	Number   string
	Expire   string // "2006-01-02" or ""
	Issue    string // "2006-01-02" or ""
	Metadata json.RawMessage
	Uploads  []string
}

var numberPattern = regexp.MustCompile(`^[A-Za-z0-9 -]+$`)

// Check validates n without touching any store; it returns the compact
// metadata.
func (s *Service) Check(n New) (string, error) {
	if !slices.Contains(Types, n.Type) {
		return "", fault.Field(fault.Invalid, "doc_type", "one of "+strings.Join(Types, ", "))
	}
	if n.Number == "" || len(n.Number) > MaxNumber || !numberPattern.MatchString(n.Number) {
		return "", fault.Field(fault.Invalid, "doc_number", "1 to 128 letters, digits, spaces or -")
	}
	today := s.now().UTC().Format(time.DateOnly)
	if n.Expire != "" {
		if !isDate(n.Expire) {
			return "", fault.Field(fault.Invalid, "doc_expire", "a date, YYYY-MM-DD")
		}
		if n.Expire < today {
			return "", fault.Field(fault.DocumentExpired, "doc_expire", "in the past")
		}
	}
	if n.Issue != "" && (!isDate(n.Issue) || n.Issue > today) {
		return "", fault.Field(fault.Invalid, "doc_issue", "a date, YYYY-MM-DD, not in the future")
	}
	meta, err := compactObject(n.Metadata)
	if err != nil {
		return "", err
	}
	if len(n.Uploads) == 0 || len(n.Uploads) > s.max() {
		return "", fault.Field(fault.Invalid, "upload", "one or more files, at most the documents limit")
	}
	return meta, nil
}

func isDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// compactObject checks Barong's metadata hash: absent/null, or a JSON
// object of at most MaxMetadataKeys members with scalar values.
func compactObject(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", nil
	}
	bad := fault.Field(fault.Invalid, "metadata", "a JSON object of at most 32 members with string, number, boolean or null values, 4096 bytes")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil || m == nil || len(m) > MaxMetadataKeys {
		return "", bad
	}
	for k, v := range m {
		v = bytes.TrimSpace(v)
		if k == "" || len(k) > 64 || len(v) == 0 || v[0] == '{' || v[0] == '[' {
			return "", bad
		}
	}
	out, err := json.Marshal(m)
	if err != nil || len(out) > MaxMetadata {
		return "", bad
	}
	return string(out), nil
}

// Create stores one pending document per upload for userID, all or none:
// every field and file is checked first, the blobs written, then the
// records in one transaction under the per-user cap; a refused
// transaction removes the blobs again.
func (s *Service) Create(ctx context.Context, userID string, n New) ([]store.Document, error) {
	meta, err := s.Check(n)
	if err != nil {
		return nil, err
	}
	recs := make([]store.File, len(n.Uploads))
	blobs := make([][]byte, len(n.Uploads))
	for i, u := range n.Uploads {
		b, _, err := files.Decode(u, s.Files.Policy.MaxSize, store.FileDocument)
		if err != nil {
			if fe, ok := fault.As(err); ok {
				out := *fe
				out.Fields = map[string]string{"upload": out.Message}
				return nil, &out
			}
			return nil, err
		}
		if recs[i], err = s.Files.Prepare(userID, store.FileDocument, b); err != nil {
			return nil, err
		}
		blobs[i] = b
	}
	// Refuse early, before writing blobs, when the cap is already met.
	have, err := s.Store.UserDocuments(ctx, userID)
	if err != nil {
		return nil, core.StoreError("documents: count", err)
	}
	if err := s.capFault(len(have), len(n.Uploads)); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	docs := make([]store.Document, len(recs))
	var written []string
	for i, f := range recs {
		if err := s.Files.Put(ctx, f, blobs[i]); err != nil {
			_ = s.Files.Discard(ctx, written...)
			return nil, err
		}
		written = append(written, f.ID)
		id, err := uuid.NewV7()
		if err != nil {
			_ = s.Files.Discard(ctx, written...)
			return nil, err
		}
		docs[i] = store.Document{ID: id.String(), UserID: userID, FileID: f.ID, Type: n.Type, Number: n.Number,
			Expire: n.Expire, Issue: n.Issue, Metadata: meta, State: store.DocumentPending, Created: now, Updated: now}
	}
	if err := s.Store.CreateDocuments(ctx, docs, recs, s.max()); err != nil {
		_ = s.Files.Discard(ctx, written...)
		if errors.Is(err, store.ErrLimitReached) {
			// A concurrent upload took the places meanwhile.
			have, herr := s.Store.UserDocuments(ctx, userID)
			if herr == nil {
				if cerr := s.capFault(len(have), len(n.Uploads)); cerr != nil {
					return nil, cerr
				}
			}
			return nil, fault.New(fault.DocumentLimitWouldPass)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.New(fault.SessionInvalid)
		}
		return nil, core.StoreError("documents: create", err)
	}
	s.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: "document", Action: "create",
		Data: map[string]any{"doc_type": n.Type, "files": len(docs)}})
	if s.Created != nil {
		if err := s.Created(ctx, userID); err != nil {
			return docs, err
		}
	}
	return docs, nil
}

func (s *Service) capFault(have, adding int) error {
	switch {
	case have >= s.max():
		return fault.New(fault.DocumentLimitReached)
	case have+adding > s.max():
		return fault.New(fault.DocumentLimitWouldPass)
	}
	return nil
}

// List returns the user's documents, oldest first.
func (s *Service) List(ctx context.Context, userID string) ([]store.Document, error) {
	ds, err := s.Store.UserDocuments(ctx, userID)
	if err != nil {
		return nil, core.StoreError("documents: list", err)
	}
	return ds, nil
}

// Pending lists every user's pending documents, oldest first (the admin
// queue, admin.users.documents.pending).
func (s *Service) Pending(ctx context.Context, limit, offset int) ([]store.Document, error) {
	ds, err := s.Store.PendingDocuments(ctx, limit, offset)
	if err != nil {
		return nil, core.StoreError("documents: pending", err)
	}
	return ds, nil
}

// SetState verifies or rejects a document (admin). NotFound for an
// unknown id; Invalid for another state.
func (s *Service) SetState(ctx context.Context, id, state string) (store.Document, error) {
	switch state {
	case store.DocumentPending, store.DocumentVerified, store.DocumentRejected:
	default:
		return store.Document{}, fault.Field(fault.Invalid, "state", "pending, verified or rejected")
	}
	d, err := s.Store.SetDocumentState(ctx, id, state)
	if errors.Is(err, store.ErrNotFound) {
		return store.Document{}, fault.New(fault.NotFound)
	}
	if err != nil {
		return store.Document{}, core.StoreError("documents: set state", err)
	}
	return d, nil
}

var titlePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9 _.-]*[A-Za-z0-9])?$`)

// CreateDataStorage records a data storage for userID: title (1 to 64
// letters, digits, spaces, _ . -; unique per user without case; in the
// allowlist when one is set; never a blocked title) and data (any JSON
// value, at most 5120 bytes, kept as sent).
func (s *Service) CreateDataStorage(ctx context.Context, userID, title, data string) (store.DataStorage, error) {
	norm := strings.ToLower(title)
	switch {
	case title == "" || len(title) > MaxTitle || !titlePattern.MatchString(title):
		return store.DataStorage{}, fault.Field(fault.Invalid, "title", "1 to 64 letters, digits, spaces, _ . -")
	case slices.Contains(BlockedTitles, norm):
		return store.DataStorage{}, fault.Field(fault.Invalid, "title", "reserved")
	case s.Titles != nil && !slices.ContainsFunc(s.Titles, func(t string) bool { return strings.EqualFold(t, title) }):
		return store.DataStorage{}, fault.Field(fault.Invalid, "title", "not an allowed title")
	}
	switch {
	case strings.TrimSpace(data) == "":
		return store.DataStorage{}, fault.Field(fault.Invalid, "data", "required")
	case len(data) > MaxDataStorage:
		return store.DataStorage{}, fault.Field(fault.Invalid, "data", "at most 5120 bytes")
	case !json.Valid([]byte(data)):
		return store.DataStorage{}, fault.Field(fault.Invalid, "data", "JSON")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.DataStorage{}, err
	}
	now := s.now().UTC()
	d := store.DataStorage{ID: id.String(), UserID: userID, Title: title, TitleNorm: norm, Data: data, Created: now, Updated: now}
	err = s.Store.CreateDataStorage(ctx, d)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return store.DataStorage{}, fault.Field(fault.DataStorageTaken, "title", "taken")
	case errors.Is(err, store.ErrNotFound):
		return store.DataStorage{}, fault.New(fault.SessionInvalid)
	case err != nil:
		return store.DataStorage{}, core.StoreError("data storage: create", err)
	}
	s.Activity.Note(ctx, activity.Entry{UserID: userID, Topic: "data_storage", Action: "create", Data: map[string]any{"title": title}})
	if s.Recorded != nil {
		if err := s.Recorded(ctx, userID, title); err != nil {
			return d, err
		}
	}
	return d, nil
}
