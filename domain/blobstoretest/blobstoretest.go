// Package blobstoretest is the conformance suite for domain.BlobStore (and, when a
// store implements it, domain.Locker). Every BlobStore adapter runs it from a plain
// Go test:
//
//	func TestConformance(t *testing.T) {
//		blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
//			return memblob.Open()
//		})
//	}
//
// The suite imports only the standard library and the domain package.
package blobstoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Run runs every conformance subtest. newStore is called once per subtest and must
// return a new, empty store; it may register cleanup with t.Cleanup. Stores that
// also implement domain.Locker get the Locker subtests as well. Stores that do not
// list objects (List fails with an error wrapping errors.ErrUnsupported, as the
// domain.WriteGuard stores shared with other clients do) skip the List subtests and
// the listing checks of the others.
func Run(t *testing.T, newStore func(t *testing.T) domain.BlobStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s domain.BlobStore)
	}{
		{"PutGetRoundTrip", testPutGetRoundTrip},
		{"PutReplaces", testPutReplaces},
		{"AbsentIsNotFound", testAbsentIsNotFound},
		{"DeleteThenGet", testDeleteThenGet},
		{"ListEmpty", testListEmpty},
		{"ListExact", testListExact},
		{"ListPropagatesError", testListPropagatesError},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"PutCopiesInput", testPutCopiesInput},
		{"VersionedMatchesGet", testVersionedMatchesGet},
		{"CASCreateIfAbsent", testCASCreateIfAbsent},
		{"CASSwap", testCASSwap},
		{"CASStaleVersion", testCASStaleVersion},
		{"CASAfterPut", testCASAfterPut},
		{"CASDeleted", testCASDeleted},
		{"CASCopiesInput", testCASCopiesInput},
		{"CASRace", testCASRace},
		{"ConcurrentPuts", testConcurrentPuts},
		{"AtomicPut", testAtomicPut},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}

	// Batcher and Locker are optional: a store without one has nothing of it
	// to test (that is not a skipped test, so it is only logged).
	probe := newStore(t)
	if _, ok := probe.(domain.Batcher); ok {
		t.Run("Batcher", func(t *testing.T) {
			s := newStore(t)
			testBatcher(t, s, s.(domain.Batcher))
		})
	} else {
		t.Logf("%T does not implement the optional domain.Batcher", probe)
	}
	if _, ok := probe.(domain.Locker); !ok {
		t.Logf("%T does not implement the optional domain.Locker", probe)
		return
	}
	t.Run("Locker", func(t *testing.T) {
		lockerTests := []struct {
			name string
			fn   func(t *testing.T, s domain.BlobStore, l domain.Locker)
		}{
			{"LockUnlock", testLockUnlock},
			{"LockBlocksWhileHeld", testLockBlocksWhileHeld},
			{"LockExcludesGoroutines", testLockExcludesGoroutines},
			{"WritesWhileLocked", testWritesWhileLocked},
			{"LockCancelled", testLockCancelled},
		}
		for _, tc := range lockerTests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				tc.fn(t, s, s.(domain.Locker))
			})
		}
	})
}

// opTimeout bounds every single store call made by the suite, so that a store
// that hangs fails the test instead of stalling it.
const opTimeout = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newID(t *testing.T) domain.ObjectID {
	t.Helper()
	id, err := domain.NewObjectID(nil)
	if err != nil {
		t.Fatalf("NewObjectID: %v", err)
	}
	return id
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand.Read: %v", err)
	}
	return b
}

func mustPut(t *testing.T, s domain.BlobStore, id domain.ObjectID, data []byte) {
	t.Helper()
	if err := s.Put(testCtx(t), id, data); err != nil {
		t.Fatalf("Put(%s): %v", id, err)
	}
}

func mustGet(t *testing.T, s domain.BlobStore, id domain.ObjectID) []byte {
	t.Helper()
	got, err := s.Get(testCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return got
}

func mustGetVersioned(t *testing.T, s domain.BlobStore, id domain.ObjectID) ([]byte, domain.Version) {
	t.Helper()
	got, v, err := s.GetVersioned(testCtx(t), id)
	if err != nil {
		t.Fatalf("GetVersioned(%s): %v", id, err)
	}
	if v == "" {
		t.Fatalf("GetVersioned(%s) returned the empty version for an existing object", id)
	}
	return got, v
}

func mustCAS(t *testing.T, s domain.BlobStore, id domain.ObjectID, expected domain.Version, data []byte) domain.Version {
	t.Helper()
	v, err := s.CompareAndSwap(testCtx(t), id, expected, data)
	if err != nil {
		t.Fatalf("CompareAndSwap(%s, %q): %v", id, expected, err)
	}
	if v == "" {
		t.Fatalf("CompareAndSwap(%s, %q) returned the empty version", id, expected)
	}
	return v
}

func wantEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes %s, want %d bytes %s", what, len(got), preview(got), len(want), preview(want))
	}
}

func preview(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x…", b[:16])
	}
	return fmt.Sprintf("%x", b)
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want an error wrapping %v", what, err, target)
	}
}

func listAll(t *testing.T, s domain.BlobStore) map[domain.ObjectID]int {
	t.Helper()
	seen := make(map[domain.ObjectID]int)
	var mu sync.Mutex // in case a store calls fn from several goroutines
	err := s.List(testCtx(t), func(id domain.ObjectID) error {
		mu.Lock()
		seen[id]++
		mu.Unlock()
		return nil
	})
	if errors.Is(err, errors.ErrUnsupported) {
		return nil // a store that does not list
	}
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return seen
}

// skipUnlisted skips the test of a store that does not list objects.
func skipUnlisted(t *testing.T, s domain.BlobStore) {
	t.Helper()
	if listAll(t, s) == nil {
		t.Skip("the store does not list objects (List: errors.ErrUnsupported)")
	}
}

func wantListed(t *testing.T, s domain.BlobStore, want []domain.ObjectID) {
	t.Helper()
	seen := listAll(t, s)
	if seen == nil {
		return // a store that does not list
	}
	wantSet := make(map[domain.ObjectID]bool, len(want))
	for _, id := range want {
		wantSet[id] = true
		switch n := seen[id]; n {
		case 1:
		case 0:
			t.Errorf("List did not yield stored id %s", id)
		default:
			t.Errorf("List yielded id %s %d times, want once", id, n)
		}
	}
	for id := range seen {
		if !wantSet[id] {
			t.Errorf("List yielded id %s that was not stored", id)
		}
	}
}

func testPutGetRoundTrip(t *testing.T, s domain.BlobStore) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0x00}},
		{"all byte values", allBytes},
		{"1 MiB random", randomBytes(t, 1<<20)},
	}
	ids := make([]domain.ObjectID, len(cases))
	for i, c := range cases {
		ids[i] = newID(t)
		mustPut(t, s, ids[i], c.data)
	}
	for i, c := range cases {
		wantEqual(t, "Get "+c.name, mustGet(t, s, ids[i]), c.data)
		got, _ := mustGetVersioned(t, s, ids[i])
		wantEqual(t, "GetVersioned "+c.name, got, c.data)
	}
	// A nil slice is stored as an empty object.
	nilID := newID(t)
	mustPut(t, s, nilID, nil)
	if got := mustGet(t, s, nilID); len(got) != 0 {
		t.Fatalf("Get of an object put as nil: got %d bytes, want 0", len(got))
	}
}

func testPutReplaces(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	mustPut(t, s, id, []byte("first version, longer than the second"))
	mustPut(t, s, id, []byte("second"))
	wantEqual(t, "Get after replace", mustGet(t, s, id), []byte("second"))
	wantListed(t, s, []domain.ObjectID{id})
}

func testAbsentIsNotFound(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	ctx := testCtx(t)
	_, err := s.Get(ctx, id)
	wantErrIs(t, "Get of an absent object", err, domain.ErrNotFound)
	_, v, err := s.GetVersioned(ctx, id)
	wantErrIs(t, "GetVersioned of an absent object", err, domain.ErrNotFound)
	if v != "" {
		t.Errorf("GetVersioned of an absent object returned version %q, want empty", v)
	}
	wantErrIs(t, "Delete of an absent object", s.Delete(ctx, id), domain.ErrNotFound)
}

func testDeleteThenGet(t *testing.T, s domain.BlobStore) {
	id, keep := newID(t), newID(t)
	mustPut(t, s, id, []byte("to be deleted"))
	mustPut(t, s, keep, []byte("to be kept"))
	ctx := testCtx(t)
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, id)
	wantErrIs(t, "Get after Delete", err, domain.ErrNotFound)
	_, _, err = s.GetVersioned(ctx, id)
	wantErrIs(t, "GetVersioned after Delete", err, domain.ErrNotFound)
	wantErrIs(t, "second Delete", s.Delete(ctx, id), domain.ErrNotFound)
	wantEqual(t, "Get of the other object", mustGet(t, s, keep), []byte("to be kept"))
	wantListed(t, s, []domain.ObjectID{keep})

	// The id can be used again.
	mustPut(t, s, id, []byte("again"))
	wantEqual(t, "Get after re-Put", mustGet(t, s, id), []byte("again"))
}

func testListEmpty(t *testing.T, s domain.BlobStore) {
	skipUnlisted(t, s)
	if seen := listAll(t, s); len(seen) != 0 {
		t.Fatalf("List of a new store yielded %d ids, want 0", len(seen))
	}
}

func testListExact(t *testing.T, s domain.BlobStore) {
	skipUnlisted(t, s)
	var want []domain.ObjectID
	// Ids that share a first byte, and the extreme ids, next to random ones.
	var zero, ones, sameShard domain.ObjectID
	for i := range ones {
		ones[i] = 0xff
	}
	sameShard[domain.ObjectIDSize-1] = 1 // same first byte as zero
	for _, id := range []domain.ObjectID{zero, ones, sameShard} {
		mustPut(t, s, id, []byte(id.String()))
		want = append(want, id)
	}
	for range 20 {
		id := newID(t)
		mustPut(t, s, id, []byte(id.String()))
		want = append(want, id)
	}
	// Objects created by CompareAndSwap are listed too.
	casID := newID(t)
	mustCAS(t, s, casID, "", []byte("cas"))
	want = append(want, casID)
	// Deleted objects are not.
	gone := newID(t)
	mustPut(t, s, gone, []byte("gone"))
	if err := s.Delete(testCtx(t), gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantListed(t, s, want)
}

func testListPropagatesError(t *testing.T, s domain.BlobStore) {
	skipUnlisted(t, s)
	for range 3 {
		mustPut(t, s, newID(t), []byte("x"))
	}
	stop := errors.New("blobstoretest: stop listing")
	calls := 0
	err := s.List(testCtx(t), func(domain.ObjectID) error {
		calls++
		return stop
	})
	wantErrIs(t, "List with a failing fn", err, stop)
	if calls != 1 {
		t.Fatalf("List called fn %d times after it failed, want 1 call", calls)
	}
}

func testGetReturnsCopy(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	want := []byte("immutable contents")
	mustPut(t, s, id, bytes.Clone(want))

	got := mustGet(t, s, id)
	for i := range got {
		got[i] ^= 0xff
	}
	wantEqual(t, "Get after mutating a slice returned by Get", mustGet(t, s, id), want)

	got, _ = mustGetVersioned(t, s, id)
	for i := range got {
		got[i] ^= 0xff
	}
	wantEqual(t, "Get after mutating a slice returned by GetVersioned", mustGet(t, s, id), want)
}

func testPutCopiesInput(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	want := []byte("contents given to Put")
	in := bytes.Clone(want)
	mustPut(t, s, id, in)
	for i := range in {
		in[i] = 0
	}
	wantEqual(t, "Get after mutating the slice given to Put", mustGet(t, s, id), want)
}

func testVersionedMatchesGet(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	mustPut(t, s, id, []byte("one"))
	got, v1 := mustGetVersioned(t, s, id)
	wantEqual(t, "GetVersioned", got, []byte("one"))
	_, again := mustGetVersioned(t, s, id)
	if again != v1 {
		t.Fatalf("GetVersioned of an unchanged object: version %q then %q", v1, again)
	}
	mustPut(t, s, id, []byte("two"))
	got, v2 := mustGetVersioned(t, s, id)
	wantEqual(t, "GetVersioned after Put", got, []byte("two"))
	if v2 == v1 {
		t.Fatalf("Put of new contents kept version %q", v1)
	}
}

func testCASCreateIfAbsent(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	v := mustCAS(t, s, id, "", []byte("created"))
	got, cur := mustGetVersioned(t, s, id)
	wantEqual(t, "GetVersioned after create", got, []byte("created"))
	if cur != v {
		t.Fatalf("GetVersioned version %q, CompareAndSwap returned %q", cur, v)
	}

	_, err := s.CompareAndSwap(testCtx(t), id, "", []byte("created twice"))
	wantErrIs(t, "second create-if-absent", err, domain.ErrConflict)
	wantEqual(t, "Get after a failed create-if-absent", mustGet(t, s, id), []byte("created"))

	// Create-if-absent also conflicts with an object written by Put.
	putID := newID(t)
	mustPut(t, s, putID, []byte("put"))
	_, err = s.CompareAndSwap(testCtx(t), putID, "", []byte("cas"))
	wantErrIs(t, "create-if-absent over a Put object", err, domain.ErrConflict)
	wantEqual(t, "Get after a failed create-if-absent", mustGet(t, s, putID), []byte("put"))
}

func testCASSwap(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	v1 := mustCAS(t, s, id, "", []byte("v1"))
	v2 := mustCAS(t, s, id, v1, []byte("v2"))
	if v2 == v1 {
		t.Fatalf("swap returned the old version %q", v1)
	}
	got, cur := mustGetVersioned(t, s, id)
	wantEqual(t, "GetVersioned after swap", got, []byte("v2"))
	if cur != v2 {
		t.Fatalf("GetVersioned version %q, CompareAndSwap returned %q", cur, v2)
	}
	// The returned version is usable for the next swap.
	v3 := mustCAS(t, s, id, v2, []byte("v3"))
	if v3 == v2 || v3 == v1 {
		t.Fatalf("third swap returned version %q, already used (%q, %q)", v3, v1, v2)
	}
	wantEqual(t, "Get after the third swap", mustGet(t, s, id), []byte("v3"))
	wantListed(t, s, []domain.ObjectID{id})
}

func testCASStaleVersion(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	v1 := mustCAS(t, s, id, "", []byte("v1"))
	mustCAS(t, s, id, v1, []byte("v2"))
	_, err := s.CompareAndSwap(testCtx(t), id, v1, []byte("stale writer"))
	wantErrIs(t, "swap with a stale version", err, domain.ErrConflict)
	wantEqual(t, "Get after a stale swap", mustGet(t, s, id), []byte("v2"))

	_, err = s.CompareAndSwap(testCtx(t), id, "not a version this store issued", []byte("bogus"))
	wantErrIs(t, "swap with a made-up version", err, domain.ErrConflict)
	wantEqual(t, "Get after a made-up-version swap", mustGet(t, s, id), []byte("v2"))
}

func testCASAfterPut(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	mustPut(t, s, id, []byte("put one"))
	_, v := mustGetVersioned(t, s, id)
	v2 := mustCAS(t, s, id, v, []byte("swapped"))
	mustPut(t, s, id, []byte("put two"))
	_, err := s.CompareAndSwap(testCtx(t), id, v2, []byte("stale after Put"))
	wantErrIs(t, "swap with a version replaced by Put", err, domain.ErrConflict)
	wantEqual(t, "Get after a stale swap", mustGet(t, s, id), []byte("put two"))
}

func testCASDeleted(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	v := mustCAS(t, s, id, "", []byte("v1"))
	if err := s.Delete(testCtx(t), id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.CompareAndSwap(testCtx(t), id, v, []byte("resurrected"))
	wantErrIs(t, "swap of a deleted object with its old version", err, domain.ErrConflict)
	_, err = s.Get(testCtx(t), id)
	wantErrIs(t, "Get after a failed swap of a deleted object", err, domain.ErrNotFound)

	// Create-if-absent works again once the object is gone.
	mustCAS(t, s, id, "", []byte("recreated"))
	wantEqual(t, "Get after re-create", mustGet(t, s, id), []byte("recreated"))

	// A version from before a Delete never matches an object re-created with
	// other contents (a store must not reissue it).
	other := newID(t)
	old := mustCAS(t, s, other, "", []byte("first life"))
	if err := s.Delete(testCtx(t), other); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustPut(t, s, other, []byte("second life"))
	_, err = s.CompareAndSwap(testCtx(t), other, old, []byte("stale writer"))
	wantErrIs(t, "swap of a re-created object with a version from before its Delete", err, domain.ErrConflict)
	wantEqual(t, "Get after a stale swap", mustGet(t, s, other), []byte("second life"))
}

func testCASCopiesInput(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	want := []byte("contents given to CompareAndSwap")
	in := bytes.Clone(want)
	mustCAS(t, s, id, "", in)
	for i := range in {
		in[i] = 0
	}
	wantEqual(t, "Get after mutating the slice given to CompareAndSwap", mustGet(t, s, id), want)
}

// testCASRace lets writers that all read the same version race to swap it: exactly
// one must win each round, and the others must see ErrConflict.
func testCASRace(t *testing.T, s domain.BlobStore) {
	const writers, rounds = 16, 5
	id := newID(t)
	mustCAS(t, s, id, "", []byte("round 0"))
	for round := 1; round <= rounds; round++ {
		var (
			read, done sync.WaitGroup
			mu         sync.Mutex
			winners    []int
			newVersion domain.Version
		)
		gate := make(chan struct{})
		errs := make([]error, writers)
		read.Add(writers)
		for w := range writers {
			done.Go(func() {
				ctx := testCtx(t)
				_, v, err := s.GetVersioned(ctx, id)
				read.Done()
				if err != nil {
					errs[w] = fmt.Errorf("GetVersioned: %w", err)
					return
				}
				<-gate // every writer has read the same version
				nv, err := s.CompareAndSwap(ctx, id, v, []byte(fmt.Sprintf("round %d writer %d", round, w)))
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, w)
					newVersion = nv
					mu.Unlock()
				case errors.Is(err, domain.ErrConflict):
				default:
					errs[w] = fmt.Errorf("CompareAndSwap: %w", err)
				}
			})
		}
		read.Wait()
		close(gate)
		done.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d writer %d: %v", round, w, err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d writers won the race (%v), want exactly 1", round, len(winners), winners)
		}
		got, v := mustGetVersioned(t, s, id)
		wantEqual(t, fmt.Sprintf("round %d final value", round), got, []byte(fmt.Sprintf("round %d writer %d", round, winners[0])))
		if v != newVersion {
			t.Fatalf("round %d: GetVersioned version %q, winner got %q", round, v, newVersion)
		}
	}
}

func testConcurrentPuts(t *testing.T, s domain.BlobStore) {
	const n = 32
	ids := make([]domain.ObjectID, n)
	for i := range ids {
		ids[i] = newID(t)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			errs[i] = s.Put(testCtx(t), id, []byte(id.String()))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	for _, id := range ids {
		wantEqual(t, "Get after concurrent Puts", mustGet(t, s, id), []byte(id.String()))
	}
	wantListed(t, s, ids)
}

// testAtomicPut checks that readers racing a writer see either the old or the new
// object in full, never a mix or a prefix.
func testAtomicPut(t *testing.T, s domain.BlobStore) {
	const size, writes = 64 << 10, 10
	a, b := bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)
	id := newID(t)
	mustPut(t, s, id, a)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	readErrs := make([]error, 2)
	for r := range readErrs {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := s.Get(testCtx(t), id)
				if err != nil {
					readErrs[r] = fmt.Errorf("Get during Put: %w", err)
					return
				}
				if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					readErrs[r] = fmt.Errorf("Get during Put returned %d bytes that are neither the old nor the new object", len(got))
					return
				}
			}
		})
	}
	for i := range writes {
		data := a
		if i%2 == 0 {
			data = b
		}
		if err := s.Put(testCtx(t), id, data); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	for _, err := range readErrs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testCancelledContext(t *testing.T, s domain.BlobStore) {
	id := newID(t)
	mustPut(t, s, id, []byte("present"))
	_, v := mustGetVersioned(t, s, id)
	absent := newID(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got error %v, want an error wrapping context.Canceled", what, err)
		}
	}
	check("Put", s.Put(ctx, absent, []byte("x")))
	_, err := s.Get(ctx, id)
	check("Get", err)
	_, _, err = s.GetVersioned(ctx, id)
	check("GetVersioned", err)
	check("Delete", s.Delete(ctx, id))
	calls := 0
	check("List", s.List(ctx, func(domain.ObjectID) error { calls++; return nil }))
	_, err = s.CompareAndSwap(ctx, id, v, []byte("y"))
	check("CompareAndSwap", err)
	if l, ok := s.(domain.Locker); ok {
		unlock, err := lockOrGiveUp(ctx, l)
		if err == nil {
			_ = unlock()
		}
		check("Lock", err)
	}
	if t.Failed() {
		return
	}
	// Nothing a cancelled call was asked to do may have happened to the object
	// that was present (Put of an absent id is allowed to have landed remotely).
	wantEqual(t, "Get after cancelled calls", mustGet(t, s, id), []byte("present"))
}

// lockWait is how long the suite waits for a lock it expects to stay held.
const lockWait = 50 * time.Millisecond

func mustLock(t *testing.T, l domain.Locker) func() error {
	t.Helper()
	unlock, err := l.Lock(testCtx(t))
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if unlock == nil {
		t.Fatal("Lock returned a nil unlock function")
	}
	return unlock
}

func wantLockTimesOut(t *testing.T, l domain.Locker) {
	t.Helper()
	// Take the time before the deadline is set: the other way round, a goroutine
	// descheduled between the two calls measures less than lockWait.
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), lockWait)
	defer cancel()
	unlock, err := lockOrGiveUp(ctx, l)
	if err == nil {
		_ = unlock()
		t.Fatal("a second Lock succeeded while the lock was held")
	}
	wantErrIs(t, "Lock while held", err, context.DeadlineExceeded)
	if elapsed := time.Since(start); elapsed < lockWait/2 {
		t.Fatalf("Lock while held gave up after %v, before its deadline of %v", elapsed, lockWait)
	}
}

// errIgnoredContext reports a Lock that did not return once its context was done.
var errIgnoredContext = errors.New("blobstoretest: Lock did not return within 5s after its context was done")

// lockOrGiveUp calls l.Lock(ctx) and waits for it at most 5 s longer than ctx
// lives, so that a Locker that ignores its context fails the suite instead of
// hanging it.
func lockOrGiveUp(ctx context.Context, l domain.Locker) (func() error, error) {
	type result struct {
		unlock func() error
		err    error
	}
	got := make(chan result, 1)
	go func() {
		unlock, err := l.Lock(ctx)
		got <- result{unlock, err}
	}()
	select {
	case r := <-got:
		return r.unlock, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-got:
		return r.unlock, r.err
	case <-time.After(5 * time.Second):
		return nil, errIgnoredContext
	}
}

func testLockUnlock(t *testing.T, _ domain.BlobStore, l domain.Locker) {
	for range 3 {
		unlock := mustLock(t, l)
		if err := unlock(); err != nil {
			t.Fatalf("unlock: %v", err)
		}
	}
}

func testLockBlocksWhileHeld(t *testing.T, _ domain.BlobStore, l domain.Locker) {
	unlock := mustLock(t, l)
	wantLockTimesOut(t, l)
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlock = mustLock(t, l)
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}

	// A waiting Lock is granted once the holder unlocks.
	unlock = mustLock(t, l)
	got := make(chan error, 1)
	go func() {
		u, err := l.Lock(testCtx(t))
		if err == nil {
			err = u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a waiting Lock returned (%v) while the lock was held", err)
	case <-time.After(lockWait):
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting Lock after unlock: %v", err)
		}
	case <-time.After(opTimeout):
		t.Fatal("a waiting Lock was not granted after unlock")
	}
}

func testLockExcludesGoroutines(t *testing.T, _ domain.BlobStore, l domain.Locker) {
	const goroutines, iterations = 8, 5
	var (
		wg     sync.WaitGroup
		inside int
		mu     sync.Mutex
		errs   = make([]error, goroutines)
	)
	for g := range goroutines {
		wg.Go(func() {
			for range iterations {
				unlock, err := l.Lock(testCtx(t))
				if err != nil {
					errs[g] = err
					return
				}
				mu.Lock()
				inside++
				n := inside
				mu.Unlock()
				if n != 1 {
					errs[g] = fmt.Errorf("%d holders of the lock at once", n)
				}
				time.Sleep(100 * time.Microsecond)
				mu.Lock()
				inside--
				mu.Unlock()
				if err := unlock(); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", g, err)
		}
	}
}

// testWritesWhileLocked checks that holding the writer lock does not block the
// holder's own writes: the Vault calls Put and CompareAndSwap while it holds it.
func testWritesWhileLocked(t *testing.T, s domain.BlobStore, l domain.Locker) {
	unlock := mustLock(t, l)
	defer func() {
		if err := unlock(); err != nil {
			t.Errorf("unlock: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	id, header := newID(t), newID(t)
	if err := s.Put(ctx, id, []byte("data")); err != nil {
		t.Fatalf("Put while locked: %v", err)
	}
	v, err := s.CompareAndSwap(ctx, header, "", []byte("header 1"))
	if err != nil {
		t.Fatalf("CompareAndSwap while locked: %v", err)
	}
	if _, err := s.CompareAndSwap(ctx, header, v, []byte("header 2")); err != nil {
		t.Fatalf("CompareAndSwap while locked: %v", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete while locked: %v", err)
	}
	wantListed(t, s, []domain.ObjectID{header})
}

func testLockCancelled(t *testing.T, _ domain.BlobStore, l domain.Locker) {
	unlock := mustLock(t, l)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(lockWait/2, cancel)
	u, err := lockOrGiveUp(ctx, l)
	if err == nil {
		_ = u()
	}
	wantErrIs(t, "Lock cancelled while waiting", err, context.Canceled)
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	// The cancelled waiter must not have taken (and leaked) the lock.
	unlock = mustLock(t, l)
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}
