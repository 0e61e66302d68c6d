package anonymize

import (
	"context"
	"errors"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// view is the layer as a domain.BlobStore over target (the wrapped store or a
// guarded view of it).
type view struct {
	l      *Layer
	target domain.BlobStore
}

func (v *view) do(ctx context.Context, o *op) (*op, error) {
	o.ctx, o.target = ctx, v.target
	err := v.l.submit(o)
	return o, err
}

// Put implements domain.BlobStore.
func (v *view) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	_, err := v.do(ctx, &op{kind: opPut, id: id, data: data})
	return err
}

// Get implements domain.BlobStore.
func (v *view) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	o, err := v.do(ctx, &op{kind: opGet, id: id})
	return o.out, err
}

// GetVersioned implements domain.BlobStore.
func (v *view) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	o, err := v.do(ctx, &op{kind: opGetVersioned, id: id})
	return o.out, o.ver, err
}

// Delete implements domain.BlobStore.
func (v *view) Delete(ctx context.Context, id domain.ObjectID) error {
	_, err := v.do(ctx, &op{kind: opDelete, id: id})
	return err
}

// List implements domain.BlobStore: one request, held like the others.
func (v *view) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	_, err := v.do(ctx, &op{kind: opList, list: fn})
	return err
}

// CompareAndSwap implements domain.BlobStore.
func (v *view) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	o, err := v.do(ctx, &op{kind: opCAS, id: id, expected: expected, data: data})
	return o.ver, err
}

// whole reports whether a batch goes to the wrapped store in one call: when
// requests leave at once, carry no tokens of the layer and the store batches.
func (v *view) whole() bool {
	_, ok := v.target.(domain.Batcher)
	return ok && !v.l.hold && v.l.tokens == nil
}

// PutBatch implements domain.Batcher: one call of the wrapped store's PutBatch
// when requests leave at once, else one request per object, all held to the same
// window and shuffled with the rest.
func (v *view) PutBatch(ctx context.Context, objs []domain.Object) error {
	if len(objs) == 0 {
		return nil
	}
	if v.whole() {
		_, err := v.do(ctx, &op{kind: opPutBatch, objs: objs})
		return err
	}
	return each(len(objs), func(i int) error { return v.Put(ctx, objs[i].ID, objs[i].Data) })
}

// DeleteBatch implements domain.Batcher (absent objects are skipped).
func (v *view) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	if len(ids) == 0 {
		return nil
	}
	if v.whole() {
		_, err := v.do(ctx, &op{kind: opDeleteBatch, ids: ids})
		return err
	}
	return each(len(ids), func(i int) error {
		if err := v.Delete(ctx, ids[i]); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		return nil
	})
}

// each runs fn(0..n-1) concurrently and returns the first error.
func each(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// swapView adds domain.BatchSwapper: the batch and the swap go out as one unit.
type swapView struct{ *view }

// PutBatchThenSwap implements domain.BatchSwapper.
func (v swapView) PutBatchThenSwap(ctx context.Context, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	o, err := v.do(ctx, &op{kind: opSwap, objs: objs, id: id, expected: expected, data: data})
	return o.ver, err
}

// shape returns the layer over target with the optional interfaces target has:
// domain.Locker (passed on: taking the writer lock is not a store request),
// domain.BatchSwapper and domain.WriteGuard.
func (l *Layer) shape(target domain.BlobStore) domain.BlobStore {
	v := &view{l: l, target: target}
	locker, isLocker := target.(domain.Locker)
	_, isSwapper := target.(domain.BatchSwapper)
	_, isGuard := target.(domain.WriteGuard)
	switch {
	case isGuard && isLocker:
		return &guardLockView{guardView{v}, locker}
	case isGuard:
		return guardView{v}
	case isLocker && isSwapper:
		return lockSwapView{swapView{v}, locker}
	case isLocker:
		return lockView{v, locker}
	case isSwapper:
		return swapView{v}
	}
	return v
}

type (
	guardView     struct{ *view }
	guardLockView struct {
		guardView
		domain.Locker
	}
	lockView struct {
		*view
		domain.Locker
	}
	lockSwapView struct {
		swapView
		domain.Locker
	}
)

// Guarded implements domain.WriteGuard.
func (v guardView) Guarded(enabler func(domain.ObjectID) domain.WriteEnabler) domain.BlobStore {
	return v.l.shape(v.target.(domain.WriteGuard).Guarded(enabler))
}

var (
	_ domain.Batcher      = (*view)(nil)
	_ domain.BatchSwapper = swapView{}
	_ domain.WriteGuard   = guardView{}
	_ domain.Locker       = lockView{}
	_ domain.Locker       = lockSwapView{}
	_ domain.BatchSwapper = lockSwapView{}
	_ domain.WriteGuard   = (*guardLockView)(nil)
)
