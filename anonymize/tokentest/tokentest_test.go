package tokentest_test

import (
	"testing"

	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/anonymize/tokentest"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// The local token scheme the Cloak uses on a local store.
func TestHMACTokenConformance(t *testing.T) {
	tokentest.Run(t, func(t *testing.T) tokentest.Pair {
		h, err := hmactoken.New(secret.Random(32), fakes.NewLedger())
		if err != nil {
			t.Fatal(err)
		}
		return tokentest.Pair{Source: h, Verifier: h, Spent: domain.ErrTokenSpent}
	})
}
