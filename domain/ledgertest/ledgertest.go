// Package ledgertest is the conformance suite for domain.SpentLedger. Every
// ledger adapter runs it from a plain Go test:
//
//	func TestConformance(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) domain.SpentLedger {
//			return memledger.Open()
//		})
//	}
//
// The suite imports only the standard library and the domain package.
package ledgertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// Run runs every conformance subtest. newLedger is called once per subtest and
// must return a new, empty ledger; it may register cleanup with t.Cleanup.
func Run(t *testing.T, newLedger func(t *testing.T) domain.SpentLedger) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, l domain.SpentLedger)
	}{
		{"FirstMarkThenReplay", testFirstMarkThenReplay},
		{"DistinctNonces", testDistinctNonces},
		{"PartitionsIndependent", testPartitionsIndependent},
		{"ConcurrentSameNonce", testConcurrentSameNonce},
		{"ConcurrentDistinctNonces", testConcurrentDistinctNonces},
		{"DropPartition", testDropPartition},
		{"DropAbsentPartition", testDropAbsentPartition},
		{"DoesNotRetainNonce", testDoesNotRetainNonce},
		{"NonceLengths", testNonceLengths},
		{"InvalidArguments", testInvalidArguments},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newLedger(t))
		})
	}
}

// Partition names used by the suite: hex key ids.
const (
	partA = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	partB = "00ff"
)

func randomNonce(t *testing.T) []byte {
	t.Helper()
	n := make([]byte, 32)
	rand.Read(n)
	return n
}

func mark(t *testing.T, l domain.SpentLedger, partition string, nonce []byte) bool {
	t.Helper()
	spent, err := l.MarkSpent(context.Background(), partition, nonce)
	if err != nil {
		t.Fatalf("MarkSpent(%s, %x): %v", partition, nonce, err)
	}
	return spent
}

func testFirstMarkThenReplay(t *testing.T, l domain.SpentLedger) {
	n := randomNonce(t)
	if mark(t, l, partA, n) {
		t.Fatal("first MarkSpent reported the nonce as already spent")
	}
	for i := range 3 {
		if !mark(t, l, partA, n) {
			t.Fatalf("MarkSpent #%d of a spent nonce reported it as fresh", i+2)
		}
	}
}

func testDistinctNonces(t *testing.T, l domain.SpentLedger) {
	const count = 100
	nonces := make([][]byte, count)
	for i := range nonces {
		nonces[i] = randomNonce(t)
		if mark(t, l, partA, nonces[i]) {
			t.Fatalf("fresh nonce %d reported as spent", i)
		}
	}
	// A nonce differing in one bit is another nonce.
	flipped := bytes.Clone(nonces[0])
	flipped[31] ^= 1
	if mark(t, l, partA, flipped) {
		t.Fatal("a nonce one bit away from a spent one was reported as spent")
	}
	// A prefix of a spent nonce is another nonce.
	if mark(t, l, partA, nonces[1][:31]) {
		t.Fatal("a prefix of a spent nonce was reported as spent")
	}
	for i, n := range nonces {
		if !mark(t, l, partA, n) {
			t.Fatalf("spent nonce %d reported as fresh", i)
		}
	}
}

func testPartitionsIndependent(t *testing.T, l domain.SpentLedger) {
	n := randomNonce(t)
	if mark(t, l, partA, n) {
		t.Fatal("first mark in partition A reported spent")
	}
	if mark(t, l, partB, n) {
		t.Fatal("the same nonce in partition B was reported spent: partitions are not independent")
	}
	if !mark(t, l, partA, n) || !mark(t, l, partB, n) {
		t.Fatal("replay not detected in one of the partitions")
	}
}

func testConcurrentSameNonce(t *testing.T, l domain.SpentLedger) {
	const workers = 32
	for round := range 5 {
		n := randomNonce(t)
		var (
			wg     sync.WaitGroup
			start  = make(chan struct{})
			mu     sync.Mutex
			fresh  int
			errs   []error
			ctx    = context.Background()
			nonceI = bytes.Clone(n)
		)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				spent, err := l.MarkSpent(ctx, partA, nonceI)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				if !spent {
					fresh++
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("round %d: MarkSpent failed: %v", round, errors.Join(errs...))
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d of %d concurrent MarkSpent calls of one nonce returned false, want exactly 1", round, fresh, workers)
		}
	}
}

func testConcurrentDistinctNonces(t *testing.T, l domain.SpentLedger) {
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := partA
			if w%2 == 1 {
				part = partB
			}
			for i := range perWorker {
				n := []byte(fmt.Sprintf("worker-%d-nonce-%d", w, i))
				spent, err := l.MarkSpent(context.Background(), part, n)
				if err != nil {
					errc <- err
					return
				}
				if spent {
					errc <- fmt.Errorf("fresh nonce %q reported as spent", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func testDropPartition(t *testing.T, l domain.SpentLedger) {
	ctx := context.Background()
	n := randomNonce(t)
	mark(t, l, partA, n)
	mark(t, l, partB, n)
	if err := l.DropPartition(ctx, partA); err != nil {
		t.Fatalf("DropPartition: %v", err)
	}
	if !mark(t, l, partB, n) {
		t.Fatal("dropping partition A forgot a nonce of partition B")
	}
	if mark(t, l, partA, n) {
		t.Fatal("after DropPartition the nonce is still reported spent")
	}
	if !mark(t, l, partA, n) {
		t.Fatal("a dropped partition does not record new marks")
	}
	// Dropping twice is fine.
	if err := l.DropPartition(ctx, partA); err != nil {
		t.Fatalf("second DropPartition: %v", err)
	}
	if err := l.DropPartition(ctx, partA); err != nil {
		t.Fatalf("DropPartition of a dropped partition: %v", err)
	}
}

func testDropAbsentPartition(t *testing.T, l domain.SpentLedger) {
	if err := l.DropPartition(context.Background(), "abcdef"); err != nil {
		t.Fatalf("DropPartition of a partition never used: %v", err)
	}
}

func testDoesNotRetainNonce(t *testing.T, l domain.SpentLedger) {
	n := randomNonce(t)
	orig := bytes.Clone(n)
	mark(t, l, partA, n)
	clear(n) // the caller reuses its buffer
	if !mark(t, l, partA, orig) {
		t.Fatal("the ledger kept the caller's buffer instead of a copy: the spent nonce was lost")
	}
	if mark(t, l, partA, n) {
		t.Fatal("the zeroed buffer is reported spent: the ledger aliases the caller's nonce")
	}
}

func testNonceLengths(t *testing.T, l domain.SpentLedger) {
	for _, size := range []int{1, 16, 32, 64, domain.MaxNonceLen} {
		n := bytes.Repeat([]byte{byte(size)}, size)
		if mark(t, l, partA, n) {
			t.Fatalf("fresh %d-byte nonce reported spent", size)
		}
		if !mark(t, l, partA, n) {
			t.Fatalf("spent %d-byte nonce reported fresh", size)
		}
	}
}

func testInvalidArguments(t *testing.T, l domain.SpentLedger) {
	ctx := context.Background()
	good := randomNonce(t)
	cases := []struct {
		name      string
		partition string
		nonce     []byte
	}{
		{"EmptyPartition", "", good},
		{"UppercaseHex", "ABCD", good},
		{"PathTraversal", "../etc", good},
		{"Slash", "ab/cd", good},
		{"TooLongPartition", strings.Repeat("a", domain.MaxPartitionLen+1), good},
		{"EmptyNonce", partA, nil},
		{"TooLongNonce", partA, make([]byte, domain.MaxNonceLen+1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.MarkSpent(ctx, tc.partition, tc.nonce)
			if !errors.Is(err, domain.ErrInvalidInput) {
				t.Fatalf("MarkSpent(%q, %d bytes) = %v, want an error wrapping domain.ErrInvalidInput", tc.partition, len(tc.nonce), err)
			}
		})
	}
	for _, p := range []string{"", "../x", "A0"} {
		if err := l.DropPartition(ctx, p); !errors.Is(err, domain.ErrInvalidInput) {
			t.Fatalf("DropPartition(%q) = %v, want an error wrapping domain.ErrInvalidInput", p, err)
		}
	}
	// A rejected call spends nothing.
	if mark(t, l, partA, good) {
		t.Fatal("nonce reported spent after only invalid calls")
	}
}

func testCancelledContext(t *testing.T, l domain.SpentLedger) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := randomNonce(t)
	if _, err := l.MarkSpent(ctx, partA, n); !errors.Is(err, context.Canceled) {
		t.Fatalf("MarkSpent with a cancelled context = %v, want context.Canceled", err)
	}
	if err := l.DropPartition(ctx, partA); !errors.Is(err, context.Canceled) {
		t.Fatalf("DropPartition with a cancelled context = %v, want context.Canceled", err)
	}
	// The cancelled call spent nothing.
	if mark(t, l, partA, n) {
		t.Fatal("a MarkSpent that failed with a cancelled context spent the nonce")
	}
}
