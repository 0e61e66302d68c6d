// Package faultblob is a domain.BlobStore wrapper that injects faults, for tests
// of what the Vault and the Cloak do when their store misbehaves.
//
// Wrap puts a fault-injecting store in front of any domain.BlobStore and returns
// it with a Controller. Through the Controller a test counts the operations a
// clean run makes, then arms one Fault at a time: fail the Nth operation (of any
// kind, or only of one kind) before it reaches the inner store, or after the
// inner store applied it (the ambiguous case: the write took effect but the
// caller sees an error), or return a truncated body from the Nth Get or
// GetVersioned (a short read). It can also reorder: List calls its callback in a
// shuffled order, and PutBatch and DeleteBatch hand their objects to the inner
// store in reverse order.
//
// The wrapper implements domain.Locker and domain.Batcher exactly when the inner
// store does (unless Options hide them), because the Vault takes another code path
// without a Batcher: a wrapper that always or never had them would test the wrong
// path. Every injected error wraps ErrInjected.
//
// A fault-free wrapper is transparent: it passes the BlobStore conformance suite
// (domain/blobstoretest).
package faultblob

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// ErrInjected is wrapped by every error the wrapper makes up.
var ErrInjected = errors.New("aegis/faultblob: injected fault")

// Op names a store operation.
type Op string

// The operations the wrapper counts. OpAny matches every one of them.
const (
	OpAny          Op = "any"
	OpPut          Op = "put"
	OpGet          Op = "get"
	OpGetVersioned Op = "get-versioned"
	OpDelete       Op = "delete"
	OpList         Op = "list"
	OpCAS          Op = "compare-and-swap"
	OpPutBatch     Op = "put-batch"
	OpDeleteBatch  Op = "delete-batch"
	OpLock         Op = "lock"
	// OpPutBatchSwap is domain.BatchSwapper's PutBatchThenSwap: one operation.
	OpPutBatchSwap Op = "put-batch-then-swap"
)

// Ops lists every operation kind (OpAny excluded).
func Ops() []Op {
	return []Op{OpPut, OpGet, OpGetVersioned, OpDelete, OpList, OpCAS, OpPutBatch, OpDeleteBatch, OpLock, OpPutBatchSwap}
}

// Kind is what an armed fault does.
type Kind int

const (
	// Fail returns an error without calling the inner store: nothing happened.
	Fail Kind = iota + 1
	// FailAfterApply calls the inner store, then returns an error even when it
	// succeeded: the operation took effect but the caller cannot know. For Lock the
	// lock is taken and released again before the error is returned.
	FailAfterApply
	// ShortRead applies to Get and GetVersioned only: the inner store is read and
	// the first half of the body is returned, with no error.
	ShortRead
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Fail:
		return "fail"
	case FailAfterApply:
		return "fail-after-apply"
	case ShortRead:
		return "short-read"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Fault is one programmed fault. It fires once, on the Nth operation matching Op
// counted from the moment it was armed, and is then spent. A ShortRead counts
// only reads (Get and GetVersioned), also when Op is OpAny.
type Fault struct {
	// Op selects the operations that count: OpAny (or "") counts every one.
	Op Op
	// N is 1-based: the fault fires on the Nth matching operation.
	N int
	// Kind is what happens then.
	Kind Kind
}

// Options configure Wrap. The zero value (or nil) mirrors the inner store.
type Options struct {
	// HideLocker makes the wrapper not implement domain.Locker even if the inner
	// store does.
	HideLocker bool
	// HideBatcher makes the wrapper not implement domain.Batcher (nor
	// domain.BatchSwapper) even if the inner store does: the Vault then writes and
	// deletes one object per call.
	HideBatcher bool
	// Seed seeds the shuffle of reordered List results (0 is a fixed seed).
	Seed uint64
}

// Controller programs the faults of one wrapper and counts its operations. It is
// safe for concurrent use.
type Controller struct {
	mu      sync.Mutex
	counts  map[Op]int // operations since the last Reset, by kind
	fault   *Fault
	seen    int // matching operations since the fault was armed
	fired   *Event
	reorder bool
	rng     *rand.Rand
}

// Event describes a fault that fired.
type Event struct {
	Fault Fault
	// Op is the operation it fired on.
	Op Op
	// ID is the object it hit (zero for List, PutBatch and DeleteBatch, and Lock).
	ID domain.ObjectID
}

// Arm programs f, replacing any fault that has not fired yet. It panics on a
// fault that can never fire (N < 1, an unknown Kind, ShortRead on an operation
// that returns no body): that is a mistake in the test.
func (c *Controller) Arm(f Fault) {
	if f.Op == "" {
		f.Op = OpAny
	}
	if f.N < 1 {
		panic(fmt.Sprintf("faultblob: Fault.N is %d, want >= 1", f.N))
	}
	switch f.Kind {
	case Fail, FailAfterApply:
	case ShortRead:
		if f.Op != OpAny && f.Op != OpGet && f.Op != OpGetVersioned {
			panic(fmt.Sprintf("faultblob: a short read of %s", f.Op))
		}
	default:
		panic(fmt.Sprintf("faultblob: unknown fault kind %d", int(f.Kind)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault, c.seen, c.fired = &f, 0, nil
}

// Disarm removes a fault that has not fired.
func (c *Controller) Disarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault = nil
}

// Fired returns the fault that fired since the last Arm, if any.
func (c *Controller) Fired() (Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired == nil {
		return Event{}, false
	}
	return *c.fired, true
}

// Reorder turns reordering on or off: List calls its callback in a shuffled
// order, PutBatch and DeleteBatch reach the inner store in reverse order.
func (c *Controller) Reorder(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reorder = on
}

// Reset sets the operation counts to zero.
func (c *Controller) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}

// Count returns the number of operations of kind op since the last Reset; OpAny
// counts all of them. A batch is one operation.
func (c *Controller) Count(op Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op == OpAny || op == "" {
		n := 0
		for _, k := range c.counts {
			n += k
		}
		return n
	}
	return c.counts[op]
}

// hit counts one operation and reports the fault kind that fires on it (0: none).
// Fault kinds that do not apply to op do not fire and do not count towards N:
// a ShortRead armed for OpAny fires on the Nth read.
func (c *Controller) hit(op Op, id domain.ObjectID) Kind {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[op]++
	f := c.fault
	if f == nil || (f.Op != OpAny && f.Op != op) {
		return 0
	}
	if f.Kind == ShortRead && op != OpGet && op != OpGetVersioned {
		return 0
	}
	c.seen++
	if c.seen < f.N {
		return 0
	}
	c.fault = nil
	c.fired = &Event{Fault: *f, Op: op, ID: id}
	return f.Kind
}

func (c *Controller) reordering() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reorder
}

func (c *Controller) shuffle(ids []domain.ObjectID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
}

func injected(op Op, id domain.ObjectID, k Kind) error {
	if id == (domain.ObjectID{}) {
		return fmt.Errorf("%w: %s (%s)", ErrInjected, op, k)
	}
	return fmt.Errorf("%w: %s %s (%s)", ErrInjected, op, id, k)
}

// Store is the fault-injecting domain.BlobStore. Wrap returns it, or a value that
// embeds it and adds Lock, PutBatch and DeleteBatch when the inner store has them.
type Store struct {
	inner domain.BlobStore
	c     *Controller
}

var _ domain.BlobStore = (*Store)(nil)

// Wrap returns a fault-injecting store over inner and its Controller. The store
// implements domain.Locker and domain.Batcher when inner does and opts do not hide
// them.
func Wrap(inner domain.BlobStore, opts *Options) (domain.BlobStore, *Controller) {
	if opts == nil {
		opts = &Options{}
	}
	c := &Controller{counts: map[Op]int{}, rng: rand.New(rand.NewPCG(opts.Seed, 0x6661756c74626c6f))}
	s := &Store{inner: inner, c: c}
	l, isLocker := inner.(domain.Locker)
	b, isBatcher := inner.(domain.Batcher)
	isLocker = isLocker && !opts.HideLocker
	isBatcher = isBatcher && !opts.HideBatcher
	switch {
	case isLocker && isBatcher:
		if bs, ok := inner.(domain.BatchSwapper); ok {
			return &lockerBatchSwapper{lockerBatcher{s, locker{s, l}, batcher{s, b}}, swapper{s, bs}}, c
		}
		return &lockerBatcher{s, locker{s, l}, batcher{s, b}}, c
	case isLocker:
		return &lockerOnly{s, locker{s, l}}, c
	case isBatcher:
		return &batcherOnly{s, batcher{s, b}}, c
	default:
		return s, c
	}
}

// Put implements domain.BlobStore.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	k := s.c.hit(OpPut, id)
	if k == Fail {
		return injected(OpPut, id, k)
	}
	if err := s.inner.Put(ctx, id, data); err != nil {
		return err
	}
	if k == FailAfterApply {
		return injected(OpPut, id, k)
	}
	return nil
}

// Get implements domain.BlobStore.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	k := s.c.hit(OpGet, id)
	if k == Fail {
		return nil, injected(OpGet, id, k)
	}
	b, err := s.inner.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch k {
	case FailAfterApply:
		return nil, injected(OpGet, id, k)
	case ShortRead:
		return b[:len(b)/2], nil
	}
	return b, nil
}

// GetVersioned implements domain.BlobStore.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	k := s.c.hit(OpGetVersioned, id)
	if k == Fail {
		return nil, "", injected(OpGetVersioned, id, k)
	}
	b, v, err := s.inner.GetVersioned(ctx, id)
	if err != nil {
		return nil, "", err
	}
	switch k {
	case FailAfterApply:
		return nil, "", injected(OpGetVersioned, id, k)
	case ShortRead:
		return b[:len(b)/2], v, nil
	}
	return b, v, nil
}

// Delete implements domain.BlobStore.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	k := s.c.hit(OpDelete, id)
	if k == Fail {
		return injected(OpDelete, id, k)
	}
	if err := s.inner.Delete(ctx, id); err != nil {
		return err
	}
	if k == FailAfterApply {
		return injected(OpDelete, id, k)
	}
	return nil
}

// List implements domain.BlobStore. With reordering on, it collects the inner
// listing first and calls fn in a shuffled order.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	k := s.c.hit(OpList, domain.ObjectID{})
	if k == Fail {
		return injected(OpList, domain.ObjectID{}, k)
	}
	if !s.c.reordering() && k != FailAfterApply {
		return s.inner.List(ctx, fn)
	}
	var ids []domain.ObjectID
	if err := s.inner.List(ctx, func(id domain.ObjectID) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return err
	}
	if k == FailAfterApply {
		// Part of the listing reached fn before the error.
		for _, id := range ids[:len(ids)/2] {
			if err := fn(id); err != nil {
				return err
			}
		}
		return injected(OpList, domain.ObjectID{}, k)
	}
	s.c.shuffle(ids)
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// CompareAndSwap implements domain.BlobStore.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	k := s.c.hit(OpCAS, id)
	if k == Fail {
		return "", injected(OpCAS, id, k)
	}
	v, err := s.inner.CompareAndSwap(ctx, id, expected, data)
	if err != nil {
		return "", err
	}
	if k == FailAfterApply {
		return "", injected(OpCAS, id, k)
	}
	return v, nil
}

type locker struct {
	s     *Store
	inner domain.Locker
}

// Lock implements domain.Locker.
func (l locker) Lock(ctx context.Context) (func() error, error) {
	k := l.s.c.hit(OpLock, domain.ObjectID{})
	if k == Fail {
		return nil, injected(OpLock, domain.ObjectID{}, k)
	}
	unlock, err := l.inner.Lock(ctx)
	if err != nil {
		return nil, err
	}
	if k == FailAfterApply {
		// Taken, then lost: release it so that the caller is not left holding a
		// lock it does not know about.
		_ = unlock()
		return nil, injected(OpLock, domain.ObjectID{}, k)
	}
	return unlock, nil
}

type batcher struct {
	s     *Store
	inner domain.Batcher
}

// PutBatch implements domain.Batcher.
func (b batcher) PutBatch(ctx context.Context, objs []domain.Object) error {
	k := b.s.c.hit(OpPutBatch, domain.ObjectID{})
	if k == Fail {
		return injected(OpPutBatch, domain.ObjectID{}, k)
	}
	if b.s.c.reordering() {
		objs = slices.Clone(objs)
		slices.Reverse(objs)
	}
	if err := b.inner.PutBatch(ctx, objs); err != nil {
		return err
	}
	if k == FailAfterApply {
		return injected(OpPutBatch, domain.ObjectID{}, k)
	}
	return nil
}

// DeleteBatch implements domain.Batcher.
func (b batcher) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	k := b.s.c.hit(OpDeleteBatch, domain.ObjectID{})
	if k == Fail {
		return injected(OpDeleteBatch, domain.ObjectID{}, k)
	}
	if b.s.c.reordering() {
		ids = slices.Clone(ids)
		slices.Reverse(ids)
	}
	if err := b.inner.DeleteBatch(ctx, ids); err != nil {
		return err
	}
	if k == FailAfterApply {
		return injected(OpDeleteBatch, domain.ObjectID{}, k)
	}
	return nil
}

type swapper struct {
	s     *Store
	inner domain.BatchSwapper
}

// PutBatchThenSwap implements domain.BatchSwapper, as one operation.
func (w swapper) PutBatchThenSwap(ctx context.Context, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	k := w.s.c.hit(OpPutBatchSwap, id)
	if k == Fail {
		return "", injected(OpPutBatchSwap, id, k)
	}
	if w.s.c.reordering() {
		objs = slices.Clone(objs)
		slices.Reverse(objs)
	}
	v, err := w.inner.PutBatchThenSwap(ctx, objs, id, expected, data)
	if err != nil {
		return "", err
	}
	if k == FailAfterApply {
		return "", injected(OpPutBatchSwap, id, k)
	}
	return v, nil
}

// The shapes Wrap can return.
type (
	lockerBatchSwapper struct {
		lockerBatcher
		swapper
	}
	lockerBatcher struct {
		*Store
		locker
		batcher
	}
	lockerOnly struct {
		*Store
		locker
	}
	batcherOnly struct {
		*Store
		batcher
	}
)

var (
	_ domain.Locker       = (*lockerBatchSwapper)(nil)
	_ domain.Batcher      = (*lockerBatchSwapper)(nil)
	_ domain.BatchSwapper = (*lockerBatchSwapper)(nil)
	_ domain.Locker       = (*lockerBatcher)(nil)
	_ domain.Batcher      = (*lockerBatcher)(nil)
	_ domain.Locker       = (*lockerOnly)(nil)
	_ domain.Batcher      = (*batcherOnly)(nil)
)
