//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/ai-pantheon/aegis/adapters/internal/fsdir"
	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.Batcher = (*Store)(nil)

// batchWorkers is the number of temp files written and synced concurrently. A
// journaling file system commits concurrent fsyncs together, so a batch costs a
// few journal commits instead of one per object.
const batchWorkers = 16

// PutBatch writes every object to a temp file and syncs it (concurrently), renames
// them all into place under the commit lock, then syncs each shard directory once.
// When it returns nil every object is durable.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: put batch of %d: %w", len(objs), err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	if _, err := s.mkdir(s.objects, s.dir); err != nil {
		return err
	}
	shards := map[string]bool{}
	for _, o := range objs {
		shard, _ := s.paths(o.ID)
		if !shards[shard] {
			shards[shard] = true
			if _, err := s.mkdir(shard, s.objects); err != nil {
				return err
			}
		}
	}
	tmpLock, err := flock(ctx, s.tmpLock, syscall.LOCK_SH)
	if err != nil {
		return err
	}
	defer unflock(tmpLock)

	tmps := make([]string, len(objs))
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	err = parallel(len(objs), func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		shard, _ := s.paths(objs[i].ID)
		tmp, err := os.CreateTemp(shard, tmpPrefix+"*") // mode 0600
		if err != nil {
			return err
		}
		tmps[i] = tmp.Name()
		_, err = tmp.Write(objs[i].Data)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return err
	}
	release, err := s.commit.lock(ctx)
	if err != nil {
		return err
	}
	for i, o := range objs {
		_, file := s.paths(o.ID)
		if err = os.Rename(tmps[i], file); err != nil {
			break
		}
		tmps[i] = ""
	}
	release()
	if err != nil {
		return err
	}
	return s.syncDirs(shards)
}

// DeleteBatch unlinks the objects that exist under the commit lock, 16 at a time. It does not
// sync the directories: the Vault deletes only objects nothing references any
// more, so a removal that a crash undoes leaves debris for Vault.Sweep, never an
// inconsistency, and is not worth one directory sync per shard.
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: delete batch of %d: %w", len(ids), err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	release, err := s.commit.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	return parallel(len(ids), func(i int) error {
		_, file := s.paths(ids[i])
		if uerr := syscall.Unlink(file); uerr != nil && !errors.Is(uerr, fs.ErrNotExist) {
			return &fs.PathError{Op: "unlink", Path: file, Err: uerr}
		}
		return nil
	})
}

func (s *Store) syncDirs(dirs map[string]bool) error {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	return parallel(len(list), func(i int) error { return fsdir.Sync(list[i]) })
}

// parallel runs fn(0..n-1) on up to batchWorkers goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range min(n, batchWorkers) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
