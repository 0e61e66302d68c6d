package privacypass

import (
	"fmt"
	"testing"
)

// Benchmarks of each role and type: client blind, issuer sign/evaluate (one
// token and a batch of 32), client finalize, origin verify.
func BenchmarkPrivacyPass(b *testing.B) {
	rsaKey, voprfKey := testKeys(b)
	for _, key := range []*IssuerKey{rsaKey, voprfKey} {
		name := map[TokenType]string{TypeBlindRSA: "Type2BlindRSA", TypeVOPRF: "Type1VOPRF"}[key.Type()]
		challenge := testChallenge(b, key.Type())
		client, err := NewClient(key.Type(), key.TokenKey())
		if err != nil {
			b.Fatal(err)
		}
		issuer := NewIssuer(key)
		origin := NewOrigin(nil)
		origin.AddIssuerKey(key)

		b.Run(name+"/ClientBlind", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := client.Request(challenge); err != nil {
					b.Fatal(err)
				}
			}
		})
		req, pending, _ := client.Request(challenge)
		b.Run(name+"/IssuerIssue", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := issuer.Issue(req); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, n := range []int{32} {
			breq, _, _ := client.BatchRequest(challenge, n)
			b.Run(fmt.Sprintf("%s/IssuerIssueBatch%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := issuer.IssueBatch(breq); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		resp, _ := issuer.Issue(req)
		b.Run(name+"/ClientFinalize", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pending.used = false
				if _, err := client.Finalize(pending, resp); err != nil {
					b.Fatal(err)
				}
			}
		})
		pending.used = false
		t, err := client.Finalize(pending, resp)
		if err != nil {
			b.Fatal(err)
		}
		enc, _ := t.MarshalBinary()
		b.Run(name+"/OriginVerify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := origin.Verify(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
