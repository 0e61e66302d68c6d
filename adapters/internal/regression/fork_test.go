package regression

import (
	"context"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// hostile records every CAS payload and can refuse CAS.
type hostile struct {
	*memblob.Store
	refuse  bool
	headers [][]byte
}

func (s *hostile) CompareAndSwap(ctx context.Context, id domain.ObjectID, exp domain.Version, data []byte) (domain.Version, error) {
	s.headers = append(s.headers, append([]byte(nil), data...))
	if s.refuse {
		return "", errors.New("boom")
	}
	return s.Store.CompareAndSwap(ctx, id, exp, data)
}

// An open Vault accepts a different root with the same epoch (a fork).
func TestOpenVaultRefusesSameEpochFork(t *testing.T) {
	ctx := context.Background()
	inner := memblob.Open()
	st := &hostile{Store: inner}
	v, err := vault.Create(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "x", []byte("one")); err != nil {
		t.Fatal(err)
	}
	snap := map[domain.ObjectID][]byte{}
	keep := func() {
		inner.List(ctx, func(id domain.ObjectID) error { b, _ := inner.Get(ctx, id); snap[id] = b; return nil })
	}
	// Attempt A is refused by the store, which keeps everything it was sent.
	st.refuse = true
	keepPut := &recorder{hostile: st, seen: snap}
	_ = keepPut
	// Use a vault over a recorder to retain the aborted objects.
	st.refuse = false
	keep()
	rec := &recorder{hostile: st, seen: snap}
	v.Close()
	v, err = vault.Open(ctx, cfg(rec), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	st.refuse = true
	if err := v.Store(ctx, "x", []byte("AAAA-aborted")); err == nil {
		t.Fatal("expected error")
	}
	hdrA := st.headers[len(st.headers)-1]
	st.refuse = false
	if err := v.Store(ctx, "x", []byte("BBBB-commit")); err != nil {
		t.Fatal(err)
	}
	got, _ := v.Load(ctx, "x")
	t.Logf("before fork: %q", got)
	// Restore the aborted objects and present header A (same epoch as B's).
	for id, b := range snap {
		if _, err := inner.Get(ctx, id); err != nil {
			inner.Put(ctx, id, b)
		}
	}
	hid := vault.HeaderID("")
	_, ver, _ := inner.GetVersioned(ctx, hid)
	if _, err := inner.CompareAndSwap(ctx, hid, ver, hdrA); err != nil {
		t.Fatal(err)
	}
	got, err = v.Load(ctx, "x")
	if err == nil {
		t.Fatalf("open vault silently switched to a forked state with the same epoch: %q", got)
	}
	t.Logf("detected: %v", err)
}

type recorder struct {
	*hostile
	seen map[domain.ObjectID][]byte
}

func (s *recorder) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	s.seen[id] = append([]byte(nil), data...)
	return s.hostile.Put(ctx, id, data)
}
func (s *recorder) PutBatch(ctx context.Context, objs []domain.Object) error {
	for _, o := range objs {
		s.seen[o.ID] = append([]byte(nil), o.Data...)
	}
	return s.hostile.Store.PutBatch(ctx, objs)
}

// An open Vault refuses a header of an older epoch put back together with every
// object it references (a rollback), instead of serving the older content. The
// rolled-back store is well formed: a fresh Open, which has nothing to compare
// with, reads the older content from it.
func TestOpenVaultRefusesRollback(t *testing.T) {
	ctx := context.Background()
	st := memblob.Open()
	v, err := vault.Create(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Store(ctx, "x", []byte("one")); err != nil {
		t.Fatal(err)
	}
	snap := map[domain.ObjectID][]byte{}
	if err := st.List(ctx, func(id domain.ObjectID) error {
		b, err := st.Get(ctx, id)
		snap[id] = b
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"two", "three"} {
		if err := v.Store(ctx, "x", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// Put back the objects of the first state that the later writes deleted, and
	// its header.
	hid := vault.HeaderID("")
	for id, b := range snap {
		if _, err := st.Get(ctx, id); errors.Is(err, domain.ErrNotFound) {
			if err := st.Put(ctx, id, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, ver, err := st.GetVersioned(ctx, hid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CompareAndSwap(ctx, hid, ver, snap[hid]); err != nil {
		t.Fatal(err)
	}
	fresh, err := vault.Open(ctx, cfg(st), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fresh.Load(ctx, "x"); err != nil || string(got) != "one" {
		t.Fatalf("a fresh Open of the rolled-back store: %q, %v; want the first state", got, err)
	}
	got, err := v.Load(ctx, "x")
	if err == nil {
		t.Fatalf("open vault silently rolled back to an older epoch: %q", got)
	}
	if !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("rollback reported as %v, want ErrIntegrity", err)
	}
	t.Logf("detected: %v", err)
}
