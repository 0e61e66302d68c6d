//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package durable

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

func TestKeyDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	now := time.Unix(1_800_000_000, 0)
	d, err := OpenKeyDir(path, true, nil, func() time.Time { return now }, "key")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o700 || d.Path() != path {
		t.Fatalf("key directory %q: %v, %v", d.Path(), fi, err)
	}
	if !d.Now().Equal(now) || d.Rand() == nil {
		t.Fatal("clock or source of key material not set")
	}
	if err := d.Write("b.key", []byte("secret b")); err != nil {
		t.Fatal(err)
	}
	if err := d.Write("a.key", []byte("secret a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(path, "dir.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "other.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stems, err := d.Stems(".key")
	if err != nil || !slices.Equal(stems, []string{"a", "b"}) {
		t.Fatalf("Stems: %q, %v; want a and b (regular files named *.key)", stems, err)
	}
	if b, p, err := d.Read("a.key"); err != nil || string(b) != "secret a" || p != filepath.Join(path, "a.key") {
		t.Fatalf("Read: %q, %q, %v", b, p, err)
	}
	if err := d.Remove("a.key"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("a.key"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("removing a missing key file: %v, want ErrNotFound", err)
	}
	if err := os.Chmod(filepath.Join(path, "b.key"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Read("b.key"); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("reading a key file others may read: %v, want ErrInvalidInput", err)
	}
}

// Locked waits while another holder (another process, or another KeyDir of
// the same directory) has keys.lock.
func TestKeyDirLockedExcludesOtherHolders(t *testing.T) {
	path := t.TempDir()
	d, err := OpenKeyDir(path, false, nil, nil, "key")
	if err != nil {
		t.Fatal(err)
	}
	held, err := OpenLocked(context.Background(), filepath.Join(path, KeyLockFile), Exclusive, testPoll)
	if err != nil {
		t.Fatal(err)
	}
	waitsUntilReleased(t, held, func() error { return d.Locked(func() error { return nil }) })
	boom := errors.New("boom")
	if err := d.Locked(func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Locked: %v, want fn's error", err)
	}
}
