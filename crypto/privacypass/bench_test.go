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

// benchTypes are the token types of the per-token benchmarks, by the name of
// their sub-benchmark.
var benchTypes = []struct {
	name string
	typ  TokenType
}{{"type=1", TypeVOPRF}, {"type=2", TypeBlindRSA}, {"type=5", TypeVOPRFRistretto255}}

// benchBatch is the batch size of BenchmarkIssue and BenchmarkFinalize.
const benchBatch = 64

// BenchmarkIssue: the issuer's time per token in a batch of 64, through
// Issuer.Respond in the batch format of the type (one DLEQ proof per batch for
// types 1 and 5, 64 blind signatures for type 2). ns/token is ns/op / 64.
func BenchmarkIssue(b *testing.B) {
	for _, bt := range benchTypes {
		b.Run(bt.name+"/batch=64", func(b *testing.B) {
			key := testKey(b, bt.typ)
			client, issuer, origin := benchParties(b, key)
			reqType, _, _ := BatchMediaTypes(bt.typ)
			req, pending, err := client.BatchRequest(testChallenge(b, bt.typ), benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			var resp *Response
			b.ReportAllocs()
			for b.Loop() {
				if resp, err = issuer.Respond(reqType, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/token")
			toks, err := client.FinalizeBatch(pending, resp.Body)
			if err != nil || len(toks) != benchBatch {
				b.Fatalf("FinalizeBatch: %d tokens, %v", len(toks), err)
			}
			checkVerifies(b, origin, toks[benchBatch-1])
		})
	}
}

// BenchmarkIssueParallel: BenchmarkIssue with a batch in flight per core
// (b.RunParallel), one shared Issuer and key: ns/token is wall time per token,
// so on n cores it is about BenchmarkIssue's divided by n if issuance does not
// serialise.
func BenchmarkIssueParallel(b *testing.B) {
	for _, bt := range benchTypes {
		b.Run(bt.name+"/batch=64", func(b *testing.B) {
			key := testKey(b, bt.typ)
			client, issuer, _ := benchParties(b, key)
			reqType, _, _ := BatchMediaTypes(bt.typ)
			req, _, err := client.BatchRequest(testChallenge(b, bt.typ), benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := issuer.Respond(reqType, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/token")
		})
	}
}

// BenchmarkFinalize: the client's time per token to finalize a batch of 64
// (verifying the one proof, or the 64 signatures, and unblinding).
func BenchmarkFinalize(b *testing.B) {
	for _, bt := range benchTypes {
		b.Run(bt.name+"/batch=64", func(b *testing.B) {
			key := testKey(b, bt.typ)
			client, issuer, origin := benchParties(b, key)
			reqType, _, _ := BatchMediaTypes(bt.typ)
			req, pending, err := client.BatchRequest(testChallenge(b, bt.typ), benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := issuer.Respond(reqType, req)
			if err != nil {
				b.Fatal(err)
			}
			var toks []*Token
			b.ReportAllocs()
			for b.Loop() {
				pending.used = false
				if toks, err = client.FinalizeBatch(pending, resp.Body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/token")
			checkVerifies(b, origin, toks[0])
		})
	}
}

// BenchmarkVerify: the origin's time to verify one token (Origin.Verify:
// decode, key lookup, and RSASSA-PSS verification for type 2 or the VOPRF
// evaluation with the private key for types 1 and 5; no ledger).
func BenchmarkVerify(b *testing.B) {
	for _, bt := range benchTypes {
		b.Run(bt.name, func(b *testing.B) {
			key := testKey(b, bt.typ)
			_, _, origin := benchParties(b, key)
			enc := mintToken(b, key, testChallenge(b, bt.typ))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := origin.Verify(enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/token")
			tok, err := ParseToken(enc)
			if err != nil {
				b.Fatal(err)
			}
			checkVerifies(b, origin, tok)
		})
	}
}

// benchParties returns a client, an issuer and an origin (without a ledger)
// of key.
func benchParties(b *testing.B, key *IssuerKey) (*Client, *Issuer, *Origin) {
	b.Helper()
	client, err := NewClient(key.Type(), key.TokenKey())
	if err != nil {
		b.Fatal(err)
	}
	origin := NewOrigin(nil)
	origin.AddIssuerKey(key)
	return client, NewIssuer(key), origin
}
