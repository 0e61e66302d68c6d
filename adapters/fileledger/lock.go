//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fileledger

import (
	"context"
	"os"
	"time"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
)

// Polling bounds for a flock held by another process: flock(2) cannot be
// interrupted by a context, so waiters retry LOCK_NB with a growing delay.
const (
	minPoll = 50 * time.Microsecond
	maxPoll = 4 * time.Millisecond
)

// flock takes an exclusive flock(2) on f, polling until it is granted or ctx is
// done.
func flock(ctx context.Context, f *os.File) error {
	return durable.Lock(ctx, f, durable.Exclusive, durable.Poll{Min: minPoll, Max: maxPoll})
}

// unflock releases the flock and closes f.
func unflock(f *os.File) error { return durable.Unlock(f) }
