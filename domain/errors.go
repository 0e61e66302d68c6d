package domain

import "errors"

// Sentinel errors. Callers match them with errors.Is; the errors returned by
// Aegis wrap them with context ("aegis: category \"x\" chunk 2: integrity check failed"):
// their own text carries no package prefix, so that a chain names it once.
var (
	// ErrWrongPassphrase means the passphrase does not match the vault's key-check value.
	// It is reported before anything is written.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrIntegrity means stored bytes failed authentication or are structurally corrupt:
	// tampering, truncation, reordering, replay or bit rot.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNotFound means a category, object or vault does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a compare-and-swap lost against a concurrent writer.
	ErrConflict = errors.New("conflict with a concurrent change")
	// ErrInvalidInput means the caller passed an argument that is not allowed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnsupportedVersion means a stored object has a format version this build does not read.
	ErrUnsupportedVersion = errors.New("unsupported format version")
	// ErrKDFParams means KDF parameters are below the floor (a downgrade) or above the
	// ceiling (a denial of service).
	ErrKDFParams = errors.New("KDF parameters out of range")
	// ErrExists means Create found a vault already there.
	ErrExists = errors.New("vault already exists")
	// ErrClosed means the vault was closed and its keys destroyed.
	ErrClosed = errors.New("vault is closed")
	// ErrBusy means the store's writer lock could not be taken in time.
	ErrBusy = errors.New("vault is locked by another writer")
	// ErrNotEmpty means Create found objects in a store that should be empty: the
	// remains of another vault, or a store shared with other data.
	ErrNotEmpty = errors.New("the store already holds objects")
	// ErrOutcomeUnknown means a write was sent but whether it took effect could not
	// be settled (the store stopped answering). Nothing it wrote was deleted; a later
	// write settles it and removes what is unreferenced.
	ErrOutcomeUnknown = errors.New("the outcome of the write is unknown")
)

var errShortObject = errors.Join(ErrIntegrity, errors.New("aegis: object is shorter than the sealing overhead"))
