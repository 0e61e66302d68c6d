package vault

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// coverStore puts one cover object beside every object the Vault puts while it
// hands out cover ids, as the Cloak's layer does.
type coverStore struct {
	domain.BlobStore
	v *Vault

	mu   sync.Mutex
	took []domain.ObjectID
}

func (s *coverStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := s.BlobStore.Put(ctx, id, data); err != nil {
		return err
	}
	s.mu.Lock()
	v := s.v
	s.mu.Unlock()
	if v == nil {
		return nil
	}
	if c, ok := v.CoverID(); ok {
		if err := s.BlobStore.Put(ctx, c, bytes.Repeat([]byte{0xc0}, len(data))); err != nil {
			return err
		}
		s.mu.Lock()
		s.took = append(s.took, c)
		s.mu.Unlock()
	}
	return nil
}

func (s *coverStore) taken() []domain.ObjectID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]domain.ObjectID{}, s.took...)
}

// The cover objects a write takes are garbage of the manifest it commits: gone
// once it returns, and no id is handed out outside a write.
func TestCoverWritesAreRemovedWithTheWritesGarbage(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cs := &coverStore{BlobStore: fs}
	cfg := newCfg(cs)
	v := mustCreate(t, cfg)
	cs.mu.Lock()
	cs.v = v
	cs.mu.Unlock()
	if _, ok := v.CoverID(); ok {
		t.Fatal("a cover id was handed out with no write under way")
	}
	if err := v.Put(ctx, "big", bytes.NewReader(make([]byte, 3<<20))); err != nil {
		t.Fatal(err)
	}
	if len(cs.taken()) == 0 {
		t.Fatal("no cover id was handed out during a streamed write")
	}
	if _, ok := v.CoverID(); ok {
		t.Fatal("a cover id was handed out after the write")
	}
	for _, id := range cs.taken() {
		if _, ok := fs.objs[id]; ok {
			t.Fatalf("cover object %x survived the commit", id[:4])
		}
	}
	exactlyReferenced(t, newCfg(fs), fs)
}

// A write that dies after its cover writes leaves them to whoever collects its
// intent: the collection deletes them with its data.
func TestCoverWritesOfAnAbandonedWriteAreCollected(t *testing.T) {
	ctx := context.Background()
	fs := newFakeStore()
	cs := &coverStore{BlobStore: fs}
	cfgA := newCfg(cs)
	cfgA.Holder = "host-1:100"
	a := mustCreate(t, cfgA)
	cs.mu.Lock()
	cs.v = a
	cs.mu.Unlock()
	// A's commit is lost and the store stops answering A: the outcome is unknown,
	// so A keeps everything it wrote, cover objects included.
	loseCommitThenGoDown(fs)
	err := a.Put(ctx, "big", bytes.NewReader(make([]byte, 3<<20)))
	if !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("A's Put with its commit lost: %v, want ErrOutcomeUnknown", err)
	}
	fs.cas, fs.getv = nil, nil
	took := cs.taken()
	if len(took) == 0 {
		t.Fatal("no cover id was handed out")
	}
	for _, id := range took {
		if _, ok := fs.objs[id]; !ok {
			t.Fatalf("cover object %x deleted after an unknown outcome", id[:4])
		}
	}
	// B finds A's holder gone, drops its intent and collects what it wrote.
	cfgB := newCfg(fs)
	cfgB.Holder = "host-1:200"
	cfgB.HolderGone = func(h string) bool { return h == "host-1:100" }
	b := mustOpen(t, cfgB)
	if err := b.Store(ctx, "b", []byte("b")); err != nil {
		t.Fatal(err)
	}
	for _, id := range took {
		if _, ok := fs.objs[id]; ok {
			t.Fatalf("cover object %x of the abandoned write survived its collection", id[:4])
		}
	}
	exactlyReferenced(t, cfgB, fs)
}
