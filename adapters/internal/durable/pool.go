package durable

import (
	"context"
	"sync"
	"sync/atomic"
)

// Parallel runs fn(ctx, i) for i in 0..n-1 on at most limit goroutines and
// returns the first error fn returned. After that error no further fn starts,
// and the ctx the running calls got is cancelled. If ctx is done before every
// index has started, the ones left do not start either, and Parallel returns
// ctx's error (unless fn failed first). Parallel returns when every call it
// started has returned.
func Parallel(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	if n <= 0 {
		return nil
	}
	limit = max(limit, 1)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		once    sync.Once
		first   error
		skipped atomic.Bool
		next    = make(chan int)
	)
	for range min(n, limit) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					skipped.Store(true)
					continue
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() {
						first = err
						cancel()
					})
				}
			}
		})
	}
	// Every index is handed to a worker, which skips it once ctx is done: the
	// check right before each call is what stops the pool.
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	if skipped.Load() {
		return parent.Err()
	}
	return nil
}
