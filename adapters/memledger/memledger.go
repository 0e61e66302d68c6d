// Package memledger is an in-memory domain.SpentLedger: for tests, and for an
// embedded origin whose tokens may be replayed after a restart (its state dies
// with the process; use fileledger where that matters).
package memledger

import (
	"context"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.SpentLedger = (*Ledger)(nil)

// Ledger is an in-memory domain.SpentLedger. The zero value is not usable; call
// Open. A Ledger is safe for concurrent use.
type Ledger struct {
	mu         sync.Mutex
	partitions map[string]map[string]struct{}
}

// Open returns a new, empty ledger.
func Open() *Ledger {
	return &Ledger{partitions: make(map[string]map[string]struct{})}
}

// MarkSpent records nonce as spent in partition and reports whether it already was.
func (l *Ledger) MarkSpent(ctx context.Context, partition string, nonce []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := domain.CheckLedgerArgs(partition, nonce); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.partitions[partition]
	if p == nil {
		p = make(map[string]struct{})
		l.partitions[partition] = p
	}
	if _, spent := p[string(nonce)]; spent {
		return true, nil
	}
	p[string(nonce)] = struct{}{} // string(nonce) copies
	return false, nil
}

// DropPartition forgets every nonce of partition.
func (l *Ledger) DropPartition(ctx context.Context, partition string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := domain.CheckPartition(partition); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.partitions, partition)
	return nil
}

// Len returns how many nonces partition holds.
func (l *Ledger) Len(partition string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.partitions[partition])
}
