//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fileledger_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/ledgertest"
)

func TestConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) domain.SpentLedger {
		l, err := fileledger.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// BenchmarkMarkSpent measures one durable mark: an append and an fsync.
func BenchmarkMarkSpent(b *testing.B) {
	l, err := fileledger.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	nonce := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		if spent, err := l.MarkSpent(ctx, "ab", nonce); err != nil || spent {
			b.Fatalf("MarkSpent of a fresh nonce = %v, %v", spent, err)
		}
	}
	// The last nonce is spent now: marking it again reports it.
	if spent, err := l.MarkSpent(ctx, "ab", nonce); err != nil || !spent {
		b.Fatalf("MarkSpent of the last nonce again = %v, %v; want true", spent, err)
	}
}
