package privacypass

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestVarint(t *testing.T) {
	for _, tc := range []struct {
		v   uint64
		enc []byte
	}{
		{0, []byte{0}},
		{63, []byte{0x3f}},
		{64, []byte{0x40, 0x40}},
		{96, []byte{0x40, 0x60}}, // pat-go's type 5 batch of three
		{16383, []byte{0x7f, 0xff}},
		{16384, []byte{0x80, 0, 0x40, 0}},
		{1<<30 - 1, []byte{0xbf, 0xff, 0xff, 0xff}},
		{1 << 30, []byte{0xc0, 0, 0, 0, 0x40, 0, 0, 0}},
		{151288809941952652, []byte{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}}, // RFC 9000 appendix A.1
	} {
		if got := appendVarint(nil, tc.v); !bytes.Equal(got, tc.enc) {
			t.Errorf("appendVarint(%d) = %x, want %x", tc.v, got, tc.enc)
		}
		v, n, err := readVarint(append(bytes.Clone(tc.enc), 0xaa))
		if err != nil || v != tc.v || n != len(tc.enc) {
			t.Errorf("readVarint(%x) = %d, %d, %v", tc.enc, v, n, err)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{0x40},                                  // truncated
		{0x80, 0, 0},                            // truncated
		{0x40, 0x25},                            // 37 in two bytes (RFC 9000's example of a non-minimal encoding)
		{0x80, 0, 0x3f, 0xff},                   // 16383 in four bytes
		{0xc0, 0, 0, 0, 0x3f, 0xff, 0xff, 0xff}, // 2^30-1 in eight bytes
	} {
		if _, _, err := readVarint(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("readVarint(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}

// The encodings of the draft: pat-go's type 5 batch of three starts
// 0005 <key id> 4060, and every structure round-trips.
func TestBatchStructures(t *testing.T) {
	e32 := bytes.Repeat([]byte{0xe2}, 32)
	req := &BatchTokenRequest{TokenType: TypeVOPRFRistretto255, TruncatedKeyID: 0x2d, BlindedElements: [][]byte{e32, e32, e32}}
	b, err := req.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0, 5, 0x2d, 0x40, 0x60}) || len(b) != 5+96 {
		t.Fatalf("batch request %x", b[:8])
	}
	back, err := ParseBatchTokenRequest(b)
	if err != nil || len(back.BlindedElements) != 3 || back.TruncatedKeyID != 0x2d {
		t.Fatalf("round trip: %+v, %v", back, err)
	}

	proof := bytes.Repeat([]byte{1}, 64)
	resp := &BatchTokenResponse{TokenType: TypeVOPRFRistretto255, EvaluatedElements: [][]byte{e32, e32}, Proof: proof}
	b, err = resp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x40, 0x40}) || len(b) != 2+64+64 {
		t.Fatalf("batch response %x", b[:4])
	}
	if r, err := ParseBatchTokenResponse(TypeVOPRFRistretto255, b); err != nil || len(r.EvaluatedElements) != 2 || !bytes.Equal(r.Proof, proof) {
		t.Fatalf("round trip: %v", err)
	}

	sig := bytes.Repeat([]byte{2}, 256)
	areq := &ArbitraryBatchTokenRequest{TokenRequests: []TokenRequest{
		{TokenType: TypeBlindRSA, TruncatedKeyID: 1, BlindedMsg: sig},
		{TokenType: TypeVOPRFRistretto255, TruncatedKeyID: 2, BlindedMsg: e32},
		{TokenType: TypeVOPRF, TruncatedKeyID: 3, BlindedMsg: bytes.Repeat([]byte{3}, 49)},
	}}
	b, err = areq.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := 259 + 35 + 52; len(b) != 2+want || b[0] != 0x40|byte(want>>8) || b[1] != byte(want) {
		t.Fatalf("arbitrary request of %d bytes, prefix %x", len(b), b[:2])
	}
	aback, err := ParseArbitraryBatchTokenRequest(b)
	if err != nil || len(aback.TokenRequests) != 3 || aback.TokenRequests[1].TokenType != TypeVOPRFRistretto255 || aback.TokenRequests[2].TruncatedKeyID != 3 {
		t.Fatalf("round trip: %+v, %v", aback, err)
	}

	aresp := &ArbitraryBatchTokenResponse{TokenTypes: []TokenType{TypeBlindRSA, TypeVOPRFRistretto255, TypeVOPRF}, TokenResponses: [][]byte{sig, nil, bytes.Repeat([]byte{4}, 49+96)}}
	b, err = aresp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Each present response: 1 presence octet, 2 octets of token_type, the body.
	if want := 259 + 1 + 148; len(b) != 2+want {
		t.Fatalf("arbitrary response of %d bytes, want %d", len(b), 2+want)
	}
	r, err := ParseArbitraryBatchTokenResponse(aresp.TokenTypes, b)
	if err != nil || r.TokenResponses[1] != nil || !bytes.Equal(r.TokenResponses[0], sig) || len(r.TokenResponses[2]) != 145 {
		t.Fatalf("round trip: %v", err)
	}
	// A presence octet other than 0 and 1 is malformed.
	bad := bytes.Clone(b)
	bad[2+259] = 2
	if _, err := ParseArbitraryBatchTokenResponse(aresp.TokenTypes, bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "presence") {
		t.Fatalf("presence octet 2: %v", err)
	}
	// A response whose token_type is not its request's is malformed.
	bad = bytes.Clone(b)
	bad[2+2] = 0x05
	if _, err := ParseArbitraryBatchTokenResponse(aresp.TokenTypes, bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "its request of") {
		t.Fatalf("a response of another type: %v", err)
	}
	for _, p := range []byte{2, 0xff} {
		one := append(appendVarint(nil, 259), append([]byte{p, 0x00, 0x02}, sig...)...)
		if _, err := ParseArbitraryBatchTokenResponse([]TokenType{TypeBlindRSA}, one); !errors.Is(err, ErrMalformed) {
			t.Fatalf("presence octet %d before a whole response: %v", p, err)
		}
	}
	// Fewer responses than requests, or more, are malformed.
	if _, err := ParseArbitraryBatchTokenResponse(append(aresp.TokenTypes, TypeBlindRSA), b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a response missing: %v", err)
	}
	if _, err := ParseArbitraryBatchTokenResponse(aresp.TokenTypes[:2], b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a response too many: %v", err)
	}
}

func TestBatchParsersRefuse(t *testing.T) {
	e := bytes.Repeat([]byte{1}, 32)
	withLen := func(prefix []byte, n int, body []byte) []byte {
		return append(appendVarint(bytes.Clone(prefix), uint64(n)), body...)
	}
	many := bytes.Repeat(e, MaxBatch+1)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"Empty", nil, ErrMalformed},
		{"NoLength", []byte{0, 5, 1}, ErrMalformed},
		{"Type2", withLen([]byte{0, 2, 1}, 256, bytes.Repeat(e, 8)), ErrUnsupportedType},
		{"UnknownType", withLen([]byte{0, 9, 1}, 32, e), ErrUnsupportedType},
		{"ZeroElements", withLen([]byte{0, 5, 1}, 0, nil), ErrMalformed},
		{"NotMultipleOfNe", withLen([]byte{0, 5, 1}, 31, e[:31]), ErrMalformed},
		{"Trailing", append(withLen([]byte{0, 5, 1}, 32, e), 0), ErrMalformed},
		{"Short", withLen([]byte{0, 5, 1}, 64, e), ErrMalformed},
		{"OverMaxBatch", withLen([]byte{0, 5, 1}, len(many), many), ErrMalformed},
		{"NonMinimalLength", append([]byte{0, 5, 1, 0x40, 32}, e...), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseBatchTokenRequest(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Responses.
	proof := make([]byte, 64)
	for _, tc := range []struct {
		name string
		typ  TokenType
		b    []byte
		want error
	}{
		{"Type2", TypeBlindRSA, withLen(nil, 32, append(e, proof...)), ErrUnsupportedType},
		{"NoProof", TypeVOPRFRistretto255, withLen(nil, 32, e), ErrMalformed},
		{"ShortProof", TypeVOPRFRistretto255, withLen(nil, 32, append(e, proof[1:]...)), ErrMalformed},
		{"ZeroElements", TypeVOPRFRistretto255, withLen(nil, 0, proof), ErrMalformed},
		{"NotMultipleOfNe", TypeVOPRF, withLen(nil, 32, append(e, make([]byte, 96)...)), ErrMalformed},
		{"NonMinimalLength", TypeVOPRFRistretto255, append([]byte{0x40, 32}, append(e, proof...)...), ErrMalformed},
		{"HugeLength", TypeVOPRFRistretto255, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
	} {
		t.Run("Response"+tc.name, func(t *testing.T) {
			if _, err := ParseBatchTokenResponse(tc.typ, tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Arbitrary requests.
	req5 := append([]byte{0, 5, 1}, e...)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"Empty", nil, ErrMalformed},
		{"NoRequests", []byte{0}, ErrMalformed},
		{"UnknownType", withLen(nil, 35, append([]byte{0, 9, 1}, e...)), ErrUnsupportedType},
		{"TruncatedRequest", withLen(nil, 34, req5[:34]), ErrMalformed},
		{"TruncatedHeader", withLen(nil, 37, append(bytes.Clone(req5), 0, 5)), ErrMalformed},
		{"LengthMismatch", withLen(nil, 36, req5), ErrMalformed},
		{"NonMinimalLength", append([]byte{0x40, 35}, req5...), ErrMalformed},
		{"OverMaxBatch", withLen(nil, 35*(MaxBatch+1), bytes.Repeat(req5, MaxBatch+1)), ErrMalformed},
	} {
		t.Run("Arbitrary"+tc.name, func(t *testing.T) {
			if _, err := ParseArbitraryBatchTokenRequest(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// MaxBatch itself is fine.
	if r, err := ParseArbitraryBatchTokenRequest(withLen(nil, 35*MaxBatch, bytes.Repeat(req5, MaxBatch))); err != nil || len(r.TokenRequests) != MaxBatch {
		t.Fatalf("a batch of MaxBatch: %v", err)
	}
	if r, err := ParseBatchTokenRequest(withLen([]byte{0, 5, 1}, 32*MaxBatch, bytes.Repeat(e, MaxBatch))); err != nil || len(r.BlindedElements) != MaxBatch {
		t.Fatalf("a batch of MaxBatch: %v", err)
	}
}

func TestBatchMediaTypes(t *testing.T) {
	for _, tc := range []struct {
		typ       TokenType
		req, resp string
	}{
		{TypeVOPRF, "application/private-token-privately-verifiable-batch-request", "application/private-token-privately-verifiable-batch-response"},
		{TypeVOPRFRistretto255, "application/private-token-privately-verifiable-batch-request", "application/private-token-privately-verifiable-batch-response"},
		{TypeBlindRSA, "application/private-token-arbitrary-batch-request", "application/private-token-arbitrary-batch-response"},
	} {
		req, resp, err := BatchMediaTypes(tc.typ)
		if err != nil || req != tc.req || resp != tc.resp {
			t.Errorf("BatchMediaTypes(%v) = %q, %q, %v", tc.typ, req, resp, err)
		}
	}
	if _, _, err := BatchMediaTypes(0xff01); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("BatchMediaTypes(0xff01): %v", err)
	}
}

// Every type through Respond, in the batch format its client makes: the
// response's media type is the one BatchMediaTypes names, Tokens counts the
// tokens, and every token redeems.
func TestRespondBatches(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ.String(), func(t *testing.T) {
			key := testKey(t, typ)
			issuer := NewIssuer(testKeys2(t)...)
			client, err := NewClient(typ, key.TokenKey())
			if err != nil {
				t.Fatal(err)
			}
			reqType, respType, err := BatchMediaTypes(typ)
			if err != nil {
				t.Fatal(err)
			}
			req, pending, err := client.BatchRequest(testChallenge(t, typ), 5)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := issuer.Respond(reqType+"; charset=binary", req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.MediaType != respType || resp.Tokens != 5 {
				t.Fatalf("response %q with %d tokens, want %q with 5", resp.MediaType, resp.Tokens, respType)
			}
			toks, err := client.FinalizeBatch(pending, resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			origin := NewOrigin(newMapLedger())
			origin.AddIssuerKey(key)
			for i, tok := range toks {
				enc, _ := tok.MarshalBinary()
				if err := origin.Redeem(context.Background(), enc); err != nil {
					t.Fatalf("token %d: %v", i, err)
				}
			}
			// The single request through Respond.
			sreq, spending, _ := client.Request(testChallenge(t, typ))
			sresp, err := issuer.Respond(RequestMediaType, sreq)
			if err != nil || sresp.MediaType != ResponseMediaType || sresp.Tokens != 1 {
				t.Fatalf("single: %+v, %v", sresp, err)
			}
			if _, err := client.Finalize(spending, sresp.Body); err != nil {
				t.Fatal(err)
			}
			// The other batch format, or an unknown media type, is refused.
			other := ArbitraryBatchRequestMediaType
			if reqType == other {
				other = BatchRequestMediaType
			}
			if _, err := issuer.Respond(other, req); err == nil {
				t.Fatalf("a %s body accepted as %s", reqType, other)
			}
			for _, ct := range []string{"application/private-token-batch-request", "application/octet-stream", "", "a/b; ="} {
				if _, err := issuer.Respond(ct, req); !errors.Is(err, ErrUnsupportedMedia) {
					t.Fatalf("Respond(%q) = %v, want ErrUnsupportedMedia", ct, err)
				}
			}
		})
	}
}

// testKeys2 returns the shared keys of every type.
func testKeys2(t testing.TB) []*IssuerKey {
	var keys []*IssuerKey
	for _, typ := range allTypes {
		keys = append(keys, testKey(t, typ))
	}
	return keys
}

// An arbitrary batch may mix types and keys: each TokenResponse finalizes with
// the single-request Finalize of its own client.
func TestArbitraryBatchMixed(t *testing.T) {
	issuer := NewIssuer(testKeys2(t)...)
	var reqs []TokenRequest
	var clients []*Client
	var pendings []*Pending
	for i := range 6 {
		typ := allTypes[i%3]
		c, err := NewClient(typ, testKey(t, typ).TokenKey())
		if err != nil {
			t.Fatal(err)
		}
		b, p, err := c.Request(testChallenge(t, typ))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseTokenRequest(b)
		if err != nil {
			t.Fatal(err)
		}
		reqs, clients, pendings = append(reqs, *r), append(clients, c), append(pendings, p)
	}
	body, err := (&ArbitraryBatchTokenRequest{TokenRequests: reqs}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := issuer.Respond(ArbitraryBatchRequestMediaType, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Tokens != 6 || resp.MediaType != ArbitraryBatchResponseMediaType {
		t.Fatalf("%d tokens of %q", resp.Tokens, resp.MediaType)
	}
	types := make([]TokenType, len(reqs))
	for i := range reqs {
		types[i] = reqs[i].TokenType
	}
	parsed, err := ParseArbitraryBatchTokenResponse(types, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	origin := NewOrigin(newMapLedger())
	for _, k := range testKeys2(t) {
		origin.AddIssuerKey(k)
	}
	for i, tr := range parsed.TokenResponses {
		tok, err := clients[i].Finalize(pendings[i], tr)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		enc, _ := tok.MarshalBinary()
		if err := origin.Redeem(context.Background(), enc); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}

	// All or nothing: one bad request refuses the whole batch, naming it.
	for _, tc := range []struct {
		name string
		edit func(r []TokenRequest)
		want error
	}{
		{"UnknownKey", func(r []TokenRequest) { r[4].TruncatedKeyID ^= 0xff }, ErrUnknownKey},
		{"NotAPoint", func(r []TokenRequest) { r[5].BlindedMsg = bytes.Repeat([]byte{0xff}, 32) }, ErrMalformed},
		{"Identity", func(r []TokenRequest) { r[5].BlindedMsg = make([]byte, 32) }, ErrMalformed},
		{"AboveModulus", func(r []TokenRequest) { r[4].BlindedMsg = bytes.Repeat([]byte{0xff}, 256) }, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := make([]TokenRequest, len(reqs))
			copy(bad, reqs)
			tc.edit(bad)
			b, err := (&ArbitraryBatchTokenRequest{TokenRequests: bad}).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			out, err := issuer.IssueArbitraryBatch(b)
			if !errors.Is(err, tc.want) || out != nil || !strings.Contains(err.Error(), "request ") {
				t.Fatalf("got %x, %v; want nothing and %v naming the request", out, err, tc.want)
			}
		})
	}
}

// A client refuses an arbitrary response that leaves a token out, naming it,
// and every malformed response.
func TestClientRefusesArbitraryResponses(t *testing.T) {
	key := testKey(t, TypeBlindRSA)
	c, err := NewClient(TypeBlindRSA, key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	req, pending, err := c.BatchRequest(testChallenge(t, TypeBlindRSA), 3)
	if err != nil {
		t.Fatal(err)
	}
	body, err := NewIssuer(key).IssueArbitraryBatch(req)
	if err != nil {
		t.Fatal(err)
	}
	types := []TokenType{TypeBlindRSA, TypeBlindRSA, TypeBlindRSA}
	parsed, err := ParseArbitraryBatchTokenResponse(types, body)
	if err != nil {
		t.Fatal(err)
	}
	parsed.TokenResponses[1] = nil
	absent, err := parsed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FinalizeBatch(pending, absent); !errors.Is(err, ErrNotIssued) || !strings.Contains(err.Error(), "response 1 of 3") {
		t.Fatalf("absent response: %v, want ErrNotIssued naming response 1", err)
	}
	for _, bad := range [][]byte{nil, body[:len(body)-1], append(bytes.Clone(body), 0), body[2:]} {
		if _, err := c.FinalizeBatch(pending, bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("malformed response of %d bytes: %v", len(bad), err)
		}
	}
	flipped := bytes.Clone(body)
	flipped[len(flipped)-1] ^= 1
	if _, err := c.FinalizeBatch(pending, flipped); !errors.Is(err, ErrVerify) {
		t.Fatalf("bad signature: %v", err)
	}
	toks, err := c.FinalizeBatch(pending, body)
	if err != nil || len(toks) != 3 {
		t.Fatalf("the good response after refusals: %v", err)
	}
}

// A privately verifiable response with elements that are not points, the
// identity, or a count other than the request's is refused.
func TestClientRefusesBatchResponses(t *testing.T) {
	for _, typ := range []TokenType{TypeVOPRF, TypeVOPRFRistretto255} {
		t.Run(typ.String(), func(t *testing.T) {
			s := voprfSuiteOf(typ)
			key := testKey(t, typ)
			c, err := NewClient(typ, key.TokenKey())
			if err != nil {
				t.Fatal(err)
			}
			req, pending, err := c.BatchRequest(testChallenge(t, typ), 3)
			if err != nil {
				t.Fatal(err)
			}
			body, err := NewIssuer(key).IssueBatch(req)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseBatchTokenResponse(typ, body)
			if err != nil {
				t.Fatal(err)
			}
			enc := func(edit func(r *BatchTokenResponse)) []byte {
				c := &BatchTokenResponse{TokenType: typ, Proof: r.Proof}
				for _, e := range r.EvaluatedElements {
					c.EvaluatedElements = append(c.EvaluatedElements, bytes.Clone(e))
				}
				edit(c)
				b, err := c.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			for _, tc := range []struct {
				name string
				b    []byte
				want error
			}{
				{"NotAPoint", enc(func(r *BatchTokenResponse) { r.EvaluatedElements[2] = bytes.Repeat([]byte{0xff}, s.ne) }), ErrMalformed},
				{"Identity", enc(func(r *BatchTokenResponse) { r.EvaluatedElements[0] = identity(s) }), ErrMalformed},
				{"FewerElements", enc(func(r *BatchTokenResponse) { r.EvaluatedElements = r.EvaluatedElements[:2] }), ErrMalformed},
				{"Swapped", enc(func(r *BatchTokenResponse) {
					r.EvaluatedElements[0], r.EvaluatedElements[1] = r.EvaluatedElements[1], r.EvaluatedElements[0]
				}), ErrVerify},
				{"ProofNotAScalar", enc(func(r *BatchTokenResponse) { r.Proof = bytes.Repeat([]byte{0xff}, 2*s.ns) }), ErrVerify},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if _, err := c.FinalizeBatch(pending, tc.b); !errors.Is(err, tc.want) {
						t.Fatalf("got %v, want %v", err, tc.want)
					}
				})
			}
			if _, err := c.FinalizeBatch(pending, body); err != nil {
				t.Fatalf("the good response after refusals: %v", err)
			}
		})
	}
}

// identity returns an encoding of the identity element of s's group of Ne
// bytes where one exists (ristretto255: 32 zero bytes), and for P-384, whose
// identity has only a 1-byte encoding, that byte (0x00) padded to Ne bytes.
func identity(s *voprfSuite) []byte {
	return make([]byte, s.ne)
}

// Type 5 keys: the token key is SerializeElement (32 bytes) and its SHA-256 is
// the key id; private keys round-trip; the identity and non-canonical
// encodings are refused.
func TestType5Keys(t *testing.T) {
	key := testKey(t, TypeVOPRFRistretto255)
	if len(key.TokenKey()) != 32 || key.ID() != KeyID(key.TokenKey()) || key.Type() != TypeVOPRFRistretto255 {
		t.Fatalf("token key of %d bytes", len(key.TokenKey()))
	}
	priv, err := key.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIssuerKey(priv)
	if err != nil || back.ID() != key.ID() || back.Type() != TypeVOPRFRistretto255 {
		t.Fatalf("private key round trip: %v", err)
	}
	if _, err := ParseVOPRFPublicKey(TypeVOPRFRistretto255, key.TokenKey()); err != nil {
		t.Fatal(err)
	}
	nonCanonical := bytes.Repeat([]byte{0xff}, 32) // above the field prime
	for _, bad := range [][]byte{make([]byte, 32), nonCanonical, key.TokenKey()[:31], append(key.TokenKey(), 0)} {
		if _, err := ParseVOPRFPublicKey(TypeVOPRFRistretto255, bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("token key %x: %v, want ErrMalformed", bad, err)
		}
		if _, err := NewClient(TypeVOPRFRistretto255, bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("client of token key %x: %v", bad, err)
		}
	}
	if _, err := ParseVOPRFPublicKey(TypeBlindRSA, key.TokenKey()); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("type 2: %v", err)
	}
	// A P-384 key of the other VOPRF type is refused by size.
	if _, err := NewClient(TypeVOPRFRistretto255, testKey(t, TypeVOPRF).TokenKey()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("P-384 key as type 5: %v", err)
	}
}
