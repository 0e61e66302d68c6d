//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fsblob

import (
	"os"
	"syscall"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
)

// The calls that change the store's directories, or make a change durable, go
// through these variables (and the commit lock through flock and unflock, in
// lock.go), so that the package's tests can record them in order: which
// directory is synced after which rename, unlink or mkdir, and whether the commit
// lock is held meanwhile (dirsync_test.go). A crash test that kills the process
// cannot tell a missing fsync from a present one: the page cache outlives the
// process. Nothing but those tests reassigns them.
var (
	// syncDir fsyncs a directory, making the entries renamed into, unlinked from
	// or made in it durable.
	syncDir = durable.SyncDir
	// syncFile fsyncs an open file, making its contents (and times) durable.
	syncFile = func(f *os.File) error { return f.Sync() }
	// rename moves a complete temp file over an object's name.
	rename = os.Rename
	// unlink removes an object's file.
	unlink = syscall.Unlink
	// mkdir makes the objects directory or a shard directory.
	mkdir = os.Mkdir
)
