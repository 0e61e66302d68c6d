package vault

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// A write that finds the writer lock held calls OnLockWait once per wait,
// before it waits, and writes once the lock is free; a free lock calls nothing.
func TestOnLockWaitIsCalledWhileTheLockIsHeld(t *testing.T) {
	store := newMapStore()
	cfg := newCfg(store)
	waits := make(chan time.Duration, 4)
	cfg.OnLockWait = func(timeout time.Duration) { waits <- timeout }
	cfg.LockTimeout = 20 * time.Second
	v := mustCreate(t, cfg)
	ctx := context.Background()

	if err := v.Put(ctx, "free", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 0 {
		t.Fatalf("OnLockWait called %d times for a free lock", len(waits))
	}

	unlock, err := store.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- v.Put(ctx, "waited", strings.NewReader("y")) }()
	select {
	case got := <-waits:
		if got != 20*time.Second {
			t.Fatalf("OnLockWait(%s), want the LockTimeout 20s", got)
		}
	case err := <-done:
		t.Fatalf("the write did not wait for the held lock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := v.Get(ctx, "waited", &got); err != nil || got.String() != "y" {
		t.Fatalf("after the wait: %q, %v", got.String(), err)
	}
	sizes, err := v.Sizes(ctx)
	if err != nil || len(sizes) != 2 || sizes["free"] != 1 || sizes["waited"] != 1 {
		t.Fatalf("Sizes: %v, %v", sizes, err)
	}
}

// A lock held past LockTimeout fails with ErrBusy after OnLockWait was called.
func TestOnLockWaitThenBusy(t *testing.T) {
	store := newMapStore()
	cfg := newCfg(store)
	called := 0
	cfg.OnLockWait = func(time.Duration) { called++ }
	v := mustCreate(t, cfg)
	v.lockTimeout = 200 * time.Millisecond
	unlock, err := store.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	err = v.Put(context.Background(), "x", strings.NewReader("x"))
	if !errors.Is(err, domain.ErrBusy) || called != 1 {
		t.Fatalf("err %v, OnLockWait called %d times; want ErrBusy after one call", err, called)
	}
}
