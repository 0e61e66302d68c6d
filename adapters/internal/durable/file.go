package durable

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ai-pantheon/aegis/domain"
)

// Syncer fsyncs an open file. (*os.File).Sync is the one to use; the adapters'
// tests pass one that records the syncs.
type Syncer func(*os.File) error

func fileSync(f *os.File) error { return f.Sync() }

// WriteTemp creates a temp file in dir (named after pattern as by os.CreateTemp,
// mode 0600), writes data to it, calls afterWrite with its name (if afterWrite
// is not nil), syncs it with sync (if sync is not nil) and closes it. It returns
// the temp file's name. On any failure the temp file is removed and the error
// returned: no partial file is left behind.
func WriteTemp(dir, pattern string, data []byte, afterWrite func(name string) error, sync Syncer) (name string, err error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	_, err = f.Write(data)
	if err == nil && afterWrite != nil {
		err = afterWrite(f.Name())
	}
	if err == nil && sync != nil {
		err = sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return f.Name(), nil
}

// WriteFile replaces dir/name with data, atomically and durably: a temp file in
// dir (mode 0600) is written, synced, renamed over name, and dir is synced. A
// reader sees the old file or the whole new one, never part of it; when
// WriteFile returns nil the new file survives a crash. On a failure before the
// rename no temp file is left and name is unchanged.
func WriteFile(dir, name string, data []byte) error {
	tmp, err := WriteTemp(dir, ".tmp-"+name+"-*", data, nil, fileSync)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncFile opens the file at path and fsyncs it with sync ((*os.File).Sync if
// sync is nil).
func SyncFile(path string, sync Syncer) error {
	if sync == nil {
		sync = fileSync
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = sync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// ReadPrivate reads the file at path. A file whose mode lets anyone but its
// owner read or write it is refused with an error wrapping
// domain.ErrInvalidInput, before it is read (a key file others can read is no
// longer secret).
func ReadPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): %w", path, perm, domain.ErrInvalidInput)
	}
	return os.ReadFile(path)
}
