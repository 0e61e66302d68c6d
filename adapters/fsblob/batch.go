//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.Batcher      = (*Store)(nil)
	_ domain.BatchSwapper = (*Store)(nil)
)

// batchWorkers is the number of temp files written and synced concurrently. A
// journaling file system commits concurrent fsyncs together, so a batch costs a
// few journal commits instead of one per object.
const batchWorkers = 16

// PutBatch writes every object to a temp file (concurrently) and, under the
// commit lock, renames into place every object whose name is free; then, with the
// lock released so that other writers' commits do not wait for it, it syncs
// every one of those files, every shard directory it touched and, if it created
// shard directories, the objects directory, all at once (concurrent fsyncs, which
// a journaling file system commits together). An object that replaces an existing
// file is synced before its rename instead, so that a crash never leaves a torn
// replacement of an object that was whole. When PutBatch returns nil every object
// is durable: its contents, its directory entry and its shard directory's entry
// have been synced.
//
// A new object is renamed into place before its contents are synced, so after a
// power cut during a PutBatch that did not return, an object of the batch may
// exist with incomplete contents. Nothing can reference it: the Vault writes the
// header that references a batch only after PutBatch returned, and Vault.Sweep
// removes it. Readers never see a partial object while the system runs: the file
// is complete before its rename.
func (s *Store) PutBatch(ctx context.Context, objs []domain.Object) error {
	return s.batchPut(ctx, dating{}, objs)
}

func (s *Store) batchPut(ctx context.Context, d dating, objs []domain.Object) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: put batch of %d: %w", len(objs), err)
		}
	}()
	if len(objs) == 0 {
		return ctx.Err()
	}
	_, err = s.putBatch(ctx, d, objs, nil)
	return err
}

// PutBatchThenSwap is PutBatch(objs) followed by CompareAndSwap(id, expected,
// data), in fewer rounds of syncs: the swap's temp file is written and synced
// together with the batch, and renamed over id (after the compare, under the
// commit lock) once every object of the batch is durable. Then id's directory is
// synced. When it returns nil the batch and the swap are durable. A refused
// compare is an error wrapping domain.ErrConflict: the swap did not happen (the
// batch may or may not have been written); after any other error either may or
// may not have happened.
func (s *Store) PutBatchThenSwap(ctx context.Context, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	return s.batchPutThenSwap(ctx, dating{}, objs, id, expected, data)
}

func (s *Store) batchPutThenSwap(ctx context.Context, d dating, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (v domain.Version, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: put batch of %d, then compare-and-swap %s: %w", len(objs), id, err)
		}
	}()
	return s.putBatch(ctx, d, objs, &swap{id: id, expected: expected, data: data})
}

// swap is the compare-and-swap that follows a batch.
type swap struct {
	id       domain.ObjectID
	expected domain.Version
	data     []byte
}

// check fails with ErrConflict unless file holds version sw.expected.
func (sw *swap) check(file string) error {
	_, cur, err := readObject(file)
	if errors.Is(err, fs.ErrNotExist) {
		cur, err = "", nil
	}
	if err != nil {
		return err
	}
	if cur != sw.expected {
		return fmt.Errorf("expected version %q, found %q: %w", sw.expected, cur, domain.ErrConflict)
	}
	return nil
}

// putBatch writes objs and then does sw, if not nil. d dates the temp files before
// their renames, and every directory the batch changed (once) before the round of
// syncs, the swap's directory after its rename.
func (s *Store) putBatch(ctx context.Context, d dating, objs []domain.Object, sw *swap) (_ domain.Version, err error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := d.err; err != nil {
		return "", err
	}
	if err := s.dateLockFiles(d); err != nil {
		return "", err
	}
	n := len(objs) // the batch: objs[:n]; objs[n] is the swap's, if any
	var swapShard, swapFile string
	if sw != nil {
		swapShard, swapFile = s.paths(sw.id)
		// A writer that has already lost fails here, before it writes anything.
		if err := sw.check(swapFile); err != nil {
			return "", err
		}
		objs = append(objs[:n:n], domain.Object{ID: sw.id, Data: sw.data})
	}
	if _, err := s.mkdir(d, s.objects, s.dir); err != nil {
		return "", err
	}
	// dirs are synced in one round with the batch's files: the shard directories of
	// the batch and, if a shard directory was created here, the objects directory
	// (rather than once per new shard). The swap's shard is synced after its rename.
	dirs := map[string]bool{}
	made := map[string]bool{}
	defer func() {
		if err != nil {
			// Best effort, after the temp files are removed: date every directory
			// the batch may have changed (made holds every shard of objs).
			for dir := range made {
				d.set(dir)
			}
			if dirs[s.objects] {
				d.set(s.objects)
			}
		}
	}()
	for i, o := range objs {
		shard, _ := s.paths(o.ID)
		if i < n {
			dirs[shard] = true
		}
		if made[shard] {
			continue
		}
		made[shard] = true
		switch err := mkdir(shard, dirPerm); {
		case err == nil:
			dirs[s.objects] = true
		case !errors.Is(err, fs.ErrExist):
			return "", err
		}
	}
	tmpLock, err := flock(ctx, s.tmpLock, durable.Shared)
	if err != nil {
		return "", err
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
	err = durable.Parallel(ctx, len(objs), batchWorkers, func(_ context.Context, i int) (err error) {
		shard, _ := s.paths(objs[i].ID)
		// Dated after the last write, before any fsync (as in write); synced
		// below, after the renames.
		tmps[i], err = durable.WriteTemp(shard, tmpPrefix+"*", objs[i].Data, func(name string) error { return d.set(name) }, nil)
		return err
	})
	if err != nil {
		return "", err
	}
	// Every rename happens under the commit lock, in any process, so a name found
	// free here stays free until the rename.
	release, err := s.commit.lock(ctx)
	if err != nil {
		return "", err
	}
	var replace []int
	for i, o := range objs[:n] {
		_, file := s.paths(o.ID)
		if _, err = os.Lstat(file); err == nil {
			replace = append(replace, i)
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err = rename(tmps[i], file); err != nil {
			break
		}
		tmps[i] = ""
	}
	release()
	if err != nil {
		return "", err
	}
	if len(replace) > 0 {
		if err := durable.Parallel(ctx, len(replace), batchWorkers, func(_ context.Context, k int) error {
			return durable.SyncFile(tmps[replace[k]], syncFile)
		}); err != nil {
			return "", err
		}
		release, err := s.commit.lock(ctx)
		if err != nil {
			return "", err
		}
		for _, i := range replace {
			_, file := s.paths(objs[i].ID)
			if err = rename(tmps[i], file); err != nil {
				break
			}
			tmps[i] = ""
		}
		release()
		if err != nil {
			return "", err
		}
	}
	// One round of syncs: the files renamed before they were synced, the swap's
	// temp file, and the directories. It runs without the commit lock, so that
	// other writers' commits do not wait for it: another writer may see a new
	// object of the batch before it is durable, but nothing references it before
	// PutBatch returns (see PutBatch).
	var files, syncDirs []string
	replaced := make(map[int]bool, len(replace))
	for _, i := range replace {
		replaced[i] = true
	}
	for i, o := range objs[:n] {
		if !replaced[i] {
			_, file := s.paths(o.ID)
			files = append(files, file)
		}
	}
	if sw != nil {
		files = append(files, tmps[n])
	}
	for dir := range dirs {
		if err := d.set(dir); err != nil {
			return "", err
		}
		syncDirs = append(syncDirs, dir)
	}
	err = durable.Parallel(ctx, len(files)+len(syncDirs), batchWorkers, func(_ context.Context, i int) error {
		if i < len(files) {
			return durable.SyncFile(files[i], syncFile)
		}
		return syncDir(syncDirs[i-len(files)])
	})
	if err != nil {
		return "", err
	}
	if sw == nil {
		return "", nil
	}
	// The batch is durable: now the compare and the rename, as in write.
	release, err = s.commit.lock(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	if err := sw.check(swapFile); err != nil {
		return "", err
	}
	if err := rename(tmps[n], swapFile); err != nil {
		return "", err
	}
	tmps[n] = ""
	if err := d.set(swapShard); err != nil {
		return "", err
	}
	if err := syncDir(swapShard); err != nil {
		return "", err
	}
	return contentVersion(sw.data), nil
}

// DeleteBatch unlinks the objects that exist under the commit lock, 16 at a time. It does not
// sync the directories: the Vault deletes only objects nothing references any
// more, so a removal that a crash undoes leaves debris for Vault.Sweep, never an
// inconsistency, and is not worth one directory sync per shard.
func (s *Store) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	return s.batchDelete(ctx, dating{}, ids)
}

// batchDelete is DeleteBatch; d dates each directory it unlinked from, once,
// after the unlinks (not synced either).
func (s *Store) batchDelete(ctx context.Context, d dating, ids []domain.ObjectID) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: delete batch of %d: %w", len(ids), err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.err; err != nil {
		return err
	}
	if err := s.dateLockFiles(d); err != nil {
		return err
	}
	release, err := s.commit.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	var (
		mu      sync.Mutex
		changed = map[string]bool{}
	)
	err = durable.Parallel(ctx, len(ids), batchWorkers, func(_ context.Context, i int) error {
		shard, file := s.paths(ids[i])
		switch uerr := unlink(file); {
		case errors.Is(uerr, fs.ErrNotExist):
			return nil
		case uerr != nil:
			return &fs.PathError{Op: "unlink", Path: file, Err: uerr}
		}
		mu.Lock()
		changed[shard] = true
		mu.Unlock()
		return nil
	})
	for dir := range changed {
		if derr := d.set(dir); err == nil {
			err = derr
		}
	}
	return err
}
