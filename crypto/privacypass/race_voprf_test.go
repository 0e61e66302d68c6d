package privacypass

import (
	"sync"
	"testing"
	"time"
)

// Concurrent issuance and redemption with one VOPRF key: under the race detector
// this failed before the key's uses were serialised.
func TestVOPRFKeyIsSafeForConcurrentUse(t *testing.T) {
	key, err := GenerateIssuerKey(TypeVOPRF, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(TypeVOPRF, key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	issuer := NewIssuer(key)
	origin := NewOrigin(newMapLedger())
	origin.AddIssuerKey(key)
	challenge := testChallenge(t, TypeVOPRF)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			req, pending, err := client.BatchRequest(challenge, 2)
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := issuer.IssueBatch(req)
			if err != nil {
				t.Error(err)
				return
			}
			toks, err := client.FinalizeBatch(pending, resp)
			if err != nil {
				t.Error(err)
				return
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
}
