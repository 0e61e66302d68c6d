package vault

import (
	"bytes"
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/domain"
)

// BatchItem is one category of a StoreBatch.
type BatchItem struct {
	Category string
	Data     []byte
}

// BatchItemResult says what the store received for one category of a StoreBatch
// or a Stream.
type BatchItemResult struct {
	Category       string `json:"category"`
	PlaintextBytes uint64 `json:"plaintext_bytes"`
	Objects        int    `json:"objects"` // number of stored objects (chunks)
	// PaddedBytes is what the AEAD encrypted: the sum over the objects of their
	// size less the AEAD overhead (every chunk's frame: length prefix, payload,
	// zero padding).
	PaddedBytes uint64 `json:"padded_bytes"`
	StoredBytes uint64 `json:"stored_bytes"` // sum of the objects' sizes
}

// BatchResult describes a committed StoreBatch.
type BatchResult struct {
	// Items has one result per BatchItem, in the order of the items.
	Items []BatchItemResult
	// WriteOrder lists, for every data object in the order it was handed to the
	// store, the index of the item it belongs to. It is for the caller's report
	// only: it links objects to categories and must not leave the trusted side.
	WriteOrder []int
}

// StoreBatch stores items with one manifest commit: all of them become visible
// together, or none does. The data objects of all items are put in a random order
// (a uniform permutation drawn with domain.Shuffle from the vault's Random source)
// and handed to the store in that order: on a store with a writer lock, as one
// PutBatch together with the manifest objects, which follow them, when the store
// is a domain.Batcher (else by concurrent Puts); on a store without one, after the
// write's intent is listed, before the manifest objects. WriteOrder reports that
// order. The header follows.
//
// Item categories must be valid and distinct; otherwise nothing is written and
// the error wraps domain.ErrInvalidInput. If any write or the commit fails, the
// objects already written are deleted again and the vault is unchanged.
func (v *Vault) StoreBatch(ctx context.Context, items []BatchItem) (BatchResult, error) {
	if len(items) == 0 {
		return BatchResult{}, fmt.Errorf("%w: StoreBatch of no categories", domain.ErrInvalidInput)
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if err := domain.ValidateCategory(it.Category); err != nil {
			return BatchResult{}, fmt.Errorf("batch item %d: %w", i, err)
		}
		if seen[it.Category] {
			return BatchResult{}, fmt.Errorf("%w: category %q appears twice in one batch", domain.ErrInvalidInput, it.Category)
		}
		seen[it.Category] = true
	}
	if err := v.begin(); err != nil {
		return BatchResult{}, err
	}
	defer v.mu.Unlock()
	var res BatchResult
	err := v.mutate(ctx, false, func(m *manifest, w *write) ([]change, []domain.ObjectID, error) {
		var (
			objs    []pending
			owner   []int
			changes []change
		)
		res = BatchResult{Items: make([]BatchItemResult, len(items))}
		for i, it := range items {
			base := m.categories[it.Category]
			next, dek, err := v.nextEntry(it.Category, base)
			if err != nil {
				return nil, nil, err
			}
			r := &res.Items[i]
			r.Category = it.Category
			r.PlaintextBytes = uint64(len(it.Data))
			emit := func(ref chunkRef, obj []byte) error {
				next.chunks = append(next.chunks, ref)
				objs = append(objs, pending{ref.id, obj})
				owner = append(owner, i)
				r.Objects++
				r.PaddedBytes += uint64(len(obj) - dek.Overhead())
				r.StoredBytes += uint64(len(obj))
				return nil
			}
			next.size, err = v.sealStream(ctx, dek, dataAD(v.root.vaultID, next), w.nextData, bytes.NewReader(it.Data), emit)
			if err != nil {
				return nil, nil, fmt.Errorf("aegis: store %q: %w", it.Category, err)
			}
			changes = append(changes, change{it.Category, base, next})
		}
		if err := domain.Shuffle(v.random, len(objs), func(i, j int) {
			objs[i], objs[j] = objs[j], objs[i]
			owner[i], owner[j] = owner[j], owner[i]
		}); err != nil {
			return nil, nil, err
		}
		written := make([]domain.ObjectID, len(objs))
		for i, p := range objs {
			written[i] = p.id
		}
		if err := v.register(ctx, w, uint32(len(objs))); err != nil {
			return nil, nil, err
		}
		// The commit puts them, in this order, in one batch with the manifest.
		w.deferred = objs
		res.WriteOrder = owner
		return changes, written, nil
	})
	if err != nil {
		return BatchResult{}, err
	}
	return res, nil
}

// Padding returns the padding policy the vault sizes its objects with, so that a
// caller (the Cloak) can plan exactly what the store will receive.
func (v *Vault) Padding() domain.PaddingPolicy { return v.policy }
