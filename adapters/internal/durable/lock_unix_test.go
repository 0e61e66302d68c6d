//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package durable

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var testPoll = Poll{Min: time.Millisecond, Max: 4 * time.Millisecond}

func TestExclusiveLockWaitsAndHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	held, err := OpenLocked(context.Background(), path, Exclusive, testPoll)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := TryOpenLocked(path, Exclusive); ok || err != nil {
		t.Fatalf("TryOpen while held: ok=%v err=%v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := OpenLocked(ctx, path, Shared, testPoll); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open while held: %v, want DeadlineExceeded", err)
	}
	// (The 30 ms above is the deadline under test, not a wait for another goroutine.)
	// A waiter: the lock is released only once the waiter has found it held and
	// is polling, so the test covers a wait that ends with the lock granted.
	waitsUntilReleased(t, held, func() error {
		f, err := OpenLocked(context.Background(), path, Exclusive, testPoll)
		if err == nil {
			err = Unlock(f)
		}
		return err
	})
}

// waitsUntilReleased runs wait, which must find the lock held (busyHook) and
// not return until held is unlocked; then it unlocks held and checks that wait
// returns nil.
func waitsUntilReleased(t *testing.T, held *os.File, wait func() error) {
	t.Helper()
	busy := make(chan struct{}, 1)
	busyHook = func() {
		select {
		case busy <- struct{}{}:
		default:
		}
	}
	defer func() { busyHook = nil }()
	got := make(chan error, 1)
	go func() { got <- wait() }()
	select {
	case <-busy:
	case err := <-got:
		t.Fatalf("the waiter returned while the lock was held: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the waiter never found the lock held")
	}
	if err := Unlock(held); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter after release: %v", err)
	}
}

func TestSharedLocksCoexist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.lock")
	a, err := OpenLocked(context.Background(), path, Shared, testPoll)
	if err != nil {
		t.Fatal(err)
	}
	defer Unlock(a)
	b, ok, err := TryOpenLocked(path, Shared)
	if !ok || err != nil {
		t.Fatalf("second shared lock: ok=%v err=%v", ok, err)
	}
	Unlock(b)
	if _, ok, _ := TryOpenLocked(path, Exclusive); ok {
		t.Fatal("exclusive lock granted while a shared one is held")
	}
}
