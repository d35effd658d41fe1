// Package photos keeps seed 003's profile photos: uploads of core/files
// that a user attached to its profile. A photo is readable at its file's
// URL by every signed-in user (Visible, the files service's hook) unless
// its owner is deactivated or in privacy mode; deleting a photo deletes its
// file, record and blob.
package photos

import (
	"context"
	"errors"
	"strings"

	"partnergate/core"
	"partnergate/core/fault"
	"partnergate/core/files"
	"partnergate/store"
)

// DefaultMaxPerUser is how many photos a user may have.
const DefaultMaxPerUser = 10

// Service is the photo core. Its fields are its dependencies, set in cmd.
type Service struct {
	Store store.Store
	Files *files.Service
	// MaxPerUser caps a user's photos; 0 means DefaultMaxPerUser.
	MaxPerUser int
}

func (s *Service) max() int {
	if s.MaxPerUser > 0 {
		return s.MaxPerUser
	}
	return DefaultMaxPerUser
}

// Add makes the user's upload fileID a photo and returns its file.
// fault.NotFound when the user has no such upload (another user's file
// answers the same), fault.AlreadyExists when it is a photo already,
// fault.PhotoLimitReached at the cap.
func (s *Service) Add(ctx context.Context, userID, fileID string) (store.File, error) {
	err := s.Store.AddPhoto(ctx, userID, fileID, s.max())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.File{}, fault.New(fault.NotFound)
	case errors.Is(err, store.ErrAlreadyExists):
		return store.File{}, fault.New(fault.AlreadyExists)
	case errors.Is(err, store.ErrLimitReached):
		return store.File{}, fault.New(fault.PhotoLimitReached)
	case err != nil:
		return store.File{}, core.StoreError("photos: add", err)
	}
	f, err := s.Store.File(ctx, fileID)
	if err != nil {
		return store.File{}, core.StoreError("photos: read file", err)
	}
	return f, nil
}

// Check compares what a client says of its upload (the seed's fileType,
// such as "png", and fileSize; empty and zero are not checked) with the
// upload itself, before Add: fault.NotFound when fileID is not the user's
// upload, fault.Invalid on photo when a given value does not match.
func (s *Service) Check(ctx context.Context, userID, fileID, fileType string, size int64) error {
	f, err := s.Store.File(ctx, fileID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (f.UserID != userID || f.Purpose != store.FileUpload)) {
		return fault.New(fault.NotFound)
	}
	if err != nil {
		return core.StoreError("photos: read file", err)
	}
	_, sub, _ := strings.Cut(f.ContentType, "/")
	if (fileType != "" && !strings.EqualFold(fileType, sub)) || (size != 0 && size != f.Size) {
		return fault.Field(fault.Invalid, "photo", "fileType or fileSize does not match the upload")
	}
	return nil
}

// Delete removes one of the user's photos with its file: the photo and the
// file record, then the blob. fault.NotFound when it is not the user's
// photo.
func (s *Service) Delete(ctx context.Context, userID, fileID string) error {
	err := s.Store.DeletePhoto(ctx, userID, fileID)
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound)
	}
	if err != nil {
		return core.StoreError("photos: delete", err)
	}
	if err := s.Files.Delete(ctx, userID, fileID); err != nil {
		if fe, ok := fault.As(err); ok && fe.Code == fault.NotFound {
			return nil // the file was gone already
		}
		return err
	}
	return nil
}

// List returns the user's photos in the order added.
func (s *Service) List(ctx context.Context, userID string) ([]store.File, error) {
	fs, err := s.Store.UserPhotos(ctx, userID)
	if err != nil {
		return nil, core.StoreError("photos: list", err)
	}
	return fs, nil
}

// Visible is the files service's Visibility: a photo is readable by any
// signed-in user while its owner is active and not in privacy mode.
func (s *Service) Visible(ctx context.Context, f store.File, viewerID string) (bool, error) {
	if viewerID == "" {
		return false, nil
	}
	owner, err := s.Store.PhotoOwner(ctx, f.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, core.StoreError("photos: owner", err)
	}
	u, err := s.Store.UserByID(ctx, owner)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, core.StoreError("photos: owner", err)
	}
	if u.State != store.StateActive {
		return false, nil
	}
	p, err := s.Store.Profile(ctx, owner)
	if err != nil {
		return false, core.StoreError("photos: owner profile", err)
	}
	return p.PrivacyMode == 0, nil
}

// UserBlobs lists the file ids of everything the user uploaded, for an
// account deletion to remove after its transaction (DiscardBlobs).
func (s *Service) UserBlobs(ctx context.Context, userID string) ([]string, error) {
	return s.Files.UserBlobs(ctx, userID)
}

// DiscardBlobs removes the blobs of ids, whose records are gone.
func (s *Service) DiscardBlobs(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.Files.Discard(ctx, ids...)
}
