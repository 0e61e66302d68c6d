package vault

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// memStore is the store of the Check tests. Unlike fakeStore (commit_test.go) it
// can refuse to list, run a hook on every Get, report pinned versions, and edit
// objects behind the vault's back. Versions are content hashes. The Crypto of
// these tests is testCrypto (testcrypto_test.go).
type memStore struct {
	mu     sync.Mutex
	objs   map[domain.ObjectID][]byte
	noList bool                  // List fails with errors.ErrUnsupported
	onGet  func(domain.ObjectID) // called by Get and GetVersioned before reading, without the lock
	// pinned versions are reported whatever the bytes: a store whose versions are
	// not content hashes, edited behind its back.
	pinned map[domain.ObjectID]domain.Version
}

func newMemStore() *memStore { return &memStore{objs: map[domain.ObjectID][]byte{}} }

func (s *memStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[id] = slices.Clone(data)
	return nil
}

func (s *memStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, id)
	return b, err
}

func (s *memStore) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if s.onGet != nil {
		s.onGet(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[id]
	if !ok {
		return nil, "", fmt.Errorf("memstore: get %s: %w", id, domain.ErrNotFound)
	}
	if v, ok := s.pinned[id]; ok {
		return slices.Clone(b), v, nil
	}
	return slices.Clone(b), version(b), nil
}

func (s *memStore) Delete(ctx context.Context, id domain.ObjectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[id]; !ok {
		return fmt.Errorf("memstore: delete %s: %w", id, domain.ErrNotFound)
	}
	delete(s.objs, id)
	return nil
}

func (s *memStore) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if s.noList {
		return fmt.Errorf("memstore: list: %w", errors.ErrUnsupported)
	}
	s.mu.Lock()
	ids := slices.Collect(maps.Keys(s.objs))
	s.mu.Unlock()
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur domain.Version
	if b, ok := s.objs[id]; ok {
		cur = version(b)
	}
	if cur != expected {
		return "", fmt.Errorf("memstore: compare-and-swap %s: %w", id, domain.ErrConflict)
	}
	s.objs[id] = slices.Clone(data)
	return version(data), nil
}

// edit changes the stored bytes of id in place (no new version semantics: it is
// damage, not a write).
func (s *memStore) edit(t *testing.T, id domain.ObjectID, f func([]byte) []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[id]
	if !ok {
		t.Fatalf("edit: no object %s", id)
	}
	s.objs[id] = f(slices.Clone(b))
}

var _ domain.BlobStore = (*memStore)(nil)
