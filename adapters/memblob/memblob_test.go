package memblob_test

import (
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
)

func TestConformance(t *testing.T) {
	blobstoretest.Run(t, func(*testing.T) domain.BlobStore { return memblob.Open() })
}
