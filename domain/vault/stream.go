package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// errMissing is an object the manifest references but the store does not have. It
// is corruption, unless a concurrent writer replaced the manifest and collected the
// object while we read: readers then retry against the new header.
var errMissing = fmt.Errorf("object is missing: %w", domain.ErrIntegrity)

// adFunc returns the associated data of the chunk stored under id at index; final
// marks the last chunk, so dropping trailing chunks is detected (as in the STREAM
// construction). The object id makes the associated data unique to one write: an
// object sealed for a write that never committed cannot stand in for an object of
// the write that did, even though both have the same version and position.
type adFunc func(id domain.ObjectID, index uint32, final bool) []byte

func chunkAD(prefix []byte) adFunc {
	prefix = prefix[:len(prefix):len(prefix)]
	return func(id domain.ObjectID, index uint32, final bool) []byte {
		b := append(prefix, id[:]...)
		b = binary.BigEndian.AppendUint32(b, index)
		if final {
			return append(b, 1)
		}
		return append(b, 0)
	}
}

// dataAD binds a data chunk to its vault, category slot, DEK generation, write
// version, object id, position and finality.
func dataAD(vaultID [32]byte, e *entry) adFunc {
	b := append([]byte("aegis/v1 data"), vaultID[:]...)
	b = append(b, e.slot[:]...)
	b = binary.BigEndian.AppendUint32(b, e.generation)
	b = binary.BigEndian.AppendUint64(b, e.version)
	return chunkAD(b)
}

// manifestAD binds a manifest chunk to its vault, epoch, object id, position and
// finality.
func manifestAD(vaultID [32]byte, epoch uint64) adFunc {
	b := append([]byte("aegis/v1 manifest"), vaultID[:]...)
	b = binary.BigEndian.AppendUint64(b, epoch)
	return chunkAD(b)
}

// dekAD binds a wrapped DEK to its vault, slot and generation.
func dekAD(vaultID [32]byte, slot [16]byte, generation uint32) []byte {
	b := append([]byte("aegis/v1 dek"), vaultID[:]...)
	b = append(b, slot[:]...)
	return binary.BigEndian.AppendUint32(b, generation)
}

// sealStream reads src to its end and hands each sealed chunk to emit, which owns
// the buffer from then on. It stores the payload as domain.PlanPadding plans it: a
// payload that fits one chunk is padded to the smallest size the policy allows; a
// larger one becomes plan.Chunks chunks of the largest size, the extra ones empty.
// It holds at most one chunk in memory.
func (v *Vault) sealStream(ctx context.Context, aead domain.AEAD, ad adFunc, newID func() (domain.ObjectID, error), src io.Reader, emit func(chunkRef, []byte) error) (uint64, error) {
	pre, ovh := aead.PrefixSize(), aead.Overhead()
	maxSize := v.policy.Max()
	capMax := domain.FrameCapacity(maxSize, ovh)
	if capMax <= 0 {
		return 0, fmt.Errorf("%w: largest object size %d cannot hold a chunk", domain.ErrInvalidInput, maxSize)
	}
	var (
		total    uint64
		index    uint32
		carry    [1]byte
		hasCarry bool
	)
	body := pre + domain.FrameHeaderSize
	seal := func(obj []byte, n int, final bool) error {
		id, err := newID()
		if err != nil {
			return err
		}
		domain.SealChunk(aead, obj, obj[body:body+n], ad(id, index, final))
		index++
		return emit(chunkRef{id: id, size: uint32(len(obj))}, obj)
	}
	// plan is the plan of the whole payload, total bytes, once read: it must need
	// the dataChunks chunks it was read into.
	plan := func(total uint64, dataChunks int) (domain.PaddingPlan, error) {
		if total > math.MaxInt {
			return domain.PaddingPlan{}, fmt.Errorf("%w: a %d-byte payload", domain.ErrInvalidInput, total)
		}
		p, err := domain.PlanPadding(v.policy, ovh, int(total))
		if err != nil {
			return p, err
		}
		if p.DataChunks != dataChunks || (dataChunks > 1 && p.ChunkSize != maxSize) {
			return p, fmt.Errorf("aegis: a %d-byte payload read into %d chunks is planned as %d chunks of %d bytes", total, dataChunks, p.DataChunks, p.ChunkSize)
		}
		return p, nil
	}
	// A payload of known length that fits one chunk goes straight into an object of
	// the right size: no chunk-sized buffer, no copy.
	if lr, ok := src.(interface{ Len() int }); ok {
		n := lr.Len()
		p, err := domain.PlanPadding(v.policy, ovh, n)
		if err != nil {
			return 0, err
		}
		if p.Chunks == 1 {
			obj := make([]byte, p.ChunkSize)
			if _, err := io.ReadFull(src, obj[body:body+n]); err != nil {
				return 0, fmt.Errorf("aegis: reading payload: %w", err)
			}
			if m, _ := src.Read(carry[:]); m == 0 {
				return uint64(n), seal(obj, n, true)
			}
			// The reader had more than it said: fall through to the general path with
			// what was read so far.
			src = io.MultiReader(bytes.NewReader(obj[body:body+n]), bytes.NewReader([]byte{carry[0]}), src)
		}
	}
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var buf []byte
		if first {
			// The first chunk is read into a pooled buffer: if the payload turns out to
			// fit a small object, the buffer goes back to the pool.
			buf = v.getChunkBuf(maxSize)
			first = false
		} else {
			buf = make([]byte, maxSize)
		}
		payload := buf[body : body+capMax]
		off := 0
		if hasCarry {
			payload[0] = carry[0]
			off = 1
		}
		n, err := io.ReadFull(src, payload[off:])
		n += off
		last := false
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			last = true
		case err != nil:
			return 0, fmt.Errorf("aegis: reading payload: %w", err)
		default:
			// Full chunk: look one byte ahead to learn whether it is the last.
			m, perr := io.ReadFull(src, carry[:])
			switch {
			case perr == io.EOF:
				last = true
			case perr != nil:
				return 0, fmt.Errorf("aegis: reading payload: %w", perr)
			}
			hasCarry = m == 1
		}
		total += uint64(n)
		if !last {
			if err := seal(buf, n, false); err != nil {
				return 0, err
			}
			continue
		}
		p, err := plan(total, int(index)+1)
		if err != nil {
			return 0, err
		}
		if p.Chunks == 1 {
			obj := make([]byte, p.ChunkSize)
			copy(obj[body:], payload[:n])
			v.putChunkBuf(buf)
			return total, seal(obj, n, true)
		}
		if err := seal(buf, n, p.Chunks == p.DataChunks); err != nil {
			return 0, err
		}
		for i := p.DataChunks; i < p.Chunks; i++ {
			if err := seal(make([]byte, p.ChunkSize), 0, i == p.Chunks-1); err != nil {
				return 0, err
			}
		}
		return total, nil
	}
}

// readWindow is the number of chunks openStream fetches together: in a random
// order, concurrently. It bounds the memory of a streaming read to readWindow
// largest-size objects.
const readWindow = 8

// openStream reads the chunks of one payload, authenticates each against its
// position and writes the payload to w in order. The chunks are fetched a window
// at a time, in a random order within the window, so the store does not see them
// requested in sequence. Any missing, resized, swapped, reordered or truncated
// chunk is an ErrIntegrity.
func (v *Vault) openStream(ctx context.Context, aead domain.AEAD, ad adFunc, refs []chunkRef, size uint64, what string, w io.Writer) error {
	var total uint64
	objs := make([][]byte, min(readWindow, len(refs)))
	for start := 0; start < len(refs); start += readWindow {
		window := refs[start:min(start+readWindow, len(refs))]
		if err := v.fetch(ctx, window, objs, what, start); err != nil {
			return err
		}
		for k, obj := range objs[:len(window)] {
			i := start + k
			payload, err := domain.OpenChunk(aead, obj, ad(refs[i].id, uint32(i), i == len(refs)-1))
			if err != nil {
				return fmt.Errorf("%s chunk %d: %w", what, i, err)
			}
			total += uint64(len(payload))
			if total > size {
				return fmt.Errorf("%s: chunks hold more than the recorded %d bytes: %w", what, size, domain.ErrIntegrity)
			}
			if _, err := w.Write(payload); err != nil {
				return fmt.Errorf("%s: writing payload: %w", what, err)
			}
			objs[k] = nil
		}
	}
	if total != size {
		return fmt.Errorf("%s: chunks hold %d bytes, the manifest says %d: %w", what, total, size, domain.ErrIntegrity)
	}
	return nil
}

// fetch gets the objects of window into objs, in a random order and with up to
// parallelism requests at a time, and checks each object's size against the
// manifest. first is the index of window[0] in the payload, for messages.
func (v *Vault) fetch(ctx context.Context, window []chunkRef, objs [][]byte, what string, first int) error {
	order, err := domain.Permutation(v.random, len(window))
	if err != nil {
		return err
	}
	get := func(k int) error {
		ref := window[k]
		obj, err := v.store.Get(ctx, ref.id)
		if errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("%s chunk %d: object %s: %w", what, first+k, ref.id, errMissing)
		}
		if err != nil {
			return fmt.Errorf("%s chunk %d: %w", what, first+k, err)
		}
		if len(obj) != int(ref.size) {
			return fmt.Errorf("%s chunk %d: object is %d bytes, the manifest says %d: %w", what, first+k, len(obj), ref.size, domain.ErrIntegrity)
		}
		objs[k] = obj
		return nil
	}
	if len(order) == 1 {
		return get(0)
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, v.parallelism)
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[k] = get(k)
		})
	}
	wg.Wait()
	// Report the first failing chunk in payload order, so errors are stable.
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pending is a sealed object waiting to be written.
type pending struct {
	id  domain.ObjectID
	obj []byte
}

// putAll writes objects in one PutBatch when the store is a domain.Batcher, else
// with up to parallelism concurrent Puts, in the order given (callers shuffle
// first). It returns the first error.
func (v *Vault) putAll(ctx context.Context, objs []pending) error {
	if b, ok := v.store.(domain.Batcher); ok {
		batch := make([]domain.Object, len(objs))
		for i, p := range objs {
			batch[i] = domain.Object{ID: p.id, Data: p.obj}
		}
		return b.PutBatch(ctx, batch)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		next     = make(chan pending)
	)
	workers := min(v.parallelism, len(objs))
	for range workers {
		wg.Go(func() {
			for p := range next {
				if err := v.store.Put(ctx, p.id, p.obj); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for _, p := range objs {
		select {
		case next <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// discard deletes objects that are proven unreferenced: written by an operation
// whose header write was refused, or replaced by a commit. It is best effort:
// what it cannot delete is unreferenced and Sweep (or the collection of the
// write's intent) removes it later.
// It reports whether every object is gone.
func (v *Vault) discard(ctx context.Context, ids []domain.ObjectID) bool {
	if len(ids) == 0 {
		return true
	}
	// The caller's values (the Cloak's accounting) but not its end: garbage goes
	// even after the caller gave up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.lockTimeout)
	defer cancel()
	if b, ok := v.store.(domain.Batcher); ok {
		return b.DeleteBatch(ctx, ids) == nil
	}
	gone := true
	for _, id := range ids {
		if err := v.store.Delete(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
			gone = false
		}
	}
	return gone
}

// leftover returns the garbage list of the current manifest, unless this handle
// made that manifest and deleted all of its garbage: then there is nothing to
// delete again.
func (v *Vault) leftover() []domain.ObjectID {
	if v.cleared != 0 && v.cleared == v.root.manifestEpoch {
		return nil
	}
	return v.man.garbage
}

// getChunkBuf returns a buffer of size bytes from the vault's pool.
func (v *Vault) getChunkBuf(size int) []byte {
	if p, ok := v.chunkPool.Get().(*[]byte); ok && len(*p) == size {
		return *p
	}
	return make([]byte, size)
}

// putChunkBuf returns a buffer that no object references any more.
func (v *Vault) putChunkBuf(b []byte) {
	v.chunkPool.Put(&b)
}
