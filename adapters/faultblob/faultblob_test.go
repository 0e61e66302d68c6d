package faultblob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/faultblob"
	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
)

// Without an armed fault the wrapper is a BlobStore like any other: the
// conformance suite passes over memblob and fsblob, with and without their
// optional interfaces, and with reordering on.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    *faultblob.Options
		reorder bool
	}{
		{"mirror", nil, false},
		{"hidden", &faultblob.Options{HideLocker: true, HideBatcher: true}, false},
		{"reordered", nil, true},
	} {
		t.Run("memblob/"+tc.name, func(t *testing.T) {
			blobstoretest.Run(t, func(*testing.T) domain.BlobStore {
				s, c := faultblob.Wrap(memblob.Open(), tc.opts)
				c.Reorder(tc.reorder)
				return s
			})
		})
		t.Run("fsblob/"+tc.name, func(t *testing.T) {
			blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
				inner, err := fsblob.Open(t.TempDir(), &fsblob.Options{Create: true})
				if err != nil {
					t.Fatal(err)
				}
				s, c := faultblob.Wrap(inner, tc.opts)
				c.Reorder(tc.reorder)
				return s
			})
		})
	}
}

// noExtras is a BlobStore with neither Locker nor Batcher.
type noExtras struct{ domain.BlobStore }

func TestShapeMirrorsInner(t *testing.T) {
	for _, tc := range []struct {
		name                string
		inner               domain.BlobStore
		opts                *faultblob.Options
		wantLock, wantBatch bool
	}{
		{"memblob", memblob.Open(), nil, true, true},
		{"memblob without batcher", memblob.Open(), &faultblob.Options{HideBatcher: true}, true, false},
		{"memblob without locker", memblob.Open(), &faultblob.Options{HideLocker: true}, false, true},
		{"plain", noExtras{memblob.Open()}, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := faultblob.Wrap(tc.inner, tc.opts)
			_, isLocker := s.(domain.Locker)
			_, isBatcher := s.(domain.Batcher)
			if isLocker != tc.wantLock || isBatcher != tc.wantBatch {
				t.Fatalf("Locker %v Batcher %v, want %v %v", isLocker, isBatcher, tc.wantLock, tc.wantBatch)
			}
		})
	}
}

func newID(t *testing.T) domain.ObjectID {
	t.Helper()
	id, err := domain.NewObjectID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestFailNth(t *testing.T) {
	ctx := context.Background()
	inner := memblob.Open()
	s, c := faultblob.Wrap(inner, nil)
	ids := []domain.ObjectID{newID(t), newID(t), newID(t)}

	c.Arm(faultblob.Fault{Op: faultblob.OpPut, N: 2, Kind: faultblob.Fail})
	// A Get does not count towards a Put fault.
	if _, err := s.Get(ctx, ids[0]); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get of an absent object: %v", err)
	}
	if err := s.Put(ctx, ids[0], []byte("one")); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	err := s.Put(ctx, ids[1], []byte("two"))
	if !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("second Put: %v, want the injected fault", err)
	}
	if _, err := inner.Get(ctx, ids[1]); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a failed Put reached the inner store: %v", err)
	}
	ev, ok := c.Fired()
	if !ok || ev.Op != faultblob.OpPut || ev.ID != ids[1] {
		t.Fatalf("Fired() = %+v, %v", ev, ok)
	}
	// Spent: the next Put goes through.
	if err := s.Put(ctx, ids[2], []byte("three")); err != nil {
		t.Fatalf("Put after the fault fired: %v", err)
	}
	if got, want := c.Count(faultblob.OpPut), 3; got != want {
		t.Fatalf("Count(put) = %d, want %d", got, want)
	}
	if got, want := c.Count(faultblob.OpAny), 4; got != want {
		t.Fatalf("Count(any) = %d, want %d", got, want)
	}
	c.Reset()
	if c.Count(faultblob.OpAny) != 0 {
		t.Fatal("Reset kept counts")
	}
}

func TestFailAfterApply(t *testing.T) {
	ctx := context.Background()
	inner := memblob.Open()
	s, c := faultblob.Wrap(inner, nil)
	id := newID(t)

	c.Arm(faultblob.Fault{N: 1, Kind: faultblob.FailAfterApply})
	if err := s.Put(ctx, id, []byte("applied")); !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("Put: %v, want the injected fault", err)
	}
	if got, err := inner.Get(ctx, id); err != nil || string(got) != "applied" {
		t.Fatalf("the Put did not take effect: %q, %v", got, err)
	}

	c.Arm(faultblob.Fault{Op: faultblob.OpCAS, N: 1, Kind: faultblob.FailAfterApply})
	hdr := newID(t)
	if _, err := s.CompareAndSwap(ctx, hdr, "", []byte("v1")); !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("CompareAndSwap: %v, want the injected fault", err)
	}
	if got, _, err := inner.GetVersioned(ctx, hdr); err != nil || string(got) != "v1" {
		t.Fatalf("the swap did not take effect: %q, %v", got, err)
	}

	c.Arm(faultblob.Fault{Op: faultblob.OpDeleteBatch, N: 1, Kind: faultblob.FailAfterApply})
	if err := s.(domain.Batcher).DeleteBatch(ctx, []domain.ObjectID{id}); !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("DeleteBatch: %v, want the injected fault", err)
	}
	if _, err := inner.Get(ctx, id); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the DeleteBatch did not take effect: %v", err)
	}

	// A lock that is taken and lost is released again.
	c.Arm(faultblob.Fault{Op: faultblob.OpLock, N: 1, Kind: faultblob.FailAfterApply})
	if _, err := s.(domain.Locker).Lock(ctx); !errors.Is(err, faultblob.ErrInjected) {
		t.Fatalf("Lock: %v, want the injected fault", err)
	}
	unlock, err := inner.Lock(ctx)
	if err != nil {
		t.Fatalf("the lock stayed held: %v", err)
	}
	_ = unlock()
}

func TestShortRead(t *testing.T) {
	ctx := context.Background()
	inner := memblob.Open()
	s, c := faultblob.Wrap(inner, nil)
	id := newID(t)
	data := bytes.Repeat([]byte("0123456789"), 100)
	if err := s.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	// A ShortRead of any operation counts reads only: the Delete in between does
	// not use it up.
	c.Arm(faultblob.Fault{N: 2, Kind: faultblob.ShortRead})
	if got, err := s.Get(ctx, id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("first read: %d bytes, %v", len(got), err)
	}
	if err := s.Delete(ctx, newID(t)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Delete of an absent object: %v", err)
	}
	got, ver, err := s.GetVersioned(ctx, id)
	if err != nil || !bytes.Equal(got, data[:len(data)/2]) || ver == "" {
		t.Fatalf("short read: %d bytes, version %q, %v", len(got), ver, err)
	}
	if got, err := s.Get(ctx, id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the fault: %d bytes, %v", len(got), err)
	}
}

func TestArmRefusesImpossibleFaults(t *testing.T) {
	_, c := faultblob.Wrap(memblob.Open(), nil)
	for _, f := range []faultblob.Fault{
		{N: 0, Kind: faultblob.Fail},
		{N: 1},
		{Op: faultblob.OpPut, N: 1, Kind: faultblob.ShortRead},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Arm(%+v) did not panic", f)
				}
			}()
			c.Arm(f)
		}()
	}
}

func TestReorder(t *testing.T) {
	ctx := context.Background()
	inner := memblob.Open()
	s, c := faultblob.Wrap(inner, &faultblob.Options{Seed: 7})
	c.Reorder(true)
	want := map[domain.ObjectID]bool{}
	var objs []domain.Object
	for range 64 {
		id := newID(t)
		want[id] = true
		objs = append(objs, domain.Object{ID: id, Data: id[:]})
	}
	if err := s.(domain.Batcher).PutBatch(ctx, objs); err != nil {
		t.Fatal(err)
	}
	var order []domain.ObjectID
	if err := s.List(ctx, func(id domain.ObjectID) error {
		order = append(order, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var plain []domain.ObjectID
	if err := inner.List(ctx, func(id domain.ObjectID) error {
		plain = append(plain, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(order) != len(want) {
		t.Fatalf("listed %d ids, want %d", len(order), len(want))
	}
	for _, id := range order {
		if !want[id] {
			t.Fatalf("listed an id never put: %s", id)
		}
		delete(want, id)
	}
	same := true
	for i := range order {
		same = same && order[i] == plain[i]
	}
	if same {
		t.Fatal("the reordered listing is in the inner store's order")
	}
	// An error from fn still stops the listing.
	stop := errors.New("stop")
	n := 0
	if err := s.List(ctx, func(domain.ObjectID) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with a failing fn: %v after %d calls", err, n)
	}
}
