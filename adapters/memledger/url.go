package memledger

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of an in-memory ledger: "memory://", nothing after
// it. Each opening is a new, empty ledger.
const Scheme = "memory"

func init() { openurl.RegisterLedger(Scheme, OpenURL) }

// OpenURL is the openurl.LedgerOpener of memory://: a new Ledger (Open).
func OpenURL(_ context.Context, u openurl.URL, _ openurl.LedgerOptions) (domain.SpentLedger, error) {
	if err := u.CheckEmpty(); err != nil {
		return nil, fmt.Errorf("aegis/memledger: %w", err)
	}
	return Open(), nil
}
