package regression

import (
	"context"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// ambiguousCAS applies the CAS then reports an error, like an fsync failure after
// rename in fsblob, or a lost HTTP response.
type ambiguousCAS struct {
	*memblob.Store
	fail bool
}

func (s *ambiguousCAS) CompareAndSwap(ctx context.Context, id domain.ObjectID, exp domain.Version, data []byte) (domain.Version, error) {
	v, err := s.Store.CompareAndSwap(ctx, id, exp, data)
	if err == nil && s.fail {
		return "", errors.New("sync directory: input/output error")
	}
	return v, err
}

func cfg(s domain.BlobStore) vault.Config {
	return vault.Config{Store: s, Crypto: suite.New(kdf.InsecureTestPolicy())}
}

func TestAmbiguousCASKeepsVaultReadable(t *testing.T) {
	ctx := context.Background()
	st := &ambiguousCAS{Store: memblob.Open()}
	v, err := vault.Create(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "a", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// The header swap takes effect and then reports an error: the Vault reads the
	// header back, finds its own, and the Store succeeds.
	st.fail = true
	if err := v.Store(ctx, "b", []byte("world")); err != nil {
		t.Fatalf("Store after an applied header swap that reported an error: %v", err)
	}
	st.fail = false
	v2, err := vault.Open(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatalf("vault is bricked after an ambiguous CAS error: %v", err)
	}
	want := map[string]string{"a": "hello", "b": "world"}
	for name, h := range map[string]*vault.Vault{"the writing handle": v, "a fresh Open": v2} {
		for cat, content := range want {
			got, err := h.Load(ctx, cat)
			if err != nil || string(got) != content {
				t.Errorf("%s: Load(%q) = %q, %v; want %q", name, cat, got, err, content)
			}
		}
	}
}

// failCAS records the header it was asked to write and refuses it.
type failCAS struct {
	*memblob.Store
	fail bool
}

func (s *failCAS) CompareAndSwap(ctx context.Context, id domain.ObjectID, exp domain.Version, data []byte) (domain.Version, error) {
	if s.fail {
		return "", errors.New("network error")
	}
	return s.Store.CompareAndSwap(ctx, id, exp, data)
}

// recordingStore keeps a copy of every object ever put.
type recordingStore struct {
	*failCAS
	seen map[domain.ObjectID][]byte
}

func (s *recordingStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	s.seen[id] = append([]byte(nil), data...)
	return s.failCAS.Put(ctx, id, data)
}

func (s *recordingStore) PutBatch(ctx context.Context, objs []domain.Object) error {
	for _, o := range objs {
		s.seen[o.ID] = append([]byte(nil), o.Data...)
	}
	return s.failCAS.Store.PutBatch(ctx, objs)
}

func TestAbortedWriteCannotReplaceCommittedObjects(t *testing.T) {
	ctx := context.Background()
	st := &recordingStore{failCAS: &failCAS{Store: memblob.Open()}, seen: map[domain.ObjectID][]byte{}}
	v, err := vault.Create(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "pay", []byte("to alice: 0010")); err != nil {
		t.Fatal(err)
	}
	// An attempt that does not commit (store refuses the header swap).
	before := map[domain.ObjectID]bool{}
	for id := range st.seen {
		before[id] = true
	}
	st.fail = true
	if err := v.Store(ctx, "pay", []byte("to mallory:9999")[:14]); err == nil {
		t.Fatal("expected failure")
	}
	st.fail = false
	var aborted [][]byte
	for id, b := range st.seen {
		if !before[id] {
			aborted = append(aborted, b)
		}
	}
	// The user retries with other content; it commits.
	before2 := map[domain.ObjectID]bool{}
	for id := range st.seen {
		before2[id] = true
	}
	if err := v.Store(ctx, "pay", []byte("to alice: 0020")); err != nil {
		t.Fatal(err)
	}
	var committed []domain.ObjectID
	for id := range st.seen {
		if !before2[id] {
			committed = append(committed, id)
		}
	}
	// Attacker: put each aborted object under each committed id of the same size.
	for _, id := range committed {
		cur, _ := st.Store.Get(ctx, id)
		for _, a := range aborted {
			if len(a) == len(cur) {
				_ = st.Store.Put(ctx, id, a)
				v2, err := vault.Open(ctx, cfg(st), []byte("pw"))
				if err == nil {
					got, err := v2.Load(ctx, "pay")
					if err == nil && string(got) != "to alice: 0020" {
						t.Fatalf("undetected substitution: vault returns %q for the committed write", got)
					}
				}
				_ = st.Store.Put(ctx, id, cur)
			}
		}
	}
}
