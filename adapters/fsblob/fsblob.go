//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/domain"
)

var (
	_ domain.BlobStore = (*Store)(nil)
	_ domain.Locker    = (*Store)(nil)
)

// Names inside the store directory.
const (
	objectsDir     = "objects"
	writerLockFile = "writer.lock"
	casLockFile    = "cas.lock"
	tmpLockFile    = "tmp.lock"
	tmpPrefix      = ".tmp-"
)

// Permissions of everything the store creates.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

// Options configure Open. The zero value (or a nil *Options) opens an existing
// directory.
type Options struct {
	// Create makes the store directory (mode 0700, with any missing parents) if it
	// does not exist. Without it, a missing directory is an error wrapping
	// domain.ErrNotFound.
	Create bool
}

// Store is a domain.BlobStore and domain.Locker over a local directory. It holds
// no open files between calls, so it needs no Close. A Store is safe for
// concurrent use, and several Stores (in one process or many) may share a
// directory.
type Store struct {
	dir     string // absolute
	objects string
	writer  *fileMutex // writer.lock: Store.Lock
	commit  *fileMutex // cas.lock: the compare and the rename or unlink
	tmpLock string     // tmp.lock: held shared while a temp file exists

	lockFilesMade atomic.Bool // a view found or made every lock file (dateLockFiles)
}

// Open opens the store in dir. Unless another writer holds the store's writer
// lock, it removes ".tmp-" files that a writer which crashed mid-write left behind.
func Open(dir string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	abs, err := durable.OpenDir(dir, opts.Create, dirPerm, "store")
	if err != nil {
		return nil, fmt.Errorf("aegis/fsblob: %w", err)
	}
	s := &Store{
		dir:     abs,
		objects: filepath.Join(abs, objectsDir),
		writer:  newFileMutex(filepath.Join(abs, writerLockFile)),
		commit:  newFileMutex(filepath.Join(abs, casLockFile)),
		tmpLock: filepath.Join(abs, tmpLockFile),
	}
	if opts.Create {
		if _, err := s.mkdir(dating{}, s.objects, abs); err != nil {
			return nil, err
		}
	}
	if err := s.removeDebris(); err != nil {
		return nil, err
	}
	return s, nil
}

// removeDebris deletes temp files under objects/ if no writer is active: not in
// this process or another one (the writer lock is free), and no Put or
// CompareAndSwap of any process is between creating and renaming its temp file
// (tmp.lock can be taken exclusively). Writers that do not take the writer lock,
// such as a server storing objects for remote clients, are protected by the latter.
func (s *Store) removeDebris() error {
	releaseWriter, ok, err := s.writer.tryLock()
	if err != nil {
		return fmt.Errorf("aegis/fsblob: open %s: %w", s.dir, err)
	}
	if !ok {
		return nil
	}
	defer releaseWriter()
	tmp, ok, err := tryFlock(s.tmpLock, durable.Exclusive)
	if err != nil {
		return fmt.Errorf("aegis/fsblob: open %s: %w", s.dir, err)
	}
	if !ok {
		return nil
	}
	defer unflock(tmp)

	removeIn := func(dir string) error {
		entries, err := readDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) && e.Type().IsRegular() {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		return nil
	}
	if err := removeIn(s.objects); err != nil {
		return fmt.Errorf("aegis/fsblob: open %s: remove temp files: %w", s.dir, err)
	}
	shards, err := readDir(s.objects)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("aegis/fsblob: open %s: remove temp files: %w", s.dir, err)
	}
	for _, sh := range shards {
		if sh.IsDir() && isShardName(sh.Name()) {
			if err := removeIn(filepath.Join(s.objects, sh.Name())); err != nil {
				return fmt.Errorf("aegis/fsblob: open %s: remove temp files: %w", s.dir, err)
			}
		}
	}
	return nil
}

// paths returns the shard directory and the file of id. Both derive only from
// id.String(): 64 lowercase hex characters.
func (s *Store) paths(id domain.ObjectID) (shard, file string) {
	name := id.String()
	shard = filepath.Join(s.objects, name[:2])
	return shard, filepath.Join(shard, name)
}

func isShardName(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// contentVersion returns the version of an object holding data: its lowercase hex
// SHA-256, which any process computes alike.
func contentVersion(data []byte) domain.Version {
	sum := sha256.Sum256(data)
	return domain.Version(hex.EncodeToString(sum[:]))
}

// Put stores data under id, replacing any existing object. When it returns nil
// the object is durable.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	return s.put(ctx, dating{}, id, data)
}

func (s *Store) put(ctx context.Context, d dating, id domain.ObjectID, data []byte) error {
	_, err := s.write(ctx, d, "put", id, data, nil)
	return err
}

// CompareAndSwap writes data under id if the object's current version is
// expected (the empty Version: if it is absent), atomically with respect to every
// Store on the same directory in any process. It returns the new version, or an
// error wrapping domain.ErrConflict.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	return s.compareAndSwap(ctx, dating{}, id, expected, data)
}

func (s *Store) compareAndSwap(ctx context.Context, d dating, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	return s.write(ctx, d, "compare-and-swap", id, data, func(file string) error {
		_, cur, err := readObject(file)
		if errors.Is(err, fs.ErrNotExist) {
			cur, err = "", nil
		}
		if err != nil {
			return err
		}
		if cur != expected {
			return fmt.Errorf("expected version %q, found %q: %w", expected, cur, domain.ErrConflict)
		}
		return nil
	})
}

// write puts data in a temp file next to id's file, then, holding the commit
// lock, runs check (if any) on the current file and renames the temp file over it.
// check also runs once before the temp file is written, without the lock. d dates
// the temp file before its rename and the directories after their change.
func (s *Store) write(ctx context.Context, d dating, op string, id domain.ObjectID, data []byte, check func(file string) error) (v domain.Version, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: %s %s: %w", op, id, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := d.err; err != nil {
		return "", err
	}
	shard, file := s.paths(id)
	if check != nil {
		// A writer that has already lost fails here, before it writes and syncs a
		// temp file. The check that counts is the one under the commit lock below.
		if err := check(file); err != nil {
			return "", err
		}
	}
	if err := s.dateLockFiles(d); err != nil {
		return "", err
	}
	if _, err := s.mkdir(d, s.objects, s.dir); err != nil {
		return "", err
	}
	if _, err := s.mkdir(d, shard, s.objects); err != nil {
		return "", err
	}

	// Hold tmp.lock shared while the temp file exists, so that Open in another
	// process does not take it for a crashed writer's debris.
	tmpLock, err := flock(ctx, s.tmpLock, durable.Shared)
	if err != nil {
		return "", err
	}
	defer unflock(tmpLock)

	// d dates the temp file after its last write (neither fsync nor rename
	// changes the times) and before the fsync, which makes the times durable
	// with the contents.
	tmpName, err := durable.WriteTemp(shard, tmpPrefix+"*", data, func(name string) error { return d.set(name) }, syncFile)
	renamed := false
	defer func() {
		if !renamed {
			if tmpName != "" {
				os.Remove(tmpName)
			}
			d.set(shard) // best effort: the temp file came and went
		}
	}()
	if err != nil {
		return "", err
	}

	release, err := s.commit.lock(ctx)
	if err != nil {
		return "", err
	}
	// Closing the lock's descriptor releases the flock even if the explicit
	// unlock fails, so that error is not worth failing a committed write for.
	defer release()
	if check != nil {
		if err := check(file); err != nil {
			return "", err
		}
	}
	if err := rename(tmpName, file); err != nil {
		return "", err
	}
	renamed = true
	if err := d.set(shard); err != nil {
		return "", err
	}
	// Sync while still holding the commit lock: no other writer acts on a
	// state that a crash could still undo.
	if err := syncDir(shard); err != nil {
		return "", err
	}
	return contentVersion(data), nil
}

// mkdir creates dir (mode 0700) if it is missing, and then dates dir and parent
// with d and syncs parent.
func (s *Store) mkdir(d dating, dir, parent string) (created bool, err error) {
	err = mkdir(dir, dirPerm)
	switch {
	case err == nil:
		if err := d.set(dir, parent); err != nil {
			return true, err
		}
		return true, syncDir(parent)
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		return false, err
	}
}

// Get returns the object's bytes, or an error wrapping domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	data, _, err := s.read(ctx, "get", id)
	return data, err
}

// GetVersioned returns the object's bytes and version (the SHA-256 of the bytes),
// or an error wrapping domain.ErrNotFound.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return s.read(ctx, "get", id)
}

func (s *Store) read(ctx context.Context, op string, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("aegis/fsblob: %s %s: %w", op, id, err)
	}
	_, file := s.paths(id)
	data, v, err := readObject(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("aegis/fsblob: %s %s: %w", op, id, domain.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("aegis/fsblob: %s %s: %w", op, id, err)
	}
	return data, v, nil
}

// errNotRegular reports an object path that holds something other than a file.
var errNotRegular = errors.New("not a regular file")

// readObject reads the object file at path and hashes it. It reads one open file,
// so a concurrent rename over path cannot mix two versions. It does not follow a
// symbolic link and does not block on a FIFO: objects are only ever regular files.
// Where it can, it leaves the file's access time alone (openNoatime).
func readObject(path string) ([]byte, domain.Version, error) {
	f, err := openNoatime(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
		}
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !fi.Mode().IsRegular() {
		return nil, "", &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%v)", errNotRegular, fi.Mode().Type())}
	}
	if fi.Size() > domain.MaxObjectSize {
		// No object is larger: refuse before allocating, so a huge or sparse file
		// planted under an object id cannot exhaust memory.
		return nil, "", &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: file of %d bytes exceeds the largest object size %d", domain.ErrIntegrity, fi.Size(), domain.MaxObjectSize)}
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, "", &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return data, contentVersion(data), nil
}

// Delete removes the object, or returns an error wrapping domain.ErrNotFound. When
// it returns nil the removal is durable: the unlink and the sync of the object's
// directory happen under the commit lock, as a write's rename and sync do.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	return s.delete(ctx, dating{}, id)
}

func (s *Store) delete(ctx context.Context, d dating, id domain.ObjectID) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aegis/fsblob: delete %s: %w", id, err)
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
	shard, file := s.paths(id)
	release, err := s.commit.lock(ctx)
	if err != nil {
		return err
	}
	defer release() // as in write, an unlock error does not undo the unlink
	switch err := unlink(file); {
	case errors.Is(err, fs.ErrNotExist):
		return domain.ErrNotFound
	case err != nil:
		return &fs.PathError{Op: "unlink", Path: file, Err: err}
	}
	if err := d.set(shard); err != nil {
		return err
	}
	// As in write: sync while still holding the commit lock, so that no other
	// writer acts on the object's absence before a crash can no longer undo it.
	return syncDir(shard)
}

// List calls fn once for every stored object id, in no particular order. It reads
// one shard directory at a time: an object put or deleted during the listing may
// or may not be seen. Files whose names are not object ids (temp files, anything
// else) are ignored. An error from fn stops the listing and is returned unwrapped.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/fsblob: list %s: %w", s.dir, err)
	}
	shards, err := readDir(s.objects)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("aegis/fsblob: list: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || !isShardName(sh.Name()) {
			continue
		}
		entries, err := readDir(filepath.Join(s.objects, sh.Name()))
		if err != nil {
			return fmt.Errorf("aegis/fsblob: list: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("aegis/fsblob: list %s: %w", s.dir, err)
			}
			name := e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(name, sh.Name()) {
				continue
			}
			id, err := domain.ParseObjectID(name)
			if err != nil {
				continue
			}
			if err := fn(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lock takes the store's writer lock (an exclusive flock on writer.lock), waiting
// until it is free or ctx is done. It excludes other goroutines and other
// processes; the kernel releases it if the holding process dies. It does not block
// the holder's own Put, Delete and CompareAndSwap. The returned function releases
// the lock and may be called from any goroutine; a second call returns an error.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	release, err := s.writer.lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("aegis/fsblob: lock %s: %w", s.writer.path, err)
	}
	return func() error {
		if err := release(); err != nil {
			return fmt.Errorf("aegis/fsblob: unlock %s: %w", s.writer.path, err)
		}
		return nil
	}, nil
}

// openNoatime opens path for reading with flag|oNoatime, so that reading the
// file or directory does not update its access time, or with flag alone where
// Linux refuses O_NOATIME (EPERM: the process neither owns the file nor has
// CAP_FOWNER).
func openNoatime(path string, flag int) (*os.File, error) {
	if oNoatime != 0 {
		f, err := os.OpenFile(path, flag|oNoatime, 0)
		if !errors.Is(err, syscall.EPERM) {
			return f, err
		}
	}
	return os.OpenFile(path, flag, 0)
}

// readDir is os.ReadDir (entries sorted by name) through openNoatime.
func readDir(dir string) ([]fs.DirEntry, error) {
	f, err := openNoatime(dir, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}
