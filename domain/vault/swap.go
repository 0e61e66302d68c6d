package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ai-pantheon/aegis/domain"
)

// putMaybeSwap puts the objects of a commit and, where the store is a
// domain.BatchSwapper, swaps the header from expected to hdr in the same call
// (swapped reports it). Otherwise, or when that call failed without the swap
// taking effect, the objects are durable when it returns nil and the caller swaps
// the header (writeHeader). After an error the header was not swapped, unless the
// error wraps ErrOutcomeUnknown: then nothing it wrote may be deleted.
func (v *Vault) putMaybeSwap(ctx context.Context, objs []pending, expected domain.Version, hdr []byte) (ver domain.Version, swapped bool, err error) {
	bs, ok := v.store.(domain.BatchSwapper)
	if !ok {
		return "", false, v.putAll(ctx, objs)
	}
	batch := make([]domain.Object, len(objs))
	for i, p := range objs {
		batch[i] = domain.Object{ID: p.id, Data: p.obj}
	}
	ver, err = bs.PutBatchThenSwap(ctx, batch, v.headerID, expected, hdr)
	if err == nil {
		return ver, true, nil
	}
	// Settle the outcome by reading the header back, as writeHeader does.
	cur, curVer, gerr := v.store.GetVersioned(ctx, v.headerID)
	switch {
	case gerr == nil && bytes.Equal(cur, hdr):
		return curVer, true, nil
	case gerr != nil && !errors.Is(gerr, domain.ErrNotFound):
		return "", false, fmt.Errorf("%w: %w (the header could not be read back: %v)", domain.ErrOutcomeUnknown, err, gerr)
	}
	// The swap did not happen. Some objects may not have been written: put them
	// all (again: the same bytes under the same ids), and leave the swap to the
	// caller, which settles a refusal.
	return "", false, v.putAll(ctx, objs)
}
