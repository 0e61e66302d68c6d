//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package durable

import (
	"context"
	"os"
)

// Without flock(2) the locks exclude nothing: the functions below open and
// close the lock file but do not lock it, so run one process per directory
// there. (fsblob and fileledger are built only where flock exists.)

// Lock does nothing here but report ctx's error.
func Lock(ctx context.Context, _ *os.File, _ LockKind, _ Poll) error { return ctx.Err() }

// OpenLocked opens (creating it 0600 if needed) the lock file at path.
func OpenLocked(ctx context.Context, path string, how LockKind, poll Poll) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// TryOpenLocked opens (creating it 0600 if needed) the lock file at path.
func TryOpenLocked(path string, how LockKind) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	return f, err == nil, err
}

// Unlock closes f.
func Unlock(f *os.File) error { return f.Close() }
