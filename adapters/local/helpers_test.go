package local_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/ai-pantheon/aegis/domain"
)

// snapshot returns every object in a store.
func snapshot(ctx context.Context, s domain.BlobStore) map[domain.ObjectID][]byte {
	out := map[domain.ObjectID][]byte{}
	err := s.List(ctx, func(id domain.ObjectID) error {
		b, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		out[id] = b
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// dirSnapshot returns every file under dir with its bytes and mode.
func dirSnapshot(dir string) map[string]string {
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if info.IsDir() {
			out[rel+"/"] = info.Mode().String()
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = info.Mode().String() + ":" + string(b)
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

func newIDs(before, after map[domain.ObjectID][]byte) []domain.ObjectID {
	var ids []domain.ObjectID
	for id := range after {
		if _, ok := before[id]; !ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func containsAny(haystack []byte, needles ...string) bool {
	for _, n := range needles {
		if bytes.Contains(haystack, []byte(n)) {
			return true
		}
	}
	return false
}

// errCrash is what a crashed store returns for every operation after the crash point.
var errCrash = errors.New("simulated crash")

// crashStore passes the first limit operations through and fails every later one,
// as if the process had died at that point. It hides the inner store's Locker.
type crashStore struct {
	inner domain.BlobStore
	limit int64
	n     atomic.Int64
}

func (c *crashStore) step() error {
	if c.n.Add(1) > c.limit {
		return errCrash
	}
	return nil
}

func (c *crashStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.inner.Put(ctx, id, data)
}
func (c *crashStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	return c.inner.Get(ctx, id)
}
func (c *crashStore) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.inner.Delete(ctx, id)
}
func (c *crashStore) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.inner.List(ctx, fn)
}
func (c *crashStore) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := c.step(); err != nil {
		return nil, "", err
	}
	return c.inner.GetVersioned(ctx, id)
}
func (c *crashStore) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := c.step(); err != nil {
		return "", err
	}
	return c.inner.CompareAndSwap(ctx, id, expected, data)
}

// noLock hides a store's Locker, so writers meet only through compare-and-swap.
type noLock struct{ domain.BlobStore }

// recorder remembers the order of Puts.
type recorder struct {
	domain.BlobStore
	mu   sync.Mutex
	puts []domain.ObjectID
}

// Lock passes the inner store's writer lock through, so writes take the locked path.
func (r *recorder) Lock(ctx context.Context) (func() error, error) {
	return r.BlobStore.(domain.Locker).Lock(ctx)
}

func (r *recorder) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	r.mu.Lock()
	r.puts = append(r.puts, id)
	r.mu.Unlock()
	return r.BlobStore.Put(ctx, id, data)
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

func catName(i int) string { return fmt.Sprintf("category-%03d", i) }

// getRecorder remembers the order of Gets.
type getRecorder struct {
	domain.BlobStore
	mu   sync.Mutex
	gets []domain.ObjectID
}

func (r *getRecorder) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	r.mu.Lock()
	r.gets = append(r.gets, id)
	r.mu.Unlock()
	return r.BlobStore.Get(ctx, id)
}
