//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.Dater        = (*Store)(nil)
	_ domain.BlobStore    = view{}
	_ domain.Locker       = view{}
	_ domain.Batcher      = view{}
	_ domain.BatchSwapper = view{}
	_ domain.Dater        = view{}
)

// Dated returns a view of the store whose writes and removals set the
// modification and access times of every file and directory they change to t
// instead of the time of the change: the object file (set on the temp file after
// its last write, before its fsync and rename, so the object never shows another
// time), the shard directory it is renamed into or unlinked from, the objects
// directory when a shard directory is created, the store directory when the
// objects directory or a lock file is created, and the lock files it creates. A
// batch dates each directory it changed once. t is applied as given (with the
// file system's resolution); the Cloak passes the start of a time window.
//
// The view is a domain.BlobStore, domain.Locker, domain.Batcher,
// domain.BatchSwapper and domain.Dater (Dated on the view replaces t), and
// otherwise behaves exactly as the Store. Reads through it are the Store's, which
// leave access times alone where the platform allows it (see the package doc).
//
// What it cannot hide (see File times in the package doc): above all the inode
// change time (ctime), which no process can set and which shows the real time of
// every write, rename and unlink, and of the setting of the times itself.
//
// A t that the times cannot be set to (the zero Time, which os.Chtimes reads as
// "leave unchanged", or one outside the years 1678 to 2262) makes every call of
// the view that could change the store, Lock included, fail with an error
// wrapping domain.ErrInvalidInput; its reads work.
func (s *Store) Dated(t time.Time) domain.BlobStore {
	return view{s: s, d: newDating(t)}
}

// dating is what a view sets the times of the files and directories it changes
// to. The zero value, the Store's own, sets nothing.
type dating struct {
	on  bool
	t   time.Time
	err error // t cannot be set: writes fail with it
}

func newDating(t time.Time) dating {
	d := dating{on: true, t: t}
	if t.IsZero() || !time.Unix(0, t.UnixNano()).Equal(t) {
		d.err = fmt.Errorf("dated view: cannot set file times to %v: %w", t, domain.ErrInvalidInput)
	}
	return d
}

// set sets the access and modification times of every path to d.t.
func (d dating) set(paths ...string) error {
	if !d.on {
		return nil
	}
	for _, p := range paths {
		if err := os.Chtimes(p, d.t, d.t); err != nil {
			return err
		}
	}
	return nil
}

// dateLockFiles creates, dated, whichever lock files do not exist yet, and then
// dates the store directory, so that the first write through a view does not
// create them (and change the store directory) at the real time. A file it cannot
// create is left to the operation that needs it to report (a read-only store).
// Open creates writer.lock and tmp.lock, undated, when it can.
func (s *Store) dateLockFiles(d dating) error {
	if !d.on || s.lockFilesMade.Load() {
		return nil
	}
	created := false
	for _, path := range []string{s.writer.path, s.commit.path, s.tmpLock} {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil
		}
		f.Close()
		created = true
		if err := d.set(path); err != nil {
			return err
		}
	}
	if created {
		if err := d.set(s.dir); err != nil {
			return err
		}
	}
	s.lockFilesMade.Store(true)
	return nil
}

// view is the Store seen through Dated: the Store's operations, with d setting
// the times of what they change. It holds the Store, so views share its locks.
type view struct {
	s *Store
	d dating
}

func (v view) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	return v.s.put(ctx, v.d, id, data)
}

func (v view) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	return v.s.compareAndSwap(ctx, v.d, id, expected, data)
}

func (v view) Delete(ctx context.Context, id domain.ObjectID) error {
	return v.s.delete(ctx, v.d, id)
}

func (v view) PutBatch(ctx context.Context, objs []domain.Object) error {
	return v.s.batchPut(ctx, v.d, objs)
}

func (v view) PutBatchThenSwap(ctx context.Context, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	return v.s.batchPutThenSwap(ctx, v.d, objs, id, expected, data)
}

func (v view) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	return v.s.batchDelete(ctx, v.d, ids)
}

func (v view) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	return v.s.Get(ctx, id)
}

func (v view) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return v.s.GetVersioned(ctx, id)
}

func (v view) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	return v.s.List(ctx, fn)
}

// Lock is the Store's Lock; if writer.lock does not exist yet, the view creates
// it dated first.
func (v view) Lock(ctx context.Context) (func() error, error) {
	if err := v.d.err; err != nil {
		return nil, fmt.Errorf("aegis/fsblob: lock %s: %w", v.s.writer.path, err)
	}
	if err := v.s.dateLockFiles(v.d); err != nil {
		return nil, fmt.Errorf("aegis/fsblob: lock %s: %w", v.s.writer.path, err)
	}
	return v.s.Lock(ctx)
}

func (v view) Dated(t time.Time) domain.BlobStore {
	return v.s.Dated(t)
}
