package aegisd_test

import (
	"testing"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
)

// TestHTTPBlobConformance runs the BlobStore conformance suite against
// adapters/httpblob talking to a real aegisd (Wire-assembled handler, real
// http.Server on loopback, type 2 tokens spent in its ledger). The server
// admits any object size here because the suite stores objects that are not
// bucket-sized; bucket enforcement has its own specs.
func TestHTTPBlobConformance(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T) domain.BlobStore {
		r, err := start(func(o *aegisd.Options) { o.Sizes = anySize{} })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := r.stop(); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
		s, _, err := newStore(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
