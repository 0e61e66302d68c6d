// Package fakes is the in-memory domain.BlobStore and domain.SpentLedger that the
// anonymize module's tests and examples run on.
//
// The anonymize module does not require the adapters module: adapters imports
// anonymize (adapters/local builds Cloaks), and a requirement back would make the
// two modules require each other, so that a program using only the Cloak would
// download every adapter's dependencies. The fakes behave like adapters/memblob
// and adapters/memledger and pass the same domain conformance suites
// (domain/blobstoretest, domain/ledgertest).
package fakes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.BlobStore   = (*Store)(nil)
	_ domain.Locker      = (*Store)(nil)
	_ domain.Batcher     = (*Store)(nil)
	_ domain.SpentLedger = (*Ledger)(nil)
)

// Store is an in-memory domain.BlobStore, domain.Batcher and domain.Locker. It
// copies bytes on the way in and out. Safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	objects map[domain.ObjectID]object
	next    uint64        // the last version issued; versions are never reused
	writer  chan struct{} // the writer lock: holds one token while locked
}

type object struct {
	data    []byte
	version domain.Version
}

// NewStore returns a new, empty store.
func NewStore() *Store {
	return &Store{objects: map[domain.ObjectID]object{}, writer: make(chan struct{}, 1)}
}

func (s *Store) newVersionLocked() domain.Version {
	s.next++
	return domain.Version(strconv.FormatUint(s.next, 10))
}

func check(ctx context.Context, op string, id domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fakes: %s %s: %w", op, id, err)
	}
	return nil
}

// Put stores a copy of data under id.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := check(ctx, "put", id); err != nil {
		return err
	}
	obj := object{data: clone(data)}
	s.mu.Lock()
	defer s.mu.Unlock()
	obj.version = s.newVersionLocked()
	s.objects[id] = obj
	return nil
}

// Get returns a copy of the object's bytes.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, id)
	return b, err
}

// GetVersioned returns a copy of the object's bytes and its version.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := check(ctx, "get", id); err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	obj, ok := s.objects[id]
	s.mu.RUnlock()
	if !ok {
		return nil, "", fmt.Errorf("fakes: object %s: %w", id, domain.ErrNotFound)
	}
	return clone(obj.data), obj.version, nil
}

// Delete removes the object.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := check(ctx, "delete", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[id]; !ok {
		return fmt.Errorf("fakes: object %s: %w", id, domain.ErrNotFound)
	}
	delete(s.objects, id)
	return nil
}

// List calls fn for every object of a snapshot taken when it starts.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fakes: list: %w", err)
	}
	s.mu.RLock()
	ids := make([]domain.ObjectID, 0, len(s.objects))
	for id := range s.objects {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fakes: list: %w", err)
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// CompareAndSwap stores a copy of data if the object's version is expected.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := check(ctx, "compare-and-swap", id); err != nil {
		return "", err
	}
	obj := object{data: clone(data)}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objects[id]
	if !ok && expected != "" || ok && cur.version != expected {
		return "", fmt.Errorf("fakes: compare-and-swap %s: expected version %q: %w", id, expected, domain.ErrConflict)
	}
	obj.version = s.newVersionLocked()
	s.objects[id] = obj
	return obj.version, nil
}

// PutBatch stores every object under one lock acquisition.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fakes: put batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		s.objects[o.ID] = object{data: clone(o.Data), version: s.newVersionLocked()}
	}
	return nil
}

// DeleteBatch removes the objects that exist and skips absent ones.
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fakes: delete batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.objects, id)
	}
	return nil
}

// Lock takes the store's writer lock, waiting until it is free or ctx is done.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fakes: lock: %w", err)
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("fakes: lock: %w", ctx.Err())
	}
	var once sync.Once
	return func() error {
		err := errors.New("fakes: unlock of a lock that is not held")
		once.Do(func() { <-s.writer; err = nil })
		return err
	}, nil
}

func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// Ledger is an in-memory domain.SpentLedger. Safe for concurrent use.
type Ledger struct {
	mu         sync.Mutex
	partitions map[string]map[string]bool
}

// NewLedger returns a new, empty ledger.
func NewLedger() *Ledger { return &Ledger{partitions: map[string]map[string]bool{}} }

// MarkSpent records nonce as spent in partition and reports whether it already was.
func (l *Ledger) MarkSpent(ctx context.Context, partition string, nonce []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := domain.CheckLedgerArgs(partition, nonce); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.partitions[partition]
	if p == nil {
		p = map[string]bool{}
		l.partitions[partition] = p
	}
	if p[string(nonce)] {
		return true, nil
	}
	p[string(nonce)] = true
	return false, nil
}

// DropPartition forgets every nonce of partition.
func (l *Ledger) DropPartition(ctx context.Context, partition string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := domain.CheckPartition(partition); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.partitions, partition)
	return nil
}
