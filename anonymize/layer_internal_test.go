package anonymize

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// orderStore records the order in which ids reach it.
type orderStore struct {
	domain.BlobStore // nil: only Get is called
	mu               sync.Mutex
	order            []domain.ObjectID
}

func (s *orderStore) Get(_ context.Context, id domain.ObjectID) ([]byte, error) {
	s.mu.Lock()
	s.order = append(s.order, id)
	s.mu.Unlock()
	return []byte{1}, nil
}

// TestReleaseShufflesTheWindow checks that the requests of one window leave in
// a uniformly random order, whatever order they were held in: 4 requests held in
// the same order 2000 times, released one at a time (Concurrency 1, so the order
// of sending is the order of arrival). Counts of (request, position) form a 4x4
// table; under a uniform shuffle Pearson's statistic is chi-square with 9
// degrees of freedom, whose upper tail at 61 is 8.4e-10 (see the Cloak spec
// "writes in an order independent of the input order"). Sending in the held
// order gives a statistic of 6000.
func TestReleaseShufflesTheWindow(t *testing.T) {
	st := &orderStore{}
	l, err := NewLayer(st, Config{Release: ReleaseAtWindow, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var counts [4][4]int
	for range n {
		st.order = st.order[:0]
		ops := make([]*op, 4)
		for i := range ops {
			ops[i] = &op{kind: opGet, ctx: context.Background(), target: st, id: domain.ObjectID{byte(i)}, done: make(chan struct{})}
		}
		l.release(ops, time.Unix(0, 0))
		if len(st.order) != 4 {
			t.Fatalf("%d requests reached the store, want 4", len(st.order))
		}
		for pos, id := range st.order {
			counts[id[0]][pos]++
		}
	}
	exp := float64(n) / 4
	var chi float64
	for i := range 4 {
		for j := range 4 {
			d := float64(counts[i][j]) - exp
			chi += d * d / exp
		}
	}
	if chi >= 61 {
		t.Fatalf("position counts %v: chi-square %.1f, the order depends on the held order", counts, chi)
	}
}
