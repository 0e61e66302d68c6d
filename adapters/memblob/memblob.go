// Package memblob is an in-memory domain.BlobStore, for tests and for short-lived
// vaults that never touch a disk. It also implements domain.Locker with an
// in-process lock.
package memblob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.BlobStore = (*Store)(nil)
	_ domain.Locker    = (*Store)(nil)
)

// Store is an in-memory domain.BlobStore and domain.Locker. It copies bytes on the
// way in and on the way out, so callers never share memory with it. The zero value
// is not usable; call Open. A Store is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	objects map[domain.ObjectID]object
	// next is the last version issued. Versions are never reused, not even after
	// a Delete, so a compare-and-swap can never succeed against an older object
	// that happens to have the same version.
	next uint64

	writer chan struct{} // the writer lock: holds one token while locked
}

type object struct {
	data    []byte
	version domain.Version
}

// Open returns a new, empty store.
func Open() *Store {
	return &Store{
		objects: make(map[domain.ObjectID]object),
		writer:  make(chan struct{}, 1),
	}
}

// newVersionLocked issues a fresh version. s.mu must be held for writing.
func (s *Store) newVersionLocked() domain.Version {
	s.next++
	return domain.Version(strconv.FormatUint(s.next, 10))
}

func notFound(id domain.ObjectID) error {
	return fmt.Errorf("aegis/memblob: object %s: %w", id, domain.ErrNotFound)
}

func ctxErr(ctx context.Context, op string, id domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/memblob: %s %s: %w", op, id, err)
	}
	return nil
}

// Put stores a copy of data under id, replacing any existing object.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := ctxErr(ctx, "put", id); err != nil {
		return err
	}
	obj := object{data: clone(data)}
	s.mu.Lock()
	defer s.mu.Unlock()
	obj.version = s.newVersionLocked()
	s.objects[id] = obj
	return nil
}

// Get returns a copy of the object's bytes, or an error wrapping domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	data, _, err := s.get(ctx, "get", id)
	return data, err
}

// GetVersioned returns a copy of the object's bytes and its current version, or an
// error wrapping domain.ErrNotFound.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return s.get(ctx, "get", id)
}

func (s *Store) get(ctx context.Context, op string, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := ctxErr(ctx, op, id); err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	obj, ok := s.objects[id]
	s.mu.RUnlock()
	if !ok {
		return nil, "", notFound(id)
	}
	// obj.data is never modified in place, so it can be copied outside the lock.
	return clone(obj.data), obj.version, nil
}

// Delete removes the object, or returns an error wrapping domain.ErrNotFound.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := ctxErr(ctx, "delete", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[id]; !ok {
		return notFound(id)
	}
	delete(s.objects, id)
	return nil
}

// List calls fn once for every stored object id, in no particular order. It
// lists a snapshot taken when it starts, so fn may call the store. An error from
// fn stops the listing and is returned unwrapped.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/memblob: list: %w", err)
	}
	s.mu.RLock()
	ids := make([]domain.ObjectID, 0, len(s.objects))
	for id := range s.objects {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("aegis/memblob: list: %w", err)
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// CompareAndSwap stores a copy of data under id if the object's current version is
// expected (the empty Version: if the object is absent). It returns the new
// version, or an error wrapping domain.ErrConflict.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := ctxErr(ctx, "compare-and-swap", id); err != nil {
		return "", err
	}
	obj := object{data: clone(data)}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objects[id]
	if !ok && expected != "" || ok && cur.version != expected {
		return "", fmt.Errorf("aegis/memblob: compare-and-swap %s: expected version %q: %w", id, expected, domain.ErrConflict)
	}
	obj.version = s.newVersionLocked()
	s.objects[id] = obj
	return obj.version, nil
}

// Lock takes the store's writer lock, waiting until it is free or ctx is done.
// The lock is held by the caller, not by a goroutine: the returned function may be
// called from any goroutine. Calling it a second time returns an error.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("aegis/memblob: lock: %w", err)
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("aegis/memblob: lock: %w", ctx.Err())
	}
	var once sync.Once
	return func() error {
		err := errUnlocked
		once.Do(func() {
			<-s.writer
			err = nil
		})
		return err
	}, nil
}

var errUnlocked = errors.New("aegis/memblob: unlock of a lock that is not held")

func clone(b []byte) []byte {
	// Always non-nil, so an empty object reads back as []byte{}, like from a file.
	return append(make([]byte, 0, len(b)), b...)
}

var _ domain.Batcher = (*Store)(nil)

// PutBatch stores every object, as Put does, under one lock acquisition.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/memblob: put batch: %w", err)
	}
	copies := make([]object, len(objs))
	for i, o := range objs {
		copies[i] = object{data: clone(o.Data)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range objs {
		copies[i].version = s.newVersionLocked()
		s.objects[o.ID] = copies[i]
	}
	return nil
}

// DeleteBatch removes the objects that exist and skips absent ones.
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/memblob: delete batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.objects, id)
	}
	return nil
}
