package privacypass

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// SetOnFetch reports every batch the pool obtained, on the synchronous path and
// from a background prefetch, with a duration that covers the issuer's round
// trip; failed fetches are not reported, and nil turns the reports off.
func TestPoolOnFetch(t *testing.T) {
	_, key := testKeys(t)
	client, err := NewClient(TypeVOPRF, key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	issuer := NewIssuer(key)
	var mu sync.Mutex
	var roundTrips []time.Duration // each fetch's own duration, measured inside it
	fail := false
	pool, err := NewPool(client, testChallenge(t, TypeVOPRF), 4, func(ctx context.Context, req []byte) ([]byte, error) {
		start := time.Now()
		mu.Lock()
		f := fail
		mu.Unlock()
		if f {
			return nil, errors.New("issuer unreachable")
		}
		resp, err := issuer.IssueBatch(req)
		mu.Lock()
		roundTrips = append(roundTrips, time.Since(start))
		mu.Unlock()
		return resp, err
	})
	if err != nil {
		t.Fatal(err)
	}
	type report struct {
		tokens int
		d      time.Duration
	}
	var reports []report
	pool.SetOnFetch(func(tokens int, d time.Duration) {
		mu.Lock()
		reports = append(reports, report{tokens, d})
		mu.Unlock()
	})
	snapshot := func() ([]report, []time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		return append([]report(nil), reports...), append([]time.Duration(nil), roundTrips...)
	}

	// Synchronous: 10 tokens in batches of 4 are three fetches, three reports.
	for range 10 {
		if _, err := pool.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got, trips := snapshot()
	if len(got) != 3 || len(trips) != 3 {
		t.Fatalf("%d reports for %d fetches, want 3 and 3", len(got), len(trips))
	}
	for i, r := range got {
		if r.tokens != 4 {
			t.Errorf("report %d: %d tokens, want 4", i, r.tokens)
		}
		if r.d < trips[i] {
			t.Errorf("report %d: %v, shorter than the round trip inside it (%v)", i, r.d, trips[i])
		}
	}

	// A background prefetch reports too: 2 tokens are left, taking one starts it.
	pool.SetLowWater(2)
	if _, err := pool.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ = snapshot(); len(got) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reports after a background prefetch, want 4", len(got))
		}
		time.Sleep(time.Millisecond)
	}
	if got[3].tokens != 4 {
		t.Errorf("prefetch report: %d tokens, want 4", got[3].tokens)
	}

	// A failed fetch is not reported; nil turns the reports off.
	pool.SetLowWater(0)
	for pool.Len() > 0 {
		if _, err := pool.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if _, err := pool.Token(context.Background()); err == nil {
		t.Fatal("no error from a failing fetch")
	}
	if got, _ = snapshot(); len(got) != 4 {
		t.Fatalf("%d reports after a failed fetch, want 4", len(got))
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	pool.SetOnFetch(nil)
	if _, err := pool.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, trips = snapshot(); len(got) != 4 || len(trips) != 5 {
		t.Fatalf("%d reports for %d fetches after SetOnFetch(nil), want 4 and 5", len(got), len(trips))
	}
}
