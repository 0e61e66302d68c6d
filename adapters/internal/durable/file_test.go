package durable

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// names lists the names in dir, hidden ones too.
func names(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range matches {
		matches[i] = filepath.Base(m)
	}
	return matches
}

func TestWriteFileReplacesWholeFile(t *testing.T) {
	dir := t.TempDir()
	for _, data := range [][]byte{[]byte("first"), []byte("the second, longer")} {
		if err := WriteFile(dir, "k.key", data); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "k.key"))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "k.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Fatalf("entries after two writes: %q, want only k.key", n)
	}
}

func TestWriteFileFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	// The rename fails: the name is a non-empty directory.
	if err := os.MkdirAll(filepath.Join(dir, "k.key", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "k.key", []byte("data")); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	if n := names(t, dir); len(n) != 1 || n[0] != "k.key" {
		t.Fatalf("entries after a failed rename: %q, want the directory only", n)
	}
	// The directory is missing: nothing is made.
	if err := WriteFile(filepath.Join(dir, "absent"), "k.key", []byte("data")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile into a missing directory: %v, want ErrNotExist", err)
	}
}

func TestWriteTempFailuresRemoveTheTempFile(t *testing.T) {
	boom := errors.New("boom")
	for name, c := range map[string]struct {
		after func(string) error
		sync  Syncer
	}{
		"after write": {after: func(string) error { return boom }},
		"sync":        {sync: func(*os.File) error { return boom }},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, err := WriteTemp(dir, ".tmp-*", []byte("data"), c.after, c.sync)
			if !errors.Is(err, boom) || tmp != "" {
				t.Fatalf("WriteTemp: %q, %v; want the injected error", tmp, err)
			}
			if n := names(t, dir); len(n) != 0 {
				t.Fatalf("entries after a failed WriteTemp: %q", n)
			}
		})
	}
	// Success: afterWrite sees the complete file before the sync (fsblob dates
	// the file there, so that the sync makes the times durable), sync is called
	// once, the file stays.
	dir := t.TempDir()
	var seen []byte
	var calls []string
	tmp, err := WriteTemp(dir, ".tmp-*", []byte("data"),
		func(name string) (err error) {
			calls = append(calls, "afterWrite")
			seen, err = os.ReadFile(name)
			return err
		},
		func(f *os.File) error { calls = append(calls, "sync"); return f.Sync() })
	if err != nil || string(seen) != "data" || strings.Join(calls, " ") != "afterWrite sync" {
		t.Fatalf("WriteTemp: %v, afterWrite saw %q, calls %v", err, seen, calls)
	}
	if got, err := os.ReadFile(tmp); err != nil || string(got) != "data" {
		t.Fatalf("temp file: %q, %v", got, err)
	}
}

func TestSyncFileAndDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var synced string
	if err := SyncFile(path, func(f *os.File) error { synced = f.Name(); return f.Sync() }); err != nil || synced != path {
		t.Fatalf("SyncFile: %v, synced %q", err, synced)
	}
	boom := errors.New("boom")
	if err := SyncFile(path, func(*os.File) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("SyncFile with a failing sync: %v", err)
	}
	if err := SyncFile(filepath.Join(dir, "absent"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncFile of a missing file: %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncDir of a missing directory: %v", err)
	}
}

func TestOpenDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	if _, err := OpenDir(dir, false, 0o700, "store"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing, no create: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenDir without create made the directory: %v", err)
	}
	abs, err := OpenDir(dir, true, 0o700, "store")
	if err != nil || abs != dir {
		t.Fatalf("create: %q, %v", abs, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created directory: %v, %v", fi, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(file, true, 0o700, "store"); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("a file: %v, want ErrInvalidInput", err)
	}
	if _, err := OpenDir("", true, 0o700, "store"); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("empty name: %v, want ErrInvalidInput", err)
	}
}

func TestReadPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadPrivate(path); err != nil || string(b) != "secret" {
		t.Fatalf("ReadPrivate: %q, %v", b, err)
	}
	for _, mode := range []fs.FileMode{0o640, 0o604, 0o620} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if b, err := ReadPrivate(path); !errors.Is(err, domain.ErrInvalidInput) || b != nil {
			t.Fatalf("mode %v: %q, %v; want ErrInvalidInput", mode, b, err)
		}
	}
}
