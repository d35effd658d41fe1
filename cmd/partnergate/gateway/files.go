package gateway

import (
	"context"
	"fmt"

	"partnergate/core/files"
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
