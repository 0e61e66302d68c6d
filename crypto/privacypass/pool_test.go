package privacypass

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	_, key := testKeys(t)
	client, err := NewClient(TypeVOPRF, key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	issuer := NewIssuer(key)
	fetches := 0
	fail := false
	pool, err := NewPool(client, testChallenge(t, TypeVOPRF), 4, func(ctx context.Context, req []byte) ([]byte, error) {
		fetches++
		if fail {
			return nil, errors.New("issuer unreachable")
		}
		return issuer.IssueBatch(req)
	})
	if err != nil {
		t.Fatal(err)
	}
	origin := NewOrigin(newMapLedger())
	origin.AddIssuerKey(key)
	for i := range 10 {
		tok, err := pool.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := origin.Redeem(context.Background(), tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if fetches != 3 {
		t.Fatalf("%d fetches for 10 tokens in batches of 4", fetches)
	}
	for pool.Len() > 0 {
		pool.Token(context.Background())
	}
	fail = true
	if _, err := pool.Token(context.Background()); err == nil {
		t.Fatal("no error from a failing fetch")
	}
}

// Below the low-water mark the pool fetches the next batch in the background: a
// steady stream of requests never finds it empty after the first batch.
func TestPoolPrefetchesBelowLowWater(t *testing.T) {
	_, key := testKeys(t)
	client, err := NewClient(TypeVOPRF, key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	issuer := NewIssuer(key)
	var mu sync.Mutex
	fetches := 0
	pool, err := NewPool(client, testChallenge(t, TypeVOPRF), 4, func(ctx context.Context, req []byte) ([]byte, error) {
		mu.Lock()
		fetches++
		mu.Unlock()
		return issuer.IssueBatch(req)
	})
	if err != nil {
		t.Fatal(err)
	}
	pool.SetLowWater(2)
	origin := NewOrigin(newMapLedger())
	origin.AddIssuerKey(key)
	seen := map[string]bool{}
	for i := range 12 {
		tok, err := pool.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(tok)] {
			t.Fatalf("token %d handed out twice", i)
		}
		seen[string(tok)] = true
		if err := origin.Redeem(context.Background(), tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		// The pool never stays dry: the batch fetched in the background lands
		// without another call to Token.
		deadline := time.Now().Add(10 * time.Second)
		for pool.Len() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("after token %d the pool is empty and no background fetch refilled it", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches < 3 {
		t.Fatalf("%d fetches for 12 tokens in batches of 4", fetches)
	}
}
