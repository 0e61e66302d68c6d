package durable

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// KeyDir is a directory of secret key files (the issuer and the gateway key
// stores): files of mode 0600, only their owner may read them, in a directory
// of mode 0700, written with WriteFile. The goroutines of a process are
// serialised by a mutex, processes sharing the directory by an exclusive flock
// on its file "keys.lock" (see Locked).
type KeyDir struct {
	path string
	rnd  io.Reader
	now  func() time.Time
	mu   sync.Mutex
}

// KeyLockFile is the lock file of a KeyDir.
const KeyLockFile = "keys.lock"

// keyLockPoll bounds the retry delay while another process holds keys.lock.
var keyLockPoll = Poll{Min: time.Millisecond, Max: 16 * time.Millisecond}

// OpenKeyDir opens the key directory dir as OpenDir does (mode 0700 if create
// makes it; what names it in messages). rnd is the source of key material
// (crypto/rand.Reader if nil), now the clock (time.Now if nil).
func OpenKeyDir(dir string, create bool, rnd io.Reader, now func() time.Time, what string) (*KeyDir, error) {
	abs, err := OpenDir(dir, create, 0o700, what)
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if now == nil {
		now = time.Now
	}
	return &KeyDir{path: abs, rnd: rnd, now: now}, nil
}

// Path returns the directory's absolute path.
func (d *KeyDir) Path() string { return d.path }

// Rand returns the source of key material.
func (d *KeyDir) Rand() io.Reader { return d.rnd }

// Now reads the clock.
func (d *KeyDir) Now() time.Time { return d.now() }

// Do runs fn holding the directory's mutex (not the flock): for reads, and for
// the caches of what was read.
func (d *KeyDir) Do(fn func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fn()
}

// Locked runs fn holding the mutex and the exclusive flock on keys.lock, so
// that no other process or goroutine changes the directory meanwhile: for a
// look at the keys followed by a write or a removal that depends on it.
func (d *KeyDir) Locked(fn func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := OpenLocked(context.Background(), filepath.Join(d.path, KeyLockFile), Exclusive, keyLockPoll)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer Unlock(f)
	return fn()
}

// Update runs load and then fn on what it loaded, holding Locked, and returns
// what fn returned (the zero R with an error).
func Update[T, R any](d *KeyDir, load func() (T, error), fn func(T) (R, error)) (R, error) {
	var r R
	err := d.Locked(func() error {
		t, err := load()
		if err == nil {
			r, err = fn(t)
		}
		return err
	})
	if err != nil {
		var zero R
		return zero, err
	}
	return r, nil
}

// Stems returns the names, without suffix, of the regular files of the
// directory whose names end in suffix, in name order.
func (d *KeyDir) Stems(suffix string) ([]string, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), suffix); ok && e.Type().IsRegular() {
			out = append(out, stem)
		}
	}
	return out, nil
}

// Read reads the key file name with ReadPrivate; path is its path, for
// messages.
func (d *KeyDir) Read(name string) (b []byte, path string, err error) {
	path = filepath.Join(d.path, name)
	b, err = ReadPrivate(path)
	return b, path, err
}

// Write stores data as the key file name with WriteFile.
func (d *KeyDir) Write(name string, data []byte) error { return WriteFile(d.path, name, data) }

// Remove deletes the key file name and syncs the directory. A missing file is
// an error wrapping domain.ErrNotFound.
func (d *KeyDir) Remove(name string) error {
	if err := os.Remove(filepath.Join(d.path, name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", name, domain.ErrNotFound)
		}
		return err
	}
	return SyncDir(d.path)
}
