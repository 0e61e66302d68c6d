package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ai-pantheon/aegis/adapters/s3blob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
)

func TestConformance(t *testing.T) {
	base := serviceConfig(t)
	blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
		cfg := base
		cfg.Prefix = joinPrefix(base.Prefix, randomHex(t, 8))
		return openStore(t, cfg)
	})
}

// The fallback for servers without conditional writes passes the same suite
// (forced here on a server that has them).
func TestConformanceSingleProcessCAS(t *testing.T) {
	base := serviceConfig(t)
	base.CAS = s3blob.CASSingleProcess
	blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
		cfg := base
		cfg.Prefix = joinPrefix(base.Prefix, randomHex(t, 8))
		return openStore(t, cfg)
	})
}

func newID(t testing.TB) domain.ObjectID {
	t.Helper()
	id, err := domain.NewObjectID(nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Objects are stored at "<prefix>/<64 hex of the id>" with exactly the bytes
// given, and the version is the object's ETag.
func TestKeyLayoutAndVersion(t *testing.T) {
	cfg := serviceConfig(t)
	s := openStore(t, cfg)
	ctx := t.Context()
	id := newID(t)
	data := []byte("sealed bytes")
	v, err := s.CompareAndSwap(ctx, id, "", data)
	if err != nil {
		t.Fatal(err)
	}
	c := rawClient(t, cfg)
	info, err := c.StatObject(ctx, cfg.Bucket, cfg.Prefix+"/"+id.String(), minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("the object is not at <prefix>/<id>: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Fatalf("stored %d bytes, want %d", info.Size, len(data))
	}
	if domain.Version(info.ETag) != v {
		t.Fatalf("version %q, ETag %q", v, info.ETag)
	}
	if got := s.Config().Prefix; got != cfg.Prefix {
		t.Fatalf("Config().Prefix = %q, want %q", got, cfg.Prefix)
	}
}

// A store lists only ids directly under its prefix: not the objects of a store
// on a longer prefix, nor keys that are not ids.
func TestListIsConfinedToThePrefix(t *testing.T) {
	cfg := serviceConfig(t)
	outer := openStore(t, cfg)
	innerCfg := cfg
	innerCfg.Prefix = cfg.Prefix + "/inner"
	inner := openStore(t, innerCfg)
	ctx := t.Context()
	mine, theirs := newID(t), newID(t)
	if err := outer.Put(ctx, mine, []byte("outer")); err != nil {
		t.Fatal(err)
	}
	if err := inner.Put(ctx, theirs, []byte("inner")); err != nil {
		t.Fatal(err)
	}
	c := rawClient(t, cfg)
	if _, err := c.PutObject(ctx, cfg.Bucket, cfg.Prefix+"/not-an-id", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var listed []domain.ObjectID
	if err := outer.List(ctx, func(id domain.ObjectID) error { listed = append(listed, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != mine {
		t.Fatalf("List yielded %v, want only %s", listed, mine)
	}
	if _, err := outer.Get(ctx, theirs); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get of another prefix's object: %v, want ErrNotFound", err)
	}
}

// A CompareAndSwap from one Store is seen by another Store on the same prefix
// (two replicas): the second one's stale swap conflicts.
func TestCASAcrossStores(t *testing.T) {
	cfg := serviceConfig(t)
	a := openStore(t, cfg)
	b := openStore(t, cfg)
	ctx := t.Context()
	id := newID(t)
	v1, err := a.CompareAndSwap(ctx, id, "", []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CompareAndSwap(ctx, id, "", []byte("b creates")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second create from another store: %v, want ErrConflict", err)
	}
	if _, err := b.CompareAndSwap(ctx, id, v1, []byte("v2 from b")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CompareAndSwap(ctx, id, v1, []byte("stale a")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("stale swap: %v, want ErrConflict", err)
	}
	got, err := a.Get(ctx, id)
	if err != nil || !bytes.Equal(got, []byte("v2 from b")) {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestOpenWrongSecretKey(t *testing.T) {
	cfg := serviceConfig(t)
	cfg.SecretKey = "wrong-" + cfg.SecretKey
	_, err := s3blob.Open(t.Context(), cfg)
	if !errors.Is(err, s3blob.ErrCredentials) {
		t.Fatalf("Open with a wrong secret key: %v, want ErrCredentials", err)
	}
	t.Log(err)
}

func TestOpenUnknownAccessKey(t *testing.T) {
	cfg := serviceConfig(t)
	cfg.AccessKey = "AKIAUNKNOWN" + strings.ToUpper(randomHex(t, 4))
	_, err := s3blob.Open(t.Context(), cfg)
	if !errors.Is(err, s3blob.ErrCredentials) {
		t.Fatalf("Open with an unknown access key: %v, want ErrCredentials", err)
	}
	if !strings.Contains(err.Error(), cfg.AccessKey) || strings.Contains(err.Error(), cfg.SecretKey) {
		t.Fatalf("the error should name the access key and not the secret: %v", err)
	}
}

func TestOpenMissingBucket(t *testing.T) {
	cfg := serviceConfig(t)
	cfg.Bucket = "aegis-missing-" + randomHex(t, 6)
	_, err := s3blob.Open(t.Context(), cfg)
	if !errors.Is(err, s3blob.ErrNoBucket) || !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Open of a missing bucket: %v, want ErrNoBucket wrapping domain.ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), cfg.Bucket) {
		t.Fatalf("the error does not name the bucket: %v", err)
	}
}

// The operations of an open store wrap the right sentinels too: a bucket
// removed under a running store is ErrNoBucket, not "object not found".
func TestOperationsOnABucketThatWentAway(t *testing.T) {
	cfg := serviceConfig(t)
	c := rawClient(t, cfg)
	ctx := t.Context()
	bucket := "aegis-gone-" + randomHex(t, 6)
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		t.Fatalf("creating a bucket for this test: %v", err)
	}
	cfg.Bucket = bucket
	s, err := s3blob.Open(ctx, cfg)
	if err != nil {
		_ = c.RemoveBucket(ctx, bucket)
		t.Fatal(err)
	}
	defer s.Close()
	if err := c.RemoveBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, newID(t))
	if !errors.Is(err, s3blob.ErrNoBucket) {
		t.Fatalf("Get after the bucket was removed: %v, want ErrNoBucket", err)
	}
	if err := s.Put(ctx, newID(t), []byte("x")); !errors.Is(err, s3blob.ErrNoBucket) {
		t.Fatalf("Put after the bucket was removed: %v, want ErrNoBucket", err)
	}
	if _, err := s.CompareAndSwap(ctx, newID(t), "", []byte("x")); err == nil || errors.Is(err, domain.ErrConflict) {
		t.Fatalf("CompareAndSwap after the bucket was removed: %v, want an error that is not ErrConflict", err)
	}
}

// Open leaves no probe object behind, and a probe object left by a crashed
// Open is not listed.
func TestOpenLeavesNoProbe(t *testing.T) {
	cfg := serviceConfig(t)
	openStore(t, cfg)
	c := rawClient(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for obj := range c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix + "/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		t.Errorf("Open left %s behind", obj.Key)
	}
}

func BenchmarkPut1KiB(b *testing.B) {
	s := openStore(b, serviceConfig(b))
	data := bytes.Repeat([]byte{0xa5}, 1024)
	ctx := context.Background()
	var id domain.ObjectID
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		id = newID(b)
		if err := s.Put(ctx, id, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/put")
	checkGet(b, s, id, data)
}

// checkGet is the benchmarks' check of their result, once after the loop: id
// reads back as want.
func checkGet(b *testing.B, s *s3blob.Store, id domain.ObjectID, want []byte) {
	b.Helper()
	got, err := s.Get(context.Background(), id)
	if err != nil || !bytes.Equal(got, want) {
		b.Fatalf("Get of what was stored: %d bytes (%d stored, equal: %v), %v", len(got), len(want), bytes.Equal(got, want), err)
	}
}

func BenchmarkGet1KiB(b *testing.B) {
	s := openStore(b, serviceConfig(b))
	data := bytes.Repeat([]byte{0xa5}, 1024)
	ctx := context.Background()
	id := newID(b)
	if err := s.Put(ctx, id, data); err != nil {
		b.Fatal(err)
	}
	var got []byte
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if got, err = s.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/get")
	if !bytes.Equal(got, data) {
		b.Fatal("Get returned other bytes than were stored")
	}
}

func BenchmarkCompareAndSwap1KiB(b *testing.B) {
	s := openStore(b, serviceConfig(b))
	data := bytes.Repeat([]byte{0xa5}, 1024)
	ctx := context.Background()
	id := newID(b)
	v, err := s.CompareAndSwap(ctx, id, "", data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		data[0] = byte(i) // a new content, a new ETag
		i++
		if v, err = s.CompareAndSwap(ctx, id, v, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/cas")
	checkGet(b, s, id, data)
}
