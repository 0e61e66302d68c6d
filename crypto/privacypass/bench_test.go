package privacypass

import (
	"bytes"
	"fmt"
	"testing"
)

// Benchmarks of each role and type: client blind, issuer sign/evaluate (one
// token and a batch of 32, in the batch format of the type), client finalize,
// origin verify. Each checks its result once after its loop (the timer
// stopped): the request, the response or the token it made ends in a token
// that the origin accepts, and refuses with a byte flipped.
func BenchmarkPrivacyPass(b *testing.B) {
	for _, key := range []*IssuerKey{testKey(b, TypeBlindRSA), testKey(b, TypeVOPRF), testKey(b, TypeVOPRFRistretto255)} {
		name := map[TokenType]string{TypeBlindRSA: "Type2BlindRSA", TypeVOPRF: "Type1VOPRF", TypeVOPRFRistretto255: "Type5VOPRFRistretto255"}[key.Type()]
		reqType, _, err := BatchMediaTypes(key.Type())
		if err != nil {
			b.Fatal(err)
		}
		challenge := testChallenge(b, key.Type())
		client, err := NewClient(key.Type(), key.TokenKey())
		if err != nil {
			b.Fatal(err)
		}
		issuer := NewIssuer(key)
		origin := NewOrigin(nil)
		origin.AddIssuerKey(key)
		// redeems checks that the response resp to the request of pending
		// finalizes into a token that origin accepts.
		redeems := func(b *testing.B, pending *Pending, resp []byte) {
			b.Helper()
			t, err := client.Finalize(pending, resp)
			if err != nil {
				b.Fatalf("Finalize: %v", err)
			}
			checkVerifies(b, origin, t)
		}

		b.Run(name+"/ClientBlind", func(b *testing.B) {
			var req []byte
			var pending *Pending
			b.ReportAllocs()
			for b.Loop() {
				if req, pending, err = client.Request(challenge); err != nil {
					b.Fatal(err)
				}
			}
			resp, err := issuer.Issue(req)
			if err != nil {
				b.Fatalf("Issue: %v", err)
			}
			redeems(b, pending, resp)
		})
		req, pending, _ := client.Request(challenge)
		b.Run(name+"/IssuerIssue", func(b *testing.B) {
			var resp []byte
			b.ReportAllocs()
			for b.Loop() {
				if resp, err = issuer.Issue(req); err != nil {
					b.Fatal(err)
				}
			}
			redeems(b, pending, resp)
			pending.used = false
		})
		for _, n := range []int{32} {
			breq, bpending, _ := client.BatchRequest(challenge, n)
			b.Run(fmt.Sprintf("%s/IssuerIssueBatch%d", name, n), func(b *testing.B) {
				var resp *Response
				b.ReportAllocs()
				for b.Loop() {
					if resp, err = issuer.Respond(reqType, breq); err != nil {
						b.Fatal(err)
					}
				}
				toks, err := client.FinalizeBatch(bpending, resp.Body)
				if err != nil || len(toks) != n {
					b.Fatalf("FinalizeBatch: %d tokens, want %d, %v", len(toks), n, err)
				}
				for _, t := range toks {
					checkVerifies(b, origin, t)
				}
			})
		}
		resp, _ := issuer.Issue(req)
		b.Run(name+"/ClientFinalize", func(b *testing.B) {
			var t *Token
			b.ReportAllocs()
			for b.Loop() {
				pending.used = false
				if t, err = client.Finalize(pending, resp); err != nil {
					b.Fatal(err)
				}
			}
			checkVerifies(b, origin, t)
		})
		pending.used = false
		t, err := client.Finalize(pending, resp)
		if err != nil {
			b.Fatal(err)
		}
		enc, _ := t.MarshalBinary()
		b.Run(name+"/OriginVerify", func(b *testing.B) {
			var got *Token
			b.ReportAllocs()
			for b.Loop() {
				if got, err = origin.Verify(enc); err != nil {
					b.Fatal(err)
				}
			}
			if again, _ := got.MarshalBinary(); !bytes.Equal(again, enc) {
				b.Fatal("Verify returned another token than it was given")
			}
			checkVerifies(b, origin, t)
		})
	}
}

// checkVerifies checks that origin accepts t, and refuses it with its first,
// middle or last byte flipped.
func checkVerifies(b *testing.B, origin *Origin, t *Token) {
	b.Helper()
	enc, err := t.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := origin.Verify(enc); err != nil {
		b.Fatalf("the origin refuses the token: %v", err)
	}
	for _, i := range []int{0, len(enc) / 2, len(enc) - 1} {
		bad := bytes.Clone(enc)
		bad[i] ^= 1
		if _, err := origin.Verify(bad); err == nil {
			b.Fatalf("the origin accepts the token with byte %d of %d flipped", i, len(enc))
		}
	}
}

