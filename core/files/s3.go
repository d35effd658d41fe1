package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is an S3-compatible bucket (AWS S3, SeaweedFS, Ceph, R2, ...).
type S3Config struct {
	// Endpoint is host[:port], or a URL whose scheme says http or https.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// Prefix is put before every blob name ("partnergate/"); may be "".
	Prefix string
	// PathStyle addresses the bucket in the path (most self-hosted
	// servers) rather than in the host name.
	PathStyle bool
	// Insecure speaks plain HTTP; an http:// Endpoint sets it too. Use only
	// on a private network or loopback.
	Insecure bool
	// Transport, when set, carries the requests (tests).
	Transport http.RoundTripper
}

// S3 keeps blobs as objects in one bucket through minio-go. Objects are
// written private (no ACL is sent, so the bucket's own policy applies,
// which must not be public): the gateway serves the bytes itself, after
// its access check, and never hands out bucket URLs.
type S3 struct {
	cl     *minio.Client
	bucket string
	prefix string
}

var _ Blobs = (*S3)(nil)

// OpenS3 connects and checks that the bucket exists; it does not create
// it (a production bucket is provisioned with its policy, see
// docs/configuration.md).
func OpenS3(ctx context.Context, c S3Config) (*S3, error) {
	endpoint, secure := c.Endpoint, !c.Insecure
	switch {
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "http://"), false
	case strings.HasPrefix(endpoint, "https://"):
		endpoint = strings.TrimPrefix(endpoint, "https://")
	}
	endpoint = strings.TrimRight(endpoint, "/")
	if endpoint == "" || c.Bucket == "" {
		return nil, errors.New("files: s3: endpoint and bucket are required")
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		return nil, errors.New("files: s3: the prefix must end with /")
	}
	opts := &minio.Options{
		Creds:     credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:    secure,
		Region:    c.Region,
		Transport: c.Transport,
	}
	if c.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	cl, err := minio.New(endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("files: s3: %w", err)
	}
	ok, err := cl.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("files: s3: bucket %q: %w", c.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("files: s3: bucket %q does not exist", c.Bucket)
	}
	return &S3{cl: cl, bucket: c.Bucket, prefix: c.Prefix}, nil
}

// Put implements Blobs. A single PUT: S3 makes an object visible only
// once it is whole.
func (s *S3) Put(ctx context.Context, name string, data []byte) error {
	if !ValidName(name) {
		return ErrBadName
	}
	_, err := s.cl.PutObject(ctx, s.bucket, s.prefix+name, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", SendContentMd5: true, DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("files: s3: put: %w", err)
	}
	return nil
}

// Get implements Blobs.
func (s *S3) Get(ctx context.Context, name string, max int64) ([]byte, error) {
	if !ValidName(name) {
		return nil, ErrBadName
	}
	obj, err := s.cl.GetObject(ctx, s.bucket, s.prefix+name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Err("get", err)
	}
	defer obj.Close()
	st, err := obj.Stat()
	if err != nil {
		return nil, s3Err("get", err)
	}
	if st.Size > max {
		return nil, fmt.Errorf("files: s3: get: blob larger than %d bytes", max)
	}
	b, err := readMax(obj, max)
	if err != nil {
		return nil, s3Err("get", err)
	}
	return b, nil
}

// Delete implements Blobs. S3's DELETE of a missing key succeeds.
func (s *S3) Delete(ctx context.Context, name string) error {
	if !ValidName(name) {
		return ErrBadName
	}
	if err := s.cl.RemoveObject(ctx, s.bucket, s.prefix+name, minio.RemoveObjectOptions{}); err != nil {
		return s3Err("delete", err)
	}
	return nil
}

func s3Err(op string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return ErrNoBlob
	}
	return fmt.Errorf("files: s3: %s: %w", op, err)
}
