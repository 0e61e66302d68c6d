package privacypass

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// Every decoder of untrusted bytes: it must never panic, and what it accepts
// must re-encode to the same bytes.

func FuzzParseTokenChallenge(f *testing.F) {
	for _, v := range loadRFC9578(f) {
		f.Add([]byte(v.TokenChallenge))
	}
	f.Add([]byte{0, 2, 0, 1, 'a', 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseTokenChallenge(b)
		if err != nil {
			return
		}
		enc, err := c.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs: %x vs %x (%v)", enc, b, err)
		}
	})
}

func FuzzParseTokenRequest(f *testing.F) {
	for _, v := range loadRFC9578(f) {
		f.Add([]byte(v.TokenRequest))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseTokenRequest(b)
		if err != nil {
			return
		}
		if enc, err := r.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// patgoVectors loads the pat-go vectors: single type 5, batched types 1 and 5.
func patgoVectors(t testing.TB) (single []patgoSingleVector, batched map[TokenType][]patgoBatchVector) {
	loadJSON(t, "patgo-private-type5.json", &single)
	batched = make(map[TokenType][]patgoBatchVector)
	for typ, file := range map[TokenType]string{TypeVOPRF: "patgo-amortized-type1.json", TypeVOPRFRistretto255: "patgo-amortized-type5.json"} {
		var v []patgoBatchVector
		loadJSON(t, file, &v)
		batched[typ] = v
	}
	return single, batched
}

func FuzzParseBatchTokenRequest(f *testing.F) {
	_, batched := patgoVectors(f)
	for _, vs := range batched {
		for _, v := range vs {
			f.Add([]byte(v.TokenRequest))
		}
	}
	for _, v := range loadRFC9578(f) {
		r := v.TokenRequest
		f.Add(append(appendVarint(bytes.Clone(r[:3]), uint64(len(r)-3)), r[3:]...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseBatchTokenRequest(b)
		if err != nil {
			return
		}
		if enc, err := r.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzParseBatchTokenResponse(f *testing.F) {
	_, batched := patgoVectors(f)
	for typ, vs := range batched {
		for _, v := range vs {
			f.Add(uint16(typ), []byte(v.TokenResponse))
		}
	}
	for _, v := range loadRFC9578(f) {
		f.Add(uint16(v.TokenType), appendVarint(nil, uint64(len(v.TokenResponse))))
	}
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		r, err := ParseBatchTokenResponse(TokenType(typ), b)
		if err != nil {
			return
		}
		if enc, err := r.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// arbitrarySeeds returns arbitrary batched requests of the RFC 9578 and pat-go
// single requests: every type alone, and all of them mixed.
func arbitrarySeeds(t testing.TB) [][]byte {
	single, _ := patgoVectors(t)
	reqs := [][]byte{single[0].TokenRequest}
	for _, v := range loadRFC9578(t) {
		reqs = append(reqs, v.TokenRequest)
	}
	var out [][]byte
	var all []byte
	for _, r := range reqs {
		out = append(out, append(appendVarint(nil, uint64(len(r))), r...))
		all = append(all, r...)
	}
	return append(out, append(appendVarint(nil, uint64(len(all))), all...))
}

func FuzzParseArbitraryBatchTokenRequest(f *testing.F) {
	for _, b := range arbitrarySeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseArbitraryBatchTokenRequest(b)
		if err != nil {
			return
		}
		if enc, err := r.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzParseArbitraryBatchTokenResponse takes the request types as pairs of
// bytes.
func FuzzParseArbitraryBatchTokenResponse(f *testing.F) {
	single, _ := patgoVectors(f)
	var types []byte
	var body []byte
	for _, v := range append(loadRFC9578(f), rfc9578Vector{TokenType: 5, TokenResponse: single[0].TokenResponse}) {
		types = binary.BigEndian.AppendUint16(types, v.TokenType)
		one := append(binary.BigEndian.AppendUint16([]byte{1}, v.TokenType), v.TokenResponse...) // present, token_type, body
		body = append(body, one...)
		f.Add(binary.BigEndian.AppendUint16(nil, v.TokenType), append(appendVarint(nil, uint64(len(one))), one...))
	}
	f.Add(types, append(appendVarint(nil, uint64(len(body))), body...))
	f.Add([]byte{0, 2, 0, 1}, []byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, typeBytes, b []byte) {
		types := make([]TokenType, len(typeBytes)/2)
		for i := range types {
			types[i] = TokenType(binary.BigEndian.Uint16(typeBytes[2*i:]))
		}
		r, err := ParseArbitraryBatchTokenResponse(types, b)
		if err != nil {
			return
		}
		if enc, err := r.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzParseVOPRFPublicKey(f *testing.F) {
	for _, v := range loadRFC9578(f)[:5] {
		f.Add(uint16(TypeVOPRF), []byte(v.PkS))
	}
	single, _ := patgoVectors(f)
	for _, v := range single {
		f.Add(uint16(TypeVOPRFRistretto255), []byte(v.PkS))
	}
	f.Add(uint16(TypeVOPRFRistretto255), make([]byte, 32))
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		pk, err := ParseVOPRFPublicKey(TokenType(typ), b)
		if err != nil {
			return
		}
		if enc, err := pk.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs: %x", b)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, v := range loadRFC9578(f) {
		f.Add([]byte(v.Token))
	}
	single, _ := patgoVectors(f)
	f.Add([]byte(single[0].Token))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b)
		if err != nil {
			return
		}
		if enc, err := tok.MarshalBinary(); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzOriginVerify feeds tokens to an origin holding the RFC 9578 keys and
// the pat-go type 5 keys: only the published tokens may verify.
func FuzzOriginVerify(f *testing.F) {
	vectors := loadRFC9578(f)
	o := NewOrigin(nil)
	valid := make(map[string]bool)
	for _, v := range vectors {
		o.AddIssuerKey(vectorIssuerKey(f, v))
		f.Add([]byte(v.Token))
		valid[string(v.Token)] = true
	}
	single, _ := patgoVectors(f)
	for _, v := range single {
		o.AddIssuerKey(voprfVectorKey(f, TypeVOPRFRistretto255, v.SkS, v.PkS))
		f.Add([]byte(v.Token))
		valid[string(v.Token)] = true
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := o.Verify(b); err == nil && !valid[string(b)] {
			t.Fatalf("forged token verified: %x", b)
		}
	})
}

// FuzzIssuer feeds requests of every media type to an issuer holding keys of
// the three types (RFC 9578 and pat-go vectors). Whatever it answers must parse
// as the response of its media type with one response per token requested.
func FuzzIssuer(f *testing.F) {
	vectors := loadRFC9578(f)
	single, batched := patgoVectors(f)
	is := NewIssuer(vectorIssuerKey(f, vectors[0]), vectorIssuerKey(f, vectors[5]),
		voprfVectorKey(f, TypeVOPRFRistretto255, single[0].SkS, single[0].PkS),
		voprfVectorKey(f, TypeVOPRF, batched[TypeVOPRF][0].SkS, batched[TypeVOPRF][0].PkS),
		voprfVectorKey(f, TypeVOPRFRistretto255, batched[TypeVOPRFRistretto255][0].SkS, batched[TypeVOPRFRistretto255][0].PkS))
	for _, r := range [][]byte{vectors[0].TokenRequest, vectors[5].TokenRequest, single[0].TokenRequest} {
		f.Add(uint8(0), r)
	}
	for _, vs := range batched {
		f.Add(uint8(1), []byte(vs[0].TokenRequest))
	}
	for _, b := range arbitrarySeeds(f) {
		f.Add(uint8(2), b)
	}
	mediaTypes := []string{RequestMediaType, BatchRequestMediaType, ArbitraryBatchRequestMediaType}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		ct := mediaTypes[int(which)%len(mediaTypes)]
		resp, err := is.Respond(ct, b)
		if err != nil {
			if resp != nil {
				t.Fatal("a response with an error")
			}
			return
		}
		switch ct {
		case RequestMediaType:
			req, _ := ParseTokenRequest(b)
			if n, _ := responseSize(req.TokenType); resp.Tokens != 1 || len(resp.Body) != n {
				t.Fatalf("single response of %d bytes", len(resp.Body))
			}
		case BatchRequestMediaType:
			req, _ := ParseBatchTokenRequest(b)
			r, err := ParseBatchTokenResponse(req.TokenType, resp.Body)
			if err != nil || len(r.EvaluatedElements) != len(req.BlindedElements) || resp.Tokens != len(req.BlindedElements) {
				t.Fatalf("batch response does not answer the request: %v", err)
			}
		default:
			req, _ := ParseArbitraryBatchTokenRequest(b)
			types := make([]TokenType, len(req.TokenRequests))
			for i, tr := range req.TokenRequests {
				types[i] = tr.TokenType
			}
			r, err := ParseArbitraryBatchTokenResponse(types, resp.Body)
			if err != nil || resp.Tokens != len(types) {
				t.Fatalf("arbitrary response does not answer the request: %v", err)
			}
			for i, tr := range r.TokenResponses {
				if tr == nil {
					t.Fatalf("response %d absent: the issuer issues all or nothing", i)
				}
			}
		}
	})
}

func FuzzParseRSAPublicKey(f *testing.F) {
	f.Add([]byte(loadRFC9578(f)[5].PkS))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParseRSAPublicKey(b)
		if err != nil {
			return
		}
		if enc, err := MarshalRSAPublicKey(pk); err != nil || !bytes.Equal(enc, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// FuzzParseWWWAuthenticate: what parses formats back, in each of the four
// value forms (quoted or not, base64url padded or not) and in both attribute
// layouts, to the same challenges.
func FuzzParseWWWAuthenticate(f *testing.F) {
	var file rfc9577File
	loadJSON(f, "rfc9577.json", &file)
	for _, h := range file.Headers {
		f.Add(h.Header)
	}
	f.Add(`Basic realm="x", PrivateToken challenge=AAIAAWEAAAA, max-age=3`)
	f.Add(`PrivateToken challenge="a\"b"`)
	ch1, _ := (&TokenChallenge{TokenType: TypeVOPRF, IssuerName: "aegisd"}).MarshalBinary()
	ch2, _ := (&TokenChallenge{TokenType: TypeBlindRSA, IssuerName: "issuer.example", OriginInfo: "a.example"}).MarshalBinary()
	cs := []Challenge{{TokenChallenge: ch1, TokenKey: bytes.Repeat([]byte{0xfb}, 49), MaxAge: 10}, {TokenChallenge: ch2, MaxAge: -1}}
	for i := range valueForms(nil) {
		f.Add(formatChallengesAs(i, ",", cs...))
		f.Add(`Bearer abc==, ` + formatChallengesAs(i, " , ", cs[1], cs[0]) + `, Basic realm="x"`)
	}
	f.Fuzz(func(t *testing.T, h string) {
		cs, err := ParseWWWAuthenticate(h)
		if err != nil || len(cs) == 0 {
			return
		}
		forms := []string{FormatWWWAuthenticate(cs...)}
		for i := range valueForms(nil) {
			forms = append(forms, formatChallengesAs(i, ", ", cs...), formatChallengesAs(i, ",", cs...))
		}
		for _, form := range forms {
			again, err := ParseWWWAuthenticate(form)
			if err != nil || len(again) != len(cs) {
				t.Fatalf("formatted challenges do not parse back: %q: %v", form, err)
			}
			for i := range cs {
				if !bytes.Equal(again[i].TokenChallenge, cs[i].TokenChallenge) || !bytes.Equal(again[i].TokenKey, cs[i].TokenKey) || again[i].MaxAge != cs[i].MaxAge {
					t.Fatalf("challenge %d changed in a round trip through %q", i, form)
				}
			}
		}
	})
}

// FuzzParseAuthorization: an accepted token is never empty, and formatted in
// each of the four value forms (quoted or not, base64url padded or not) it
// parses back to the same bytes.
func FuzzParseAuthorization(f *testing.F) {
	v := loadRFC9578(f)
	f.Add(FormatAuthorization(v[0].Token))
	f.Add(`PrivateToken token=AAEC, x="y"`)
	// A type 1 token (one '='), a type 2 token (none), five bytes (two '='), each form.
	for _, tok := range [][]byte{v[0].Token, v[len(v)-1].Token, {0xfb, 0xff, 0xfe, 0, 1}} {
		for _, vf := range valueForms(tok) {
			f.Add("PrivateToken token=" + vf.value)
			f.Add(" privatetoken \t TOKEN = " + vf.value + " ,ext=AA== ")
		}
	}
	f.Add(`PrivateToken token=AAAA==, token=AAAA`)
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if len(tok) == 0 {
			t.Fatalf("%q: an empty token accepted", h)
		}
		forms := []string{FormatAuthorization(tok)}
		for _, vf := range valueForms(tok) {
			forms = append(forms, Scheme+" token="+vf.value)
		}
		for _, form := range forms {
			again, err := ParseAuthorization(form)
			if err != nil || !bytes.Equal(again, tok) {
				t.Fatalf("token changed in a round trip through %q: %v", form, err)
			}
		}
	})
}

func FuzzParseDirectory(f *testing.F) {
	v := loadRFC9578(f)
	d, _ := json.Marshal(&Directory{IssuerRequestURI: "https://issuer.example/request", TokenKeys: []DirectoryKey{{TokenType: 2, TokenKey: v[5].PkS}, {TokenType: 1, TokenKey: v[0].PkS}}})
	f.Add(d)
	f.Add([]byte(`{"issuer-request-uri":"/r","token-keys":[{"token-type":2,"token-key":"AAAA","not-before":5}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDirectory(b)
		if err != nil {
			return
		}
		enc, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseDirectory(enc)
		if err != nil || len(again.TokenKeys) != len(d.TokenKeys) || again.IssuerRequestURI != d.IssuerRequestURI {
			t.Fatalf("directory changed in a round trip: %v", err)
		}
	})
}

func FuzzParseIssuerKey(f *testing.F) {
	for _, typ := range allTypes {
		b, _ := testKey(f, typ).MarshalPrivate()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseIssuerKey(b)
	})
}
