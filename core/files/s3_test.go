package files

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestS3 runs the blob suite over a real S3 HTTP conversation: gofakes3
// (MIT), an S3 server written in Go, listening on a loopback port, spoken
// to by minio-go exactly as a production bucket is (SigV4, path style).
func TestS3(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("pg-test"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	b, err := OpenS3(ctx, S3Config{Endpoint: srv.URL, Bucket: "pg-test", Region: "us-east-1",
		AccessKey: "test", SecretKey: "test-secret", PathStyle: true, Prefix: "pg/"})
	if err != nil {
		t.Fatal(err)
	}
	testBlobs(t, b)

	t.Run("PrefixAndPrivate", func(t *testing.T) {
		if err := b.Put(ctx, "f/where", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.HeadObject("pg-test", "pg/f/where"); err != nil {
			t.Fatalf("object not under the prefix: %v", err)
		}
	})
	t.Run("MissingBucket", func(t *testing.T) {
		_, err := OpenS3(ctx, S3Config{Endpoint: srv.URL, Bucket: "absent", Region: "us-east-1",
			AccessKey: "test", SecretKey: "test-secret", PathStyle: true})
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("BadPrefix", func(t *testing.T) {
		if _, err := OpenS3(ctx, S3Config{Endpoint: srv.URL, Bucket: "pg-test", Prefix: "noslash"}); err == nil {
			t.Fatal("a prefix without a trailing / was accepted")
		}
	})
}

// TestS3External runs the same suite against an S3-compatible server of
// the environment (SeaweedFS, versitygw, Ceph...) named by
// PARTNERGATE_TEST_S3 = http://access:secret@host:port/bucket.
func TestS3External(t *testing.T) {
	u := os.Getenv("PARTNERGATE_TEST_S3")
	if u == "" {
		t.Skip("PARTNERGATE_TEST_S3 unset (http://access:secret@host:port/bucket of an S3-compatible server); TestS3 covers the S3 protocol with an in-process loopback server")
	}
	cfg, err := parseTestS3(u)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	testBlobs(t, b)
}

func parseTestS3(u string) (S3Config, error) {
	cfg := S3Config{Region: "us-east-1", PathStyle: true, Prefix: "partnergate-test/"}
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return cfg, errorf("want http://access:secret@host:port/bucket")
	}
	cred, rest, _ := strings.Cut(rest, "@")
	cfg.AccessKey, cfg.SecretKey, _ = strings.Cut(cred, ":")
	host, bucket, _ := strings.Cut(rest, "/")
	cfg.Endpoint, cfg.Bucket, cfg.Insecure = host, strings.Trim(bucket, "/"), true
	return cfg, nil
}

type errorf string

func (e errorf) Error() string { return string(e) }
