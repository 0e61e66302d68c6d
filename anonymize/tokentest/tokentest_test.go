package tokentest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/anonymize/tokentest"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
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

// Privacy Pass tokens of every type (crypto/privacypass): a Pool fetching
// batches in the type's batch format from an Issuer, redeemed by an Origin
// over a ledger. Each pair has a key of its own.
func TestPrivacyPassConformance(t *testing.T) {
	for _, typ := range []domain.TokenType{privacypass.TypeVOPRF, privacypass.TypeBlindRSA, privacypass.TypeVOPRFRistretto255} {
		t.Run(typ.String(), func(t *testing.T) {
			tokentest.Run(t, func(t *testing.T) tokentest.Pair {
				key, err := privacypass.GenerateIssuerKey(typ, nil, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				client, err := privacypass.NewClient(typ, key.TokenKey())
				if err != nil {
					t.Fatal(err)
				}
				challenge, err := (&privacypass.TokenChallenge{TokenType: typ, IssuerName: "issuer.example"}).MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				reqType, respType, err := privacypass.BatchMediaTypes(typ)
				if err != nil {
					t.Fatal(err)
				}
				issuer := privacypass.NewIssuer(key)
				pool, err := privacypass.NewPool(client, challenge, 32, func(_ context.Context, req []byte) ([]byte, error) {
					resp, err := issuer.Respond(reqType, req)
					if err != nil {
						return nil, err
					}
					if resp.MediaType != respType {
						return nil, fmt.Errorf("response of %q, want %q", resp.MediaType, respType)
					}
					return resp.Body, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				origin := privacypass.NewOrigin(fakes.NewLedger())
				origin.AddIssuerKey(key)
				if err := origin.AcceptChallenge(challenge); err != nil {
					t.Fatal(err)
				}
				return tokentest.Pair{Source: pool, Verifier: origin, Spent: domain.ErrTokenSpent}
			})
		})
	}
}
