package fsblob

import "path/filepath"

// WriterLockPath returns the path of the writer lock file (Store.Lock) of the
// store in dir.
func WriterLockPath(dir string) string { return filepath.Join(dir, writerLockFile) }
