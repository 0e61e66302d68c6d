package regression

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/domain"
)

func TestLedgerKeepsSpentNonceOfDamagedLastRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := fileledger.Open(dir, &fileledger.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	part := "ab"
	n1 := bytes.Repeat([]byte{1}, 32)
	n2 := bytes.Repeat([]byte{2}, 32)
	for _, n := range [][]byte{n1, n2} {
		if spent, err := l.MarkSpent(ctx, part, n); err != nil || spent {
			t.Fatal(spent, err)
		}
	}
	p := filepath.Join(dir, part+".log")
	b, _ := os.ReadFile(p)
	b[len(b)-10] ^= 0x40 // bit flip inside the last (complete) record's nonce
	os.WriteFile(p, b, 0o600)
	// A complete record with a bad checksum is damage, not a torn tail: the ledger
	// fails closed instead of forgetting that n2 was spent.
	if _, err := fileledger.Open(dir, nil); !errors.Is(err, domain.ErrIntegrity) {
		t.Fatalf("Open of a log whose last complete record is damaged: %v, want ErrIntegrity", err)
	}
}
