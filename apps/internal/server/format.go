package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/ai-pantheon/aegis/domain"
)

// StoreFormatID is the reserved object id of the store-format marker,
// SHA-256("aegisd store format"). Clients can neither read, write nor delete
// it (400 invalid_object_id).
var StoreFormatID = domain.ObjectID(sha256.Sum256([]byte("aegisd store format")))

// StoreFormat is the marker's content: format 2, every object stored as
// SHA-256(write-enabler) || body. Stores of aegisd before write-enablers
// (format 1) have no marker and hold bodies only.
const StoreFormat = "aegisd store format 2: sha256(write-enabler) || body\n"

// ErrLegacyStore means the store holds objects but no format marker: an aegisd
// from before write-enablers wrote them, and this one cannot serve them.
var ErrLegacyStore = errors.New("the store holds objects but no aegisd store-format marker: " +
	"it was written by an aegisd from before write-enablers, which this aegisd cannot serve")

// ErrStoreFormat means the store's marker names another format.
var ErrStoreFormat = errors.New("the store's aegisd store-format marker names another format")

var errStop = errors.New("stop listing")

// PrepareStore checks that store is in StoreFormat before aegisd serves it:
// a store with the marker is served; an empty store gets the marker; a store
// with objects but no marker fails with ErrLegacyStore and is left untouched.
// Replicas may start at once on one store: the marker is created with a
// compare-and-swap, and a marker another replica wrote meanwhile is fine.
func PrepareStore(ctx context.Context, store domain.BlobStore) error {
	switch ok, err := hasMarker(ctx, store); {
	case err != nil:
		return err
	case ok:
		return nil
	}
	other := false
	err := store.List(ctx, func(id domain.ObjectID) error {
		if id == StoreFormatID {
			return nil
		}
		other = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("checking the store format: %w", err)
	}
	if other {
		// Another replica may have marked the store and served writes since
		// the marker was read.
		switch ok, err := hasMarker(ctx, store); {
		case err != nil:
			return err
		case ok:
			return nil
		}
		return ErrLegacyStore
	}
	_, err = store.CompareAndSwap(ctx, StoreFormatID, "", []byte(StoreFormat))
	if errors.Is(err, domain.ErrConflict) {
		// Another replica wrote it first: fine if it is the same marker.
		switch ok, err := hasMarker(ctx, store); {
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("the store-format marker vanished while it was written: %w", domain.ErrConflict)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing the store-format marker: %w", err)
	}
	return nil
}

// hasMarker reads the marker: false if absent, ErrStoreFormat if it names
// another format.
func hasMarker(ctx context.Context, store domain.BlobStore) (bool, error) {
	b, err := store.Get(ctx, StoreFormatID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the store-format marker: %w", err)
	case !bytes.Equal(b, []byte(StoreFormat)):
		return false, fmt.Errorf("%w: %.40q, want %q", ErrStoreFormat, b, StoreFormat)
	}
	return true, nil
}
