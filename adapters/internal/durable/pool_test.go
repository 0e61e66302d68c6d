package durable

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParallelRunsEveryIndexWithinTheLimit(t *testing.T) {
	const n, limit = 200, 5
	var (
		mu      sync.Mutex
		ran     = make(map[int]int)
		running atomic.Int32
		peak    atomic.Int32
	)
	err := Parallel(context.Background(), n, limit, func(_ context.Context, i int) error {
		r := running.Add(1)
		for {
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		mu.Lock()
		ran[i]++
		mu.Unlock()
		running.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if ran[i] != 1 {
			t.Fatalf("index %d ran %d times", i, ran[i])
		}
	}
	if p := peak.Load(); p > limit {
		t.Fatalf("%d calls at once, limit %d", p, limit)
	}
	if err := Parallel(context.Background(), 0, limit, func(context.Context, int) error { return errors.New("called") }); err != nil {
		t.Fatalf("n=0: %v", err)
	}
}

func TestParallelStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var ran []int
	// One worker: the order is fixed, so every index after the failing one must
	// not start.
	err := Parallel(context.Background(), 10, 1, func(ctx context.Context, i int) error {
		ran = append(ran, i)
		if i == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Parallel: %v, want the first error", err)
	}
	if len(ran) != 3 {
		t.Fatalf("ran %v, want 0, 1 and 2 only", ran)
	}
	// Several workers: the calls running when one fails see their ctx cancelled.
	started := make(chan struct{})
	var once sync.Once
	err = Parallel(context.Background(), 4, 4, func(ctx context.Context, i int) error {
		if i == 0 {
			<-started
			return boom
		}
		once.Do(func() { close(started) })
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Parallel: %v, want the failing call's error, not a cancelled one's", err)
	}
}

func TestParallelHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err := Parallel(ctx, 10, 1, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Parallel after cancel: %v, want context.Canceled", err)
	}
	if n := ran.Load(); n != 2 {
		t.Fatalf("%d calls ran, want 2 (none after the cancel)", n)
	}
}
