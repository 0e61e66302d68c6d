//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// Polling bounds for a flock held by another process: flock(2) cannot be
// interrupted by a context, so waiters retry LOCK_NB with a growing delay.
const (
	minPoll = time.Millisecond
	maxPoll = 16 * time.Millisecond
)

// fileMutex is an exclusive lock held by at most one caller across all goroutines
// and processes: a channel semaphore orders the goroutines of this process (and
// honours ctx), and an flock(2) on a fresh descriptor of path excludes other
// processes and other Stores of the same directory in this process.
type fileMutex struct {
	path string
	sem  chan struct{}
}

func newFileMutex(path string) *fileMutex {
	return &fileMutex{path: path, sem: make(chan struct{}, 1)}
}

// lock waits until the lock is held or ctx is done.
func (m *fileMutex) lock(ctx context.Context) (release func() error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, err := flock(ctx, m.path, syscall.LOCK_EX)
	if err != nil {
		<-m.sem
		return nil, err
	}
	return m.releaser(f), nil
}

// tryLock takes the lock if it is free now. ok is false if it is held (here or by
// another process) or if the lock file cannot be created (a read-only store).
func (m *fileMutex) tryLock() (release func() error, ok bool, err error) {
	select {
	case m.sem <- struct{}{}:
	default:
		return nil, false, nil
	}
	f, ok, err := tryFlock(m.path, syscall.LOCK_EX)
	if !ok {
		<-m.sem
		return nil, false, err
	}
	return m.releaser(f), true, nil
}

func (m *fileMutex) releaser(f *os.File) func() error {
	var once sync.Once
	return func() error {
		err := errNotHeld
		once.Do(func() {
			err = unflock(f)
			<-m.sem
		})
		return err
	}
}

var errNotHeld = errors.New("the lock is not held")

// flock opens (creating it 0600 if needed) the file at path and takes an flock of
// kind how (LOCK_EX or LOCK_SH) on it, polling until it is granted or ctx is done.
func flock(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	delay := minPoll
	var timer *time.Timer
	for {
		err := syscall.Flock(fd, how|syscall.LOCK_NB)
		switch {
		case err == nil:
			if timer != nil {
				timer.Stop()
			}
			return f, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// tryFlock is flock without waiting. ok is false, with a nil error, when the lock
// is held elsewhere or the lock file cannot be created for lack of permission.
func tryFlock(path string, how int) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return nil, false, nil
		}
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
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

// unflock releases the flock and closes the descriptor (closing alone would
// release it too; the explicit unlock reports errors).
func unflock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "unlock", Path: f.Name(), Err: err}
	}
	return nil
}
