// Package files serves files.*: the upload that seed 003's photos point
// to (the seed's FILES section, left out of the dump). The bytes go to the
// blob storage of core/files; the type is what the magic bytes say.
package files

import (
	"net/http"
	"strings"

	"partnergate/core/files"
	"partnergate/methods/files/fileswire"
	"partnergate/rpc"
	"partnergate/store"
)

// Service is the files.* namespace.
type Service struct {
	Files *files.Service
}

// Methods declares the namespace for the registry.
func (s *Service) Methods() []rpc.Method {
	return []rpc.Method{
		{Name: "files.create", Go: "Create", Access: rpc.SessionUser, RateClass: "default", Positional: []string{"data"},
			Doc: "Uploads a file (base64; PNG, JPEG or WebP by its magic bytes; size and per-user count capped) and returns its id for users.me.photos.add."},
	}
}

// Create is files.create.
func (s *Service) Create(r *http.Request, p *fileswire.CreateParams, res *fileswire.File) error {
	ctx := r.Context()
	b, _, err := files.Decode(p.Data, s.Files.Policy.MaxSize, store.FileUpload)
	if err != nil {
		return err
	}
	f, err := s.Files.Create(ctx, rpc.CallerFrom(ctx).UserID, b)
	if err != nil {
		return err
	}
	*res = Present(f)
	return nil
}

// Present is the wire form of a file record.
func Present(f store.File) fileswire.File {
	_, sub, _ := strings.Cut(f.ContentType, "/")
	return fileswire.File{ID: f.ID, FileType: sub,
		FileSize: f.Size, ContentType: f.ContentType, SHA256: f.SHA256, URL: files.Path(f.ID), CreatedAt: f.Created.UTC()}
}
