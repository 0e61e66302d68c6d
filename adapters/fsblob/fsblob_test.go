//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
)

func TestConformance(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
		s, err := fsblob.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestGetRefusesAFileLargerThanAnyObject(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := domain.NewObjectID(nil)
	if err := s.Put(context.Background(), id, []byte("x")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "objects", id.String()[:2], id.String())
	if err := os.Truncate(file, domain.MaxObjectSize+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), id); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("Get of an oversized file: %v, want ErrIntegrity", err)
	}
}

// A batch that mixes new objects, objects that replace existing ones and new
// shard directories leaves every object with its new bytes and no temp file.
func TestPutBatchNewAndReplaced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	var objs []domain.Object
	for i := range 40 {
		id, _ := domain.NewObjectID(nil)
		if i%3 == 0 {
			if err := s.Put(ctx, id, []byte("old bytes")); err != nil {
				t.Fatal(err)
			}
		}
		objs = append(objs, domain.Object{ID: id, Data: []byte{byte(i), 1, 2, 3}})
	}
	if err := s.PutBatch(ctx, objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		got, err := s.Get(ctx, o.ID)
		if err != nil || string(got) != string(o.Data) {
			t.Fatalf("object %s: %q, %v; want %q", o.ID, got, err, o.Data)
		}
	}
	err = filepath.WalkDir(filepath.Join(dir, "objects"), func(path string, d os.DirEntry, err error) error {
		if err == nil && len(d.Name()) > 5 && d.Name()[:5] == ".tmp-" {
			t.Errorf("temp file left: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
