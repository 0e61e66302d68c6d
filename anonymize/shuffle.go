package anonymize

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Shuffle permutes the batch uniformly at random: Fisher-Yates with indices drawn
// by rejection sampling from crypto/rand (domain.Shuffle).
type Shuffle struct {
	// Random is the source of randomness; nil means crypto/rand. Only tests set it.
	Random domain.Random
}

// Name implements Stage.
func (Shuffle) Name() string { return "shuffle" }

// Apply implements Stage.
func (s Shuffle) Apply(ctx context.Context, b Batch) (Batch, error) {
	out := make(Batch, len(b))
	copy(out, b)
	if err := domain.Shuffle(s.Random, len(out), func(i, j int) { out[i], out[j] = out[j], out[i] }); err != nil {
		return nil, err
	}
	return out, nil
}

// ErrBufferClosed is returned by ShuffleBuffer.Add after Close.
var ErrBufferClosed = errors.New("anonymize: shuffle buffer is closed")

// ShuffleBuffer collects requests and hands them on in shuffled batches, so that
// the order in which requests arrive does not show in the order they leave. A
// batch is flushed as soon as MinBatch requests are waiting or MaxWait has passed
// since the first of them arrived, whichever comes first. Flushes run one at a
// time, on the buffer's own goroutine, in the order they happen.
type ShuffleBuffer struct {
	minBatch int
	maxWait  time.Duration
	random   domain.Random
	flush    func(Batch, error)

	in   chan Request
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	closed bool
}

// ShuffleBufferConfig configures NewShuffleBuffer.
type ShuffleBufferConfig struct {
	// MinBatch is the number of requests that triggers a flush (at least 1).
	MinBatch int
	// MaxWait bounds how long a request waits for others (more than 0).
	MaxWait time.Duration
	// Random is the shuffle's randomness; nil means crypto/rand.
	Random domain.Random
	// Flush receives every shuffled batch, or the error that prevented shuffling it
	// (then the batch is nil: requests are never released in arrival order).
	Flush func(Batch, error)
}

// NewShuffleBuffer starts a buffer. Close it to flush what is left and stop it.
func NewShuffleBuffer(cfg ShuffleBufferConfig) (*ShuffleBuffer, error) {
	if cfg.MinBatch < 1 || cfg.MaxWait <= 0 || cfg.Flush == nil {
		return nil, fmt.Errorf("%w: shuffle buffer needs MinBatch >= 1, MaxWait > 0 and a Flush function", domain.ErrInvalidInput)
	}
	sb := &ShuffleBuffer{
		minBatch: cfg.MinBatch,
		maxWait:  cfg.MaxWait,
		random:   cfg.Random,
		flush:    cfg.Flush,
		in:       make(chan Request),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go sb.run()
	return sb, nil
}

// Add queues a request. It blocks while a flush is running, and fails with
// ErrBufferClosed after Close.
func (sb *ShuffleBuffer) Add(r Request) error {
	sb.mu.Lock()
	if sb.closed {
		sb.mu.Unlock()
		return ErrBufferClosed
	}
	sb.mu.Unlock()
	select {
	case sb.in <- r:
		return nil
	case <-sb.stop:
		return ErrBufferClosed
	}
}

// Close flushes the requests still waiting (if any), stops the buffer and waits
// for the last flush to return. It is safe to call more than once.
func (sb *ShuffleBuffer) Close() error {
	sb.mu.Lock()
	if !sb.closed {
		sb.closed = true
		close(sb.stop)
	}
	sb.mu.Unlock()
	<-sb.done
	return nil
}

func (sb *ShuffleBuffer) run() {
	defer close(sb.done)
	var (
		pending Batch
		timer   *time.Timer
		timeout <-chan time.Time
	)
	emit := func() {
		if timer != nil {
			timer.Stop()
			timer, timeout = nil, nil
		}
		if len(pending) == 0 {
			return
		}
		b := pending
		pending = nil
		if err := domain.Shuffle(sb.random, len(b), func(i, j int) { b[i], b[j] = b[j], b[i] }); err != nil {
			sb.flush(nil, fmt.Errorf("anonymize: shuffle buffer: %w", err))
			return
		}
		sb.flush(b, nil)
	}
	for {
		select {
		case r := <-sb.in:
			pending = append(pending, r)
			if len(pending) == 1 {
				timer = time.NewTimer(sb.maxWait)
				timeout = timer.C
			}
			if len(pending) >= sb.minBatch {
				emit()
			}
		case <-timeout:
			timer, timeout = nil, nil
			emit()
		case <-sb.stop:
			// Take what senders already handed over, then flush the rest.
		drain:
			for {
				select {
				case r := <-sb.in:
					pending = append(pending, r)
				default:
					break drain
				}
			}
			emit()
			return
		}
	}
}
