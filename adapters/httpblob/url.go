package httpblob

import (
	"context"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

func init() {
	openurl.RegisterStore("http", OpenURL)
	openurl.RegisterStore("https", OpenURL)
}

// OpenURL is the openurl.StoreOpener of http(s)://HOST[:PORT][/PATH], the base
// URL of an aegisd: Open with o.Tokens (required), o.HTTPClient and
// o.ContextTokens. It sends nothing.
func OpenURL(_ context.Context, u openurl.URL, o openurl.StoreOptions) (domain.BlobStore, error) {
	s, err := Open(u.Raw, &Options{Tokens: o.Tokens, Client: o.HTTPClient, ContextTokens: o.ContextTokens})
	if err != nil {
		return nil, err
	}
	return s, nil
}
