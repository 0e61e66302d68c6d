//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
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
	f, err := flock(ctx, m.path, durable.Exclusive)
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
	f, ok, err := tryFlock(m.path, durable.Exclusive)
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

// poll is how often a waiter retries a lock another process holds.
var poll = durable.Poll{Min: minPoll, Max: maxPoll}

// flock opens the lock file at path and locks it (shared or exclusive),
// waiting until it can or ctx is done; unflock unlocks and closes it. Variables,
// like those of fsops.go, so that tests can record when the commit lock is taken
// and released.
var (
	flock = func(ctx context.Context, path string, how durable.LockKind) (*os.File, error) {
		return durable.OpenLocked(ctx, path, how, poll)
	}
	unflock = durable.Unlock
)

func tryFlock(path string, how durable.LockKind) (*os.File, bool, error) {
	return durable.TryOpenLocked(path, how)
}
