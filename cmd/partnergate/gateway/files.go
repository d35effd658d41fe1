package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"partnergate/core/documents"
	"partnergate/core/fault"
	"partnergate/core/files"
	filesns "partnergate/methods/files"
	"partnergate/methods/resource"
	"partnergate/rpc"
)

// openFiles builds the blob storage the settings name and the files
// service over it (m.files). Call it after openStore.
func (m *Main) openFiles(ctx context.Context) error {
	c := &m.Config
	policy := c.Files.Policy
	if policy.MaxSize == 0 {
		policy = files.DefaultPolicy
	}
	var blobs files.Blobs
	switch c.Files.Backend {
	case "", "fs":
		fs, err := files.OpenFS(c.filesDir())
		if err != nil {
			return err
		}
		blobs, m.closeFiles = fs, func() { _ = fs.Close() }
	case "s3":
		s3, err := files.OpenS3(ctx, c.Files.S3)
		if err != nil {
			return err
		}
		blobs = s3
	default:
		return fmt.Errorf("files: unknown backend %q", c.Files.Backend)
	}
	m.files = &files.Service{Store: m.store, Blobs: blobs, Policy: policy, Log: m.Log}
	return nil
}

// Files is the uploaded-files service, after Open.
func (m *Main) Files() *files.Service { return m.files }

// registerFiles registers files.*, resource.documents.* and
// resource.data_storage.create on reg and mounts GET /files/{id} on
// mux, which serves a file's bytes to whom may see it (the owner, or
// whoever m.files.Visible admits) after authn found the caller.
func (m *Main) registerFiles(reg *rpc.Registry, mux *http.ServeMux, authn rpc.Authenticator) error {
	svc := &filesns.Service{Files: m.files}
	if err := reg.Register(svc, svc.Methods()...); err != nil {
		return err
	}
	mux.Handle("GET /files/{id}", &fileServer{files: m.files, authn: authn, log: m.Log, trusted: m.Config.TrustedProxies})
	docs := &documents.Service{Store: m.store, Files: m.files, MaxPerUser: m.Config.Files.MaxDocuments, Titles: m.Config.Files.StorageTitles, Activity: m.activity}
	for _, s := range []interface{ Methods() []rpc.Method }{
		&resource.Documents{Documents: docs},
		&resource.DataStorage{Documents: docs},
	} {
		if err := reg.Register(s, s.Methods()...); err != nil {
			return err
		}
	}
	m.documents = docs
	return nil
}

// Documents is seed 002's documents and data-storage service, after Open
// (admin.users.documents.pending and the verification use it).
func (m *Main) Documents() *documents.Service { return m.documents }

// fileServer is GET /files/{id}.
type fileServer struct {
	files   *files.Service
	authn   rpc.Authenticator
	log     zerolog.Logger
	trusted []netip.Prefix
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Referrer-Policy", "no-referrer")
	c := &rpc.Caller{Kind: rpc.CallerNone, IP: rpc.ClientIP(r, s.trusted), UserAgent: r.UserAgent()}
	if err := s.authn.Authenticate(r.Context(), r, nil, c); err != nil {
		s.fail(w, err)
		return
	}
	viewer := ""
	if c.Kind == rpc.CallerUser {
		viewer = c.UserID
	}
	f, b, err := s.files.Open(r.Context(), r.PathValue("id"), viewer)
	if err != nil {
		s.fail(w, err)
		return
	}
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("ETag", `"`+f.SHA256+`"`)
	disposition := "inline"
	if f.ContentType == files.TypePDF {
		// A PDF is downloaded rather than rendered in the gateway's origin.
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition+`; filename="`+f.ID+`.`+extension(f.ContentType)+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func extension(contentType string) string {
	_, sub, _ := strings.Cut(contentType, "/")
	return sub
}

// fail answers a refused read: 401 for credentials presented and refused,
// 503 when a store is down, and 404 for everything else, an existing file
// the caller may not see included.
func (s *fileServer) fail(w http.ResponseWriter, err error) {
	fe, ok := fault.As(err)
	switch {
	case ok && fe.Code == fault.Unavailable:
		s.log.Warn().Err(err).Msg("file read failed")
		writeStatus(w, http.StatusServiceUnavailable, `{"error":"unavailable"}`)
	case ok && fe.Code != fault.NotFound:
		writeStatus(w, http.StatusUnauthorized, `{"error":"unauthorized"}`)
	case ok:
		writeStatus(w, http.StatusNotFound, `{"error":"not found"}`)
	default:
		s.log.Error().Err(err).Msg("file read failed")
		writeStatus(w, http.StatusInternalServerError, `{"error":"internal error"}`)
	}
}
