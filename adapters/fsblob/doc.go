// Package fsblob is a domain.BlobStore that keeps objects as files in a local
// directory, and a domain.Locker that serialises writers across processes with an
// advisory file lock.
//
// # Layout
//
//	<dir>/objects/<first 2 hex of id>/<64 hex of id>   one file per object (0600; dirs 0700)
//	<dir>/writer.lock                                 the writer lock (Store.Lock)
//	<dir>/cas.lock                                    serialises commits (rename, delete)
//	<dir>/tmp.lock                                    shared while a temp file is being written
//
// File names are only ever produced from domain.ObjectID.String(), never from
// caller-supplied text. An object is written to a ".tmp-" file in its shard
// directory, fsynced, renamed over its final name and the directory is fsynced, so
// readers see the old or the new object in full and a returned Put is durable.
// PutBatch saves a round of syncs for objects whose names are free: it renames
// the complete temp files into place first, then fsyncs the files and their
// directories all at once; an object of a batch that did not return may then be
// incomplete after a power cut (see PutBatch).
//
// The version used by CompareAndSwap is the lowercase hex SHA-256 of the object's
// contents, which every process computes alike. The compare and the rename happen
// under an exclusive flock(2) on cas.lock, so CompareAndSwap is atomic across
// processes that share the directory (on a local file system; flock over NFS is not
// reliable).
//
// # File times
//
// The Store's writes leave the real times on what they change. Store.Dated(t)
// returns a view whose writes and removals set the access and modification times
// of everything they change to t instead: the object file (set on the temp file
// after its last write, so that it never shows another time), the shard directory
// it is renamed into or unlinked from, the objects directory when a shard
// directory is created, and the store directory and lock files when those are
// created. The Cloak writes through such a view with t the start of its time
// window, so that an observer of the directory (a synced folder, a backup) sees
// only window times there. What a view cannot hide:
//
//   - the inode change time (ctime), which no process can set: every write,
//     rename, unlink and the setting of the times itself update it to the real
//     time, and anyone who can stat(2) the file sees it;
//   - the birth time that some file systems keep (ext4, btrfs, APFS; statx(2) on
//     Linux), which Linux cannot set either: every object file shows when its
//     temp file was created;
//   - the real times a directory shows between a change and the moment the view
//     sets them, within the same call (from the creation of a temp file through
//     its fsync to the rename), and the times of what Open, or the Store itself,
//     changed;
//   - the order of inode numbers.
//
// On Linux, reads (Get, GetVersioned, List, the compare of CompareAndSwap and
// Open's search for temp files) open object files and directories with O_NOATIME,
// so that they leave access times as they are. Linux grants the flag only to the
// owner of a file (or a process with CAP_FOWNER); for other files the read goes
// without it. On macOS and the BSDs, which have no such flag, reads update access
// times as the file system's mount options say.
//
// The package builds on systems with flock(2): Linux, macOS and the BSDs.
package fsblob
