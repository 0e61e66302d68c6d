package fileledger

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of a directory ledger: "file://DIR" (DIR as
// written, relative to the working directory unless it begins with "/").
const Scheme = "file"

func init() { openurl.RegisterLedger(Scheme, OpenURL) }

// OpenURL is the openurl.LedgerOpener of file://DIR: Open(DIR), creating the
// directory when o.Create is set.
func OpenURL(_ context.Context, u openurl.URL, o openurl.LedgerOptions) (domain.SpentLedger, error) {
	dir, err := u.Dir()
	if err != nil {
		return nil, fmt.Errorf("aegis/fileledger: %w", err)
	}
	l, err := Open(dir, &Options{Create: o.Create})
	if err != nil {
		return nil, err
	}
	return l, nil
}
