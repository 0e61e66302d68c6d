package memblob

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of an in-memory store: "memory://", nothing after
// it. Each opening is a new, empty store.
const Scheme = "memory"

func init() { openurl.RegisterStore(Scheme, OpenURL) }

// OpenURL is the openurl.StoreOpener of memory://: a new Store (Open).
func OpenURL(_ context.Context, u openurl.URL, _ openurl.StoreOptions) (domain.BlobStore, error) {
	if err := u.CheckEmpty(); err != nil {
		return nil, fmt.Errorf("aegis/memblob: %w", err)
	}
	return Open(), nil
}
