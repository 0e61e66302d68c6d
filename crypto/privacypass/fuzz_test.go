package privacypass

import (
	"bytes"
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

func FuzzParseBatchTokenRequest(f *testing.F) {
	for _, v := range loadRFC9578(f) {
		r := v.TokenRequest
		f.Add(append(append(bytes.Clone(r[:3]), 0, 1), r[3:]...))
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
	for _, v := range loadRFC9578(f) {
		f.Add(uint16(v.TokenType), append([]byte{0, 1}, v.TokenResponse...))
	}
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		_, _ = ParseBatchTokenResponse(TokenType(typ), b)
	})
}

func FuzzParseToken(f *testing.F) {
	for _, v := range loadRFC9578(f) {
		f.Add([]byte(v.Token))
	}
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

// FuzzOriginVerify feeds tokens to an origin holding the RFC 9578 keys: only
// the published tokens may verify.
func FuzzOriginVerify(f *testing.F) {
	vectors := loadRFC9578(f)
	o := NewOrigin(nil)
	valid := make(map[string]bool)
	for _, v := range vectors {
		o.AddIssuerKey(vectorIssuerKey(f, v))
		f.Add([]byte(v.Token))
		valid[string(v.Token)] = true
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := o.Verify(b); err == nil && !valid[string(b)] {
			t.Fatalf("forged token verified: %x", b)
		}
	})
}

// FuzzIssuer feeds requests to an issuer holding the RFC 9578 keys.
func FuzzIssuer(f *testing.F) {
	vectors := loadRFC9578(f)
	is := NewIssuer(vectorIssuerKey(f, vectors[0]), vectorIssuerKey(f, vectors[5]))
	for _, v := range []rfc9578Vector{vectors[0], vectors[5]} {
		f.Add([]byte(v.TokenRequest))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = is.Issue(b)
		_, _ = is.IssueBatch(b)
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
	_, k := testKeys(f)
	b, _ := k.MarshalPrivate()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseIssuerKey(b)
	})
}
