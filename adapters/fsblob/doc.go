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
// On Linux, reads (Get, GetVersioned, List, the compare of CompareAndSwap and
// Open's search for temp files) open object files and directories with O_NOATIME,
// so that they leave access times as they are. Linux grants the flag only to the
// owner of a file (or a process with CAP_FOWNER); for other files the read goes
// without it. On macOS and the BSDs, which have no such flag, reads update access
// times as the file system's mount options say.
//
// The package builds on systems with flock(2): Linux, macOS and the BSDs.
package fsblob
