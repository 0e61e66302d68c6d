// Package tokentest is the conformance suite of the domain.TokenSource port,
// for sources that come with the verifier of their tokens (the origin side).
package tokentest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// Pair is a token source and the origin side that redeems its tokens.
type Pair struct {
	Source   domain.TokenSource
	Verifier domain.Redeemer
	// Spent is the error Redeem wraps for a token redeemed twice
	// (domain.ErrTokenSpent for crypto/hmactoken).
	Spent error
}

// Run checks that tokens are fresh, verify exactly once, and that altered or
// foreign tokens are refused. newPair returns an independent pair each call.
func Run(t *testing.T, newPair func(t *testing.T) Pair) {
	ctx := context.Background()

	t.Run("tokens are distinct", func(t *testing.T) {
		p := newPair(t)
		seen := map[string]bool{}
		for range 100 {
			tok, err := p.Source.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) == 0 || seen[string(tok)] {
				t.Fatalf("empty or repeated token %x", tok)
			}
			seen[string(tok)] = true
		}
	})

	t.Run("a token verifies exactly once", func(t *testing.T) {
		p := newPair(t)
		tok, err := p.Source.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verifier.Redeem(ctx, tok); err != nil {
			t.Fatalf("first redemption: %v", err)
		}
		err = p.Verifier.Redeem(ctx, tok)
		if err == nil {
			t.Fatal("second redemption succeeded")
		}
		if p.Spent != nil && !errors.Is(err, p.Spent) {
			t.Fatalf("second redemption: %v, want %v", err, p.Spent)
		}
	})

	t.Run("concurrent redemptions of one token: exactly one succeeds", func(t *testing.T) {
		p := newPair(t)
		tok, err := p.Source.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range 16 {
			wg.Go(func() {
				if p.Verifier.Redeem(ctx, bytes.Clone(tok)) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d of 16 concurrent redemptions succeeded", ok)
		}
	})

	t.Run("altered, truncated and empty tokens are refused", func(t *testing.T) {
		p := newPair(t)
		tok, err := p.Source.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tok {
			bad := bytes.Clone(tok)
			bad[i] ^= 0x01
			if p.Verifier.Redeem(ctx, bad) == nil {
				t.Fatalf("token with byte %d flipped verified", i)
			}
		}
		if p.Verifier.Redeem(ctx, tok[:len(tok)-1]) == nil || p.Verifier.Redeem(ctx, append(bytes.Clone(tok), 0)) == nil || p.Verifier.Redeem(ctx, nil) == nil {
			t.Fatal("a truncated, extended or empty token verified")
		}
		if err := p.Verifier.Redeem(ctx, tok); err != nil {
			t.Fatalf("refusing altered copies spent the real token: %v", err)
		}
	})

	t.Run("tokens of another issuer are refused", func(t *testing.T) {
		a, b := newPair(t), newPair(t)
		tok, err := a.Source.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Verifier.Redeem(ctx, tok) == nil {
			t.Fatal("a token verified at another issuer's verifier")
		}
	})
}
