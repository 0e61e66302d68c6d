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
