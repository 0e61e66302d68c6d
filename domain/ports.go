package domain

import (
	"context"
	"crypto/rand"
	"io"
	"time"
)

// Version identifies one stored state of an object for compare-and-swap.
// The empty Version means "the object does not exist". Versions are opaque:
// only the store that issued one interprets it.
type Version string

// BlobStore is where sealed objects live. It is untrusted: everything put here
// is already encrypted and padded. Implementations must be safe for concurrent use.
//
// Objects written with Put are treated as immutable by the Vault (every write
// uses a fresh id). The vault header is the one mutable object; it is only
// written with CompareAndSwap.
//
// Put, Delete and CompareAndSwap are atomic with respect to each other, and a Put
// changes the object's version. A version may come back only for identical
// contents: content hashes qualify, counters that restart after a Delete do not.
// List calls fn from one goroutine at a time.
type BlobStore interface {
	// Put stores data under id, replacing any existing object. A reader sees either
	// the old bytes or the new bytes in full, never a mix or a prefix.
	Put(ctx context.Context, id ObjectID, data []byte) error
	// Get returns the object's bytes, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id ObjectID) ([]byte, error)
	// Delete removes the object, or returns an error wrapping ErrNotFound if it is absent.
	Delete(ctx context.Context, id ObjectID) error
	// List calls fn once for every stored object id, in no particular order.
	// An error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(ObjectID) error) error
	// GetVersioned returns the object's bytes and current version, or ErrNotFound.
	GetVersioned(ctx context.Context, id ObjectID) ([]byte, Version, error)
	// CompareAndSwap writes data under id only if the object's current version is
	// expected (the empty Version: only if absent). It returns the new version, or an
	// error wrapping ErrConflict when the current version differs.
	CompareAndSwap(ctx context.Context, id ObjectID, expected Version, data []byte) (Version, error)
}

// WriteEnabler is the secret that authorizes overwriting or deleting one object
// on a store shared with other clients. The store keeps only a hash of it.
type WriteEnabler [32]byte

// WriteGuard is implemented by stores shared with other clients (httpblob over
// aegisd) that refuse to overwrite or delete an object without the write-enabler
// it was created with (Tahoe-LAFS's write-enablers). The Vault derives one
// enabler per object from a secret of the vault, so the enablers do not link one
// vault's objects together, and uses the view Guarded returns for every request.
// Such stores do not list objects: List fails with an error wrapping
// errors.ErrUnsupported.
type WriteGuard interface {
	// Guarded returns a view of the store that sends enabler(id) with every Put,
	// CompareAndSwap and Delete of id. Reads are unchanged.
	Guarded(enabler func(id ObjectID) WriteEnabler) BlobStore
}

// Locker is implemented by stores that can serialise writers, including writers in
// other processes (fsblob uses an advisory file lock). The Vault holds the lock for
// the whole of each write, so writers wait for each other instead of conflicting.
type Locker interface {
	// Lock blocks until the writer lock is held or ctx is done. The returned function
	// releases it; calling it a second time returns an error.
	Lock(ctx context.Context) (unlock func() error, err error)
}

// Clock tells the time. The Cloak buckets timestamps with it; tests use a fixed clock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Random is the source of randomness for object ids and shuffles.
// Production code uses crypto/rand.Reader; there is no other choice outside tests.
type Random = io.Reader

// DefaultRandom returns crypto/rand.Reader.
func DefaultRandom() Random { return rand.Reader }

// Object is one object of a batch.
type Object struct {
	ID   ObjectID
	Data []byte
}

// BatchSwapper is implemented by stores that write a batch of objects and then
// swap one object in fewer rounds of syncs together than with PutBatch followed
// by CompareAndSwap (fsblob syncs the swapped object's new contents together with
// the batch). The Vault uses it, on a store with a writer lock, for the objects of
// a commit and its header swap.
type BatchSwapper interface {
	// PutBatchThenSwap stores objs as PutBatch does and then, only once they are all
	// durable, does CompareAndSwap(id, expected, data). When it returns nil both are
	// durable. An error wrapping ErrConflict means that the swap was refused and
	// did not happen; after any other error the batch and the swap may or may not
	// have happened.
	PutBatchThenSwap(ctx context.Context, objs []Object, id ObjectID, expected Version, data []byte) (Version, error)
}

// Batcher is implemented by stores that write or delete many objects more cheaply
// together than one at a time (fsblob syncs each directory once per batch instead
// of once per object). The Vault uses it when present.
type Batcher interface {
	// PutBatch stores every object as Put would. When it returns nil all of them are
	// durable. It is not atomic as a whole: after a failure or a crash some objects
	// may exist, as after some of a series of Puts.
	PutBatch(ctx context.Context, objs []Object) error
	// DeleteBatch removes the objects that exist and skips absent ones. Unlike
	// Delete, it need not make the removals durable: it is for garbage.
	DeleteBatch(ctx context.Context, ids []ObjectID) error
}

// Dater is implemented by stores whose objects carry times that an observer of
// the store can read (fsblob: the modification and access times of object files
// and of the directories that hold them). The Cloak writes through the view Dated
// returns, so that those times show only the window a write fell in.
type Dater interface {
	// Dated returns a view of the store that sets every time it would otherwise set
	// to the moment of a write or a removal (modification and access times of the
	// object and of the directories it changes) to t instead. Reads through any
	// view leave access times as they are where the platform allows it.
	Dated(t time.Time) BlobStore
}

// Networked is implemented by stores whose requests travel over a network
// (httpblob, s3blob): an observer of the network or of the server sees each
// request when it is sent. The Cloak holds their requests to window boundaries
// by default.
type Networked interface {
	// Networked reports whether requests leave the machine.
	Networked() bool
}

// MetadataStripper is implemented by stores whose transport can send fields
// beside the object (httpblob: HTTP headers). The Cloak's layer (its strip
// stage) writes through the view Stripped returns.
type MetadataStripper interface {
	// Stripped returns a view of the store whose requests carry only the fields
	// the protocol needs and those named in allow (for HTTP, header names in any
	// case); every other field, whoever added it, is removed before sending.
	Stripped(allow []string) BlobStore
}
