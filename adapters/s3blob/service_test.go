package s3blob_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ai-pantheon/aegis/adapters/s3blob"
)

// The service tests run against a real S3-compatible server. `make test-services`
// starts one and sets these variables; without them the tests skip, unless
// AEGIS_TEST_SERVICES=1 says the services were meant to be there.
const (
	envS3URL    = "AEGIS_TEST_S3_URL"
	envServices = "AEGIS_TEST_SERVICES"
)

// serviceConfig returns the configuration of the test server (credentials from
// the AWS variables), under a prefix of its own for this test.
func serviceConfig(tb testing.TB) s3blob.Config {
	tb.Helper()
	raw := os.Getenv(envS3URL)
	if raw == "" {
		if os.Getenv(envServices) == "1" {
			tb.Fatalf("s3blob service suite: %s is not set although %s=1", envS3URL, envServices)
		}
		tb.Skipf("s3blob service suite not run: %s is not set; `make test-services` runs it against a real S3 server", envS3URL)
	}
	cfg, err := s3blob.ConfigFromEnv(raw, nil)
	if err != nil {
		tb.Fatalf("%s: %v", envS3URL, err)
	}
	cfg.Prefix = joinPrefix(cfg.Prefix, "t-"+randomHex(tb, 8))
	cfg.RequestTimeout = 30 * time.Second
	return cfg
}

func joinPrefix(a, b string) string {
	if a == "" {
		return b
	}
	return a + "/" + b
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// openStore opens cfg and registers its removal: every object under its prefix
// is deleted when the test ends.
func openStore(tb testing.TB, cfg s3blob.Config) *s3blob.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := s3blob.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("Open(%s): %v", cfg, err)
	}
	tb.Cleanup(func() {
		removePrefix(tb, cfg)
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawClient is a plain minio-go client of the test server, to look at what the
// store wrote.
func rawClient(tb testing.TB, cfg s3blob.Config) *minio.Client {
	tb.Helper()
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// removePrefix deletes every key under cfg.Prefix.
func removePrefix(tb testing.TB, cfg s3blob.Config) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := rawClient(tb, cfg)
	objs := c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix + "/", Recursive: true})
	for e := range c.RemoveObjects(ctx, cfg.Bucket, objs, minio.RemoveObjectsOptions{}) {
		tb.Errorf("cleanup of %s: %v", e.ObjectName, e.Err)
	}
}
