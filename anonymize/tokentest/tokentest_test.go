package tokentest_test

import (
	"testing"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/tokentest"
)

func TestHMACTokensConformance(t *testing.T) {
	tokentest.Run(t, func(t *testing.T) tokentest.Pair {
		h, err := anonymize.NewRandomHMACTokens()
		if err != nil {
			t.Fatal(err)
		}
		return tokentest.Pair{Source: h, Verifier: h, Spent: anonymize.ErrTokenSpent}
	})
}
