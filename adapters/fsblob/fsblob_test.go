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

// PutBatchThenSwap: the batch and then the swap; a refused compare leaves the
// batch written and the swapped object as it was.
func TestPutBatchThenSwap(t *testing.T) {
	ctx := context.Background()
	s, err := fsblob.Open(t.TempDir(), &fsblob.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(k int) []domain.Object {
		var objs []domain.Object
		for i := range k {
			id, _ := domain.NewObjectID(nil)
			objs = append(objs, domain.Object{ID: id, Data: []byte{byte(i), 9}})
		}
		return objs
	}
	present := func(objs []domain.Object) {
		t.Helper()
		for _, o := range objs {
			if got, err := s.Get(ctx, o.ID); err != nil || string(got) != string(o.Data) {
				t.Fatalf("object %s: %q, %v", o.ID, got, err)
			}
		}
	}
	head, _ := domain.NewObjectID(nil)
	// Create if absent, with a batch.
	one := batch(5)
	v1, err := s.PutBatchThenSwap(ctx, one, head, "", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	present(one)
	if got, v, err := s.GetVersioned(ctx, head); err != nil || string(got) != "first" || v != v1 {
		t.Fatalf("after the first swap: %q %q %v (want version %q)", got, v, err, v1)
	}
	// Swap from the current version, with an empty batch too.
	v2, err := s.PutBatchThenSwap(ctx, nil, head, v1, []byte("second"))
	if err != nil {
		t.Fatal(err)
	}
	// A stale expected version: refused, the object unchanged.
	two := batch(3)
	if _, err := s.PutBatchThenSwap(ctx, two, head, v1, []byte("third")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("stale swap: %v, want ErrConflict", err)
	}
	if got, v, _ := s.GetVersioned(ctx, head); string(got) != "second" || v != v2 {
		t.Fatalf("after a refused swap: %q", got)
	}
	three := batch(4)
	if _, err := s.PutBatchThenSwap(ctx, three, head, v2, []byte("fourth")); err != nil {
		t.Fatal(err)
	}
	present(three)
	if got, _ := s.Get(ctx, head); string(got) != "fourth" {
		t.Fatalf("after the last swap: %q", got)
	}
}
