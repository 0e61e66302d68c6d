package privacypass

import (
	"context"
	"errors"
	"testing"
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
