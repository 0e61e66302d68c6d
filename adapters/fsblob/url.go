package fsblob

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of a directory store: "file://DIR" (DIR as written,
// relative to the working directory unless it begins with "/").
const Scheme = "file"

func init() { openurl.RegisterStore(Scheme, OpenURL) }

// OpenURL is the openurl.StoreOpener of file://DIR: Open(DIR), creating the
// directory when o.Create is set.
func OpenURL(_ context.Context, u openurl.URL, o openurl.StoreOptions) (domain.BlobStore, error) {
	dir, err := u.Dir()
	if err != nil {
		return nil, fmt.Errorf("aegis/fsblob: %w", err)
	}
	s, err := Open(dir, &Options{Create: o.Create})
	if err != nil {
		return nil, err
	}
	return s, nil
}
