package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ai-pantheon/aegis/domain"
)

// OpenDir returns the absolute path of dir after checking that it is a
// directory. A missing directory is an error wrapping domain.ErrNotFound, unless
// create is set: then it is made with mode perm (and any missing parents) and
// its parent is synced. what names the directory in messages ("store",
// "ledger", "key").
func OpenDir(dir string, create bool, perm fs.FileMode, what string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("open: empty directory name: %w", domain.ErrInvalidInput)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil:
		if !fi.IsDir() {
			return "", fmt.Errorf("open %s: not a directory: %w", abs, domain.ErrInvalidInput)
		}
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return "", fmt.Errorf("open %s: %s directory does not exist: %w", abs, what, domain.ErrNotFound)
		}
		if err := os.MkdirAll(abs, perm); err != nil {
			return "", fmt.Errorf("create %s directory: %w", what, err)
		}
		if err := SyncDir(filepath.Dir(abs)); err != nil {
			return "", fmt.Errorf("create %s directory %s: %w", what, abs, err)
		}
	default:
		return "", fmt.Errorf("open: %w", err)
	}
	return abs, nil
}

// SyncDir fsyncs the directory dir.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
