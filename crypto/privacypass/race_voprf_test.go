package privacypass

import (
	"sync"
	"testing"
	"time"
)

// Concurrent issuance, finalization and redemption with one VOPRF key, of
// either VOPRF type: single requests and batches at once, one Client, one
// Issuer and one Origin shared by every goroutine. Under the race detector this
// failed while the key's uses were not isolated: circl's P-384 element
// serialization reduces the public element in place (every proof and every
// proof verification serializes it), and oprf.PrivateKey.Public fills a cache
// on first use. Each call now works on a copy of its own (voprfKey,
// Client.voprf), without a lock held across the computation.
func TestVOPRFKeyIsSafeForConcurrentUse(t *testing.T) {
	for _, typ := range []TokenType{TypeVOPRF, TypeVOPRFRistretto255} {
		t.Run(typ.String(), func(t *testing.T) {
			key, err := GenerateIssuerKey(typ, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			client, err := NewClient(typ, key.TokenKey())
			if err != nil {
				t.Fatal(err)
			}
			issuer := NewIssuer(key)
			origin := NewOrigin(newMapLedger())
			origin.AddIssuerKey(key)
			challenge := testChallenge(t, typ)
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					var toks []*Token
					if g%2 == 0 {
						req, pending, err := client.BatchRequest(challenge, 3)
						if err != nil {
							t.Error(err)
							return
						}
						resp, err := issuer.IssueBatch(req)
						if err != nil {
							t.Error(err)
							return
						}
						if toks, err = client.FinalizeBatch(pending, resp); err != nil {
							t.Error(err)
							return
						}
					} else {
						req, pending, err := client.Request(challenge)
						if err != nil {
							t.Error(err)
							return
						}
						resp, err := issuer.Issue(req)
						if err != nil {
							t.Error(err)
							return
						}
						tok, err := client.Finalize(pending, resp)
						if err != nil {
							t.Error(err)
							return
						}
						toks = []*Token{tok}
					}
					for _, tok := range toks {
						b, _ := tok.MarshalBinary()
						if err := origin.Redeem(t.Context(), b); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
