// Package observertest is the store's-eye view of the Cloak: a domain.BlobStore
// wrapper that records everything written to the store it wraps, and checks of
// what an observer of that store may learn (docs/threat-model.md). It imports
// only the domain.
package observertest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// Op is the kind of a recorded write.
type Op string

// Recorded operations.
const (
	OpPut    Op = "put"
	OpCAS    Op = "cas"
	OpDelete Op = "delete"
)

// Event is one write the store received.
type Event struct {
	Op   Op
	ID   domain.ObjectID
	Size int
	Data []byte // a copy; nil for deletes
}

// Store wraps a BlobStore and records every successful write. It forwards Lock
// when the wrapped store is a domain.Locker. It is safe for concurrent use.
type Store struct {
	inner domain.BlobStore

	mu     sync.Mutex
	events []Event
}

var (
	_ domain.BlobStore = (*Store)(nil)
	_ domain.Locker    = (*Store)(nil)
	_ domain.Batcher   = (*Store)(nil)
)

// Wrap returns a recording store over inner.
func Wrap(inner domain.BlobStore) *Store { return &Store{inner: inner} }

func (s *Store) record(e Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

// Put implements domain.BlobStore.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := s.inner.Put(ctx, id, data); err != nil {
		return err
	}
	s.record(Event{Op: OpPut, ID: id, Size: len(data), Data: bytes.Clone(data)})
	return nil
}

// Get implements domain.BlobStore.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	return s.inner.Get(ctx, id)
}

// Delete implements domain.BlobStore.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := s.inner.Delete(ctx, id); err != nil {
		return err
	}
	s.record(Event{Op: OpDelete, ID: id})
	return nil
}

// List implements domain.BlobStore.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	return s.inner.List(ctx, fn)
}

// GetVersioned implements domain.BlobStore.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return s.inner.GetVersioned(ctx, id)
}

// CompareAndSwap implements domain.BlobStore.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	v, err := s.inner.CompareAndSwap(ctx, id, expected, data)
	if err != nil {
		return v, err
	}
	s.record(Event{Op: OpCAS, ID: id, Size: len(data), Data: bytes.Clone(data)})
	return v, nil
}

// PutBatch implements domain.Batcher: the batch reaches the inner store (as one
// batch if it is a Batcher, else one Put at a time) and is recorded in the order
// the caller gave, which is the order the inner store receives it.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) error {
	if b, ok := s.inner.(domain.Batcher); ok {
		if err := b.PutBatch(ctx, objs); err != nil {
			return err
		}
	} else {
		for _, o := range objs {
			if err := s.inner.Put(ctx, o.ID, o.Data); err != nil {
				return err
			}
		}
	}
	for _, o := range objs {
		s.record(Event{Op: OpPut, ID: o.ID, Size: len(o.Data), Data: bytes.Clone(o.Data)})
	}
	return nil
}

// DeleteBatch implements domain.Batcher and records a delete per id.
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	if b, ok := s.inner.(domain.Batcher); ok {
		if err := b.DeleteBatch(ctx, ids); err != nil {
			return err
		}
	} else {
		for _, id := range ids {
			if err := s.inner.Delete(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return err
			}
		}
	}
	for _, id := range ids {
		s.record(Event{Op: OpDelete, ID: id})
	}
	return nil
}

// Lock implements domain.Locker by forwarding, or with no lock at all.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if l, ok := s.inner.(domain.Locker); ok {
		return l.Lock(ctx)
	}
	return func() error { return nil }, nil
}

// Events returns the recorded writes in the order they completed.
func (s *Store) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Mark returns the number of events recorded so far, for Since.
func (s *Store) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Since returns the events recorded after mark.
func (s *Store) Since(mark int) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events[mark:])
}

// Puts returns the Put events among events, in order.
func Puts(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Op == OpPut {
			out = append(out, e)
		}
	}
	return out
}

// Objects returns every object the wrapped store holds now.
func (s *Store) Objects(ctx context.Context) (map[domain.ObjectID][]byte, error) {
	var ids []domain.ObjectID
	if err := s.inner.List(ctx, func(id domain.ObjectID) error { ids = append(ids, id); return nil }); err != nil {
		return nil, err
	}
	out := make(map[domain.ObjectID][]byte, len(ids))
	for _, id := range ids {
		b, err := s.inner.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}

// CheckSizes fails unless every object written (Put or CompareAndSwap, the vault
// header included) and every object held now has a size the policy allows.
func (s *Store) CheckSizes(ctx context.Context, policy domain.PaddingPolicy) error {
	for i, e := range s.Events() {
		if e.Op != OpDelete && !policy.Allowed(e.Size) {
			return fmt.Errorf("write %d (%s %s) is %d bytes, not an allowed size", i, e.Op, e.ID, e.Size)
		}
	}
	objs, err := s.Objects(ctx)
	if err != nil {
		return err
	}
	for id, b := range objs {
		if !policy.Allowed(len(b)) {
			return fmt.Errorf("stored object %s is %d bytes, not an allowed size", id, len(b))
		}
	}
	return nil
}

// CheckNoLeak fails if any of secrets (as raw bytes, or as lowercase hex) occurs
// in the name or the body of any object written or held now. Pass secrets long
// enough not to occur by chance (16 bytes or more).
func (s *Store) CheckNoLeak(ctx context.Context, secrets ...[]byte) error {
	objs, err := s.Objects(ctx)
	if err != nil {
		return err
	}
	check := func(where string, id domain.ObjectID, body []byte) error {
		name := []byte(id.String())
		for _, sec := range secrets {
			if len(sec) == 0 {
				continue
			}
			hx := []byte(hex.EncodeToString(sec))
			switch {
			case bytes.Contains(id[:], sec) || bytes.Contains(name, sec) || bytes.Contains(name, hx):
				return fmt.Errorf("%s: the name %s reveals the secret %q", where, id, sec)
			case bytes.Contains(body, sec):
				return fmt.Errorf("%s: object %s contains the secret %q", where, id, sec)
			case bytes.Contains(body, hx):
				return fmt.Errorf("%s: object %s contains the hex form of the secret %q", where, id, sec)
			}
		}
		return nil
	}
	for i, e := range s.Events() {
		if err := check(fmt.Sprintf("write %d", i), e.ID, e.Data); err != nil {
			return err
		}
	}
	for id, b := range objs {
		if err := check("stored", id, b); err != nil {
			return err
		}
	}
	return nil
}

// CheckFreshNames fails if any object id was written with Put more than once, or
// was reused after it was deleted: every write of data uses a new name. The one
// mutable object (written with CompareAndSwap) is exempt.
func (s *Store) CheckFreshNames() error {
	seen := map[domain.ObjectID]int{}
	for i, e := range s.Events() {
		if e.Op != OpPut {
			continue
		}
		if j, ok := seen[e.ID]; ok {
			return fmt.Errorf("writes %d and %d both use the name %s", j, i, e.ID)
		}
		seen[e.ID] = i
	}
	return nil
}
