package fakes_test

import (
	"testing"

	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/blobstoretest"
	"github.com/ai-pantheon/aegis/domain/ledgertest"
)

// The fakes are held to the conformance suites the adapters pass.
func TestStoreConformance(t *testing.T) {
	blobstoretest.Run(t, func(*testing.T) domain.BlobStore { return fakes.NewStore() })
}

func TestLedgerConformance(t *testing.T) {
	ledgertest.Run(t, func(*testing.T) domain.SpentLedger { return fakes.NewLedger() })
}
