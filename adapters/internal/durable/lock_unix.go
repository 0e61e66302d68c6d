//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package durable

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// The locks are flock(2) locks that honour a context: flock cannot be
// interrupted, so a waiter retries LOCK_NB with a delay that doubles from
// Poll.Min to Poll.Max.

// op is the flock operation of kind k.
func (k LockKind) op() int {
	if k == Shared {
		return syscall.LOCK_SH
	}
	return syscall.LOCK_EX
}

// busyHook, when set (by the tests, before any Lock runs), is called each time
// Lock finds the lock held elsewhere, before it waits.
var busyHook func()

// Lock takes an flock of kind how on f, polling until it is granted or ctx is
// done.
func Lock(ctx context.Context, f *os.File, how LockKind, poll Poll) error {
	fd := int(f.Fd())
	delay := poll.Min
	var timer *time.Timer
	for {
		err := syscall.Flock(fd, how.op()|syscall.LOCK_NB)
		switch {
		case err == nil:
			if timer != nil {
				timer.Stop()
			}
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return &fs.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
		if busyHook != nil {
			busyHook()
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, poll.Max)
	}
}

// OpenLocked opens (creating it 0600 if needed) the lock file at path and locks
// it as Lock does. Unlock releases the lock and closes the file.
func OpenLocked(ctx context.Context, path string, how LockKind, poll Poll) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := Lock(ctx, f, how, poll); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TryOpenLocked is OpenLocked without waiting. ok is false, with a nil error,
// when the lock is held elsewhere or the lock file cannot be created for lack of
// permission (a read-only store).
func TryOpenLocked(path string, how LockKind) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return nil, false, nil
		}
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how.op()|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return f, true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, false, nil
	default:
		f.Close()
		return nil, false, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
}

// Unlock releases the flock and closes the descriptor (closing alone would
// release it too; the explicit unlock reports errors).
func Unlock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "unlock", Path: f.Name(), Err: err}
	}
	return nil
}
