package s3blob

import (
	"context"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of an S3 store (ParseURL).
const Scheme = "s3"

func init() { openurl.RegisterStore(Scheme, OpenURL) }

// OpenURL is the openurl.StoreOpener of s3://BUCKET[/PREFIX]?…: ConfigFromEnv
// (ParseURL, and the credentials from o.Getenv), then Open, which checks the
// endpoint, the credentials and the bucket. The bucket is never created.
func OpenURL(ctx context.Context, u openurl.URL, o openurl.StoreOptions) (domain.BlobStore, error) {
	cfg, err := ConfigFromEnv(u.Raw, o.Getenv)
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}
