package anonymize_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/domain"
)

type flushes struct {
	mu  sync.Mutex
	got []anonymize.Batch
	at  []time.Time
	ch  chan struct{}
}

func newFlushes() *flushes { return &flushes{ch: make(chan struct{}, 100)} }

func (f *flushes) flush(b anonymize.Batch, err error) {
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.got = append(f.got, b)
	f.at = append(f.at, time.Now())
	f.mu.Unlock()
	f.ch <- struct{}{}
}

func (f *flushes) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-f.ch:
	case <-time.After(d):
		t.Fatal("no flush")
	}
}

func (f *flushes) batches() []anonymize.Batch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func req(i int) anonymize.Request { return anonymize.Request{Category: fmt.Sprint(i)} }

func TestShuffleBufferFlushesOnMinBatch(t *testing.T) {
	f := newFlushes()
	sb, err := anonymize.NewShuffleBuffer(anonymize.ShuffleBufferConfig{MinBatch: 4, MaxWait: time.Hour, Flush: f.flush})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := sb.Add(req(i)); err != nil {
			t.Fatal(err)
		}
	}
	f.wait(t, 5*time.Second)
	f.wait(t, 5*time.Second)
	got := f.batches()
	if len(got) != 2 || len(got[0]) != 4 || len(got[1]) != 4 {
		t.Fatalf("flushes %v", got)
	}
	first := got[0].Categories()
	slices.Sort(first)
	if !slices.Equal(first, []string{"0", "1", "2", "3"}) {
		t.Fatalf("first batch %v", first)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.batches()) != 2 {
		t.Fatal("Close flushed an empty buffer")
	}
}

func TestShuffleBufferFlushesOnMaxWait(t *testing.T) {
	f := newFlushes()
	const wait = 50 * time.Millisecond
	sb, err := anonymize.NewShuffleBuffer(anonymize.ShuffleBufferConfig{MinBatch: 100, MaxWait: wait, Flush: f.flush})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	start := time.Now()
	_ = sb.Add(req(1))
	_ = sb.Add(req(2))
	f.wait(t, 5*time.Second)
	if el := time.Since(start); el < wait {
		t.Fatalf("flushed after %s, before MaxWait", el)
	}
	if got := f.batches(); len(got) != 1 || len(got[0]) != 2 {
		t.Fatalf("flushes %v", got)
	}
	// The timer restarts with the next request.
	_ = sb.Add(req(3))
	f.wait(t, 5*time.Second)
	if got := f.batches(); len(got) != 2 || len(got[1]) != 1 {
		t.Fatalf("flushes %v", got)
	}
}

func TestShuffleBufferCloseFlushesRest(t *testing.T) {
	f := newFlushes()
	sb, _ := anonymize.NewShuffleBuffer(anonymize.ShuffleBufferConfig{MinBatch: 10, MaxWait: time.Hour, Flush: f.flush})
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() { _ = sb.Add(req(i)) })
	}
	wg.Wait()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	_ = sb.Close()
	got := f.batches()
	if len(got) != 1 || len(got[0]) != 5 {
		t.Fatalf("flushes %v", got)
	}
	if err := sb.Add(req(9)); !errors.Is(err, anonymize.ErrBufferClosed) {
		t.Fatal(err)
	}
}

func TestShuffleBufferConcurrentAddsLoseNothing(t *testing.T) {
	var (
		mu    sync.Mutex
		total int
	)
	sb, _ := anonymize.NewShuffleBuffer(anonymize.ShuffleBufferConfig{MinBatch: 7, MaxWait: time.Millisecond, Flush: func(b anonymize.Batch, err error) {
		mu.Lock()
		total += len(b)
		mu.Unlock()
	}})
	var wg sync.WaitGroup
	var accepted sync.Map
	for i := range 200 {
		wg.Go(func() {
			if sb.Add(req(i)) == nil {
				accepted.Store(i, true)
			}
		})
		if i == 150 {
			go sb.Close()
		}
	}
	wg.Wait()
	_ = sb.Close()
	n := 0
	accepted.Range(func(any, any) bool { n++; return true })
	mu.Lock()
	defer mu.Unlock()
	if total != n {
		t.Fatalf("accepted %d requests, flushed %d", n, total)
	}
}

func TestShuffleBufferConfig(t *testing.T) {
	for _, cfg := range []anonymize.ShuffleBufferConfig{
		{MinBatch: 0, MaxWait: time.Second, Flush: func(anonymize.Batch, error) {}},
		{MinBatch: 1, MaxWait: 0, Flush: func(anonymize.Batch, error) {}},
		{MinBatch: 1, MaxWait: time.Second},
	} {
		if _, err := anonymize.NewShuffleBuffer(cfg); !errors.Is(err, domain.ErrInvalidInput) {
			t.Fatal(err)
		}
	}
}
