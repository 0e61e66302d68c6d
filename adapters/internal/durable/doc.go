// Package durable holds the file handling the adapters that keep files share
// (fsblob, fileledger, the issuer and gateway key stores), so that each piece
// exists once:
//
//   - WriteTemp and WriteFile: a file written to a temp file in its
//     directory, synced and renamed into place, with the directory synced after;
//     a failure leaves no temp file behind.
//   - SyncDir and SyncFile: fsync of a directory (making the entries created,
//     renamed or removed in it durable) and of a file by name.
//   - OpenDir: opening, or creating and syncing, an adapter's directory.
//   - ReadPrivate: reading a file only its owner may read (a key file).
//   - Lock, OpenLocked, TryOpenLocked and Unlock: flock(2) locks that honour a
//     context, polling with a growing delay (flock itself cannot be interrupted).
//   - KeyDir: a directory of secret key files shared by processes (the
//     issuer and gateway key stores), built on the above.
//   - Parallel: a bounded pool of goroutines that stops at the first error
//     (the batches of fsblob and s3blob).
package durable
