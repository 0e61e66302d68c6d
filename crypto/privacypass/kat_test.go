package privacypass

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"

	"github.com/ai-pantheon/aegis/domain"
)

// hexBytes is a JSON string of hex digits.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

type rfc9578Vector struct {
	Comment        string   `json:"comment"`
	TokenType      uint16   `json:"token_type"`
	SkS            hexBytes `json:"skS"`
	PkS            hexBytes `json:"pkS"`
	TokenChallenge hexBytes `json:"token_challenge"`
	Nonce          hexBytes `json:"nonce"`
	Blind          hexBytes `json:"blind"`
	Salt           hexBytes `json:"salt"`
	TokenRequest   hexBytes `json:"token_request"`
	TokenResponse  hexBytes `json:"token_response"`
	Token          hexBytes `json:"token"`
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func loadRFC9578(t testing.TB) []rfc9578Vector {
	var f struct {
		Vectors []rfc9578Vector `json:"vectors"`
	}
	loadJSON(t, "rfc9578.json", &f)
	return f.Vectors
}

// vectorIssuerKey builds the issuer key of a vector.
func vectorIssuerKey(t testing.TB, v rfc9578Vector) *IssuerKey {
	t.Helper()
	switch TokenType(v.TokenType) {
	case TypeBlindRSA:
		blk, _ := pem.Decode(v.SkS)
		if blk == nil {
			t.Fatal("skS is not PEM")
		}
		sk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		k, err := newRSAIssuerKey(sk.(*rsa.PrivateKey), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	default:
		sk := new(oprf.PrivateKey)
		if err := sk.UnmarshalBinary(voprfSuiteOf(TokenType(v.TokenType)).suite, v.SkS); err != nil {
			t.Fatal(err)
		}
		k, err := newVOPRFIssuerKey(TokenType(v.TokenType), sk, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

func TestRFC9578Vectors(t *testing.T) {
	vectors := loadRFC9578(t)
	if len(vectors) != 10 {
		t.Fatalf("%d vectors, want 5 per type", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.Comment, func(t *testing.T) {
			typ := TokenType(v.TokenType)
			key := vectorIssuerKey(t, v)
			if !bytes.Equal(key.TokenKey(), v.PkS) {
				t.Fatalf("public key encoding\n got %x\nwant %x", key.TokenKey(), v.PkS)
			}
			if _, err := ParseTokenChallenge(v.TokenChallenge); err != nil {
				t.Fatalf("challenge: %v", err)
			}

			// Client: blind with the vector's randomness.
			c, err := NewClient(typ, v.PkS)
			if err != nil {
				t.Fatal(err)
			}
			switch typ {
			case TypeBlindRSA:
				// Nonce, then the PSS salt, then the blind r (read by Blind in that order).
				c.rand = bytes.NewReader(append(append(bytes.Clone(v.Nonce), v.Salt...), v.Blind...))
			case TypeVOPRF:
				c.rand = bytes.NewReader(v.Nonce)
				blind := group.P384.NewScalar()
				if err := blind.UnmarshalBinary(v.Blind); err != nil {
					t.Fatal(err)
				}
				c.blinds = []oprf.Blind{blind}
			}
			req, pending, err := c.Request(v.TokenChallenge)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(req, v.TokenRequest) {
				t.Fatalf("token request\n got %x\nwant %x", req, v.TokenRequest)
			}

			// Issuer.
			resp, err := NewIssuer(key).Issue(v.TokenRequest)
			if err != nil {
				t.Fatal(err)
			}
			switch typ {
			case TypeBlindRSA:
				if !bytes.Equal(resp, v.TokenResponse) {
					t.Fatalf("token response\n got %x\nwant %x", resp, v.TokenResponse)
				}
			case TypeVOPRF:
				// The DLEQ proof is randomized: compare the evaluated element only.
				if !bytes.Equal(resp[:suiteP384.ne], v.TokenResponse[:suiteP384.ne]) {
					t.Fatalf("evaluated element\n got %x\nwant %x", resp[:suiteP384.ne], v.TokenResponse[:suiteP384.ne])
				}
				// Our own proof verifies too.
				_, p2, err := func() ([]byte, *Pending, error) {
					c.rand = bytes.NewReader(v.Nonce)
					return c.Request(v.TokenChallenge)
				}()
				if err != nil {
					t.Fatal(err)
				}
				tok, err := c.Finalize(p2, resp)
				if err != nil {
					t.Fatalf("finalize with our proof: %v", err)
				}
				if enc, _ := tok.MarshalBinary(); !bytes.Equal(enc, v.Token) {
					t.Fatalf("token from our response differs")
				}
			}

			// Client: finalize the vector's response.
			tok, err := c.Finalize(pending, v.TokenResponse)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := tok.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, v.Token) {
				t.Fatalf("token\n got %x\nwant %x", enc, v.Token)
			}

			// Origin.
			o := NewOrigin(newMapLedger())
			o.AddIssuerKey(key)
			if err := o.AcceptChallenge(v.TokenChallenge); err != nil {
				t.Fatal(err)
			}
			if err := o.Redeem(context.Background(), v.Token); err != nil {
				t.Fatalf("redeem: %v", err)
			}
			if err := o.Redeem(context.Background(), v.Token); !errors.Is(err, domain.ErrTokenSpent) {
				t.Fatalf("second redeem = %v, want ErrTokenSpent", err)
			}
			if typ == TypeBlindRSA {
				verifyType2Independently(t, v.PkS, v.Token)
			}
		})
	}
}

// verifyType2Independently checks a type 2 token with the standard library
// only, as RFC 9578 section 6.4 describes: RSASSA-PSS-VERIFY with SHA-384,
// MGF1-SHA-384 and a 48-byte salt over token_type || nonce ||
// challenge_digest || token_key_id, and token_key_id = SHA-256(token key).
func verifyType2Independently(t *testing.T, spki, token []byte) {
	t.Helper()
	const inputLen = 2 + 32 + 32 + 32
	if len(token) != inputLen+256 || token[0] != 0 || token[1] != 2 {
		t.Fatalf("token of %d bytes, type %x", len(token), token[:2])
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	var pk *rsa.PublicKey
	if err == nil {
		pk, _ = pub.(*rsa.PublicKey)
	}
	if pk == nil {
		// crypto/x509 does not parse id-RSASSA-PSS keys: take the PKCS#1 key out
		// of the SubjectPublicKeyInfo with encoding/asn1.
		pk = rsaPSSKeyFromSPKI(t, spki)
	}
	keyID := sha256Sum(spki)
	if !bytes.Equal(token[2+32+32:inputLen], keyID[:]) {
		t.Fatal("token_key_id is not SHA-256 of the SPKI")
	}
	digest := sha512.Sum384(token[:inputLen])
	if err := rsa.VerifyPSS(pk, crypto.SHA384, digest[:], token[inputLen:], &rsa.PSSOptions{SaltLength: 48, Hash: crypto.SHA384}); err != nil {
		t.Fatalf("independent RSASSA-PSS verification failed: %v", err)
	}
}

// Vectors of cloudflare/pat-go (testdata/README.md): single-token type 5 in
// the RFC 9578 structures, and privately verifiable batches of types 1 and 5
// in the format of draft-ietf-privacypass-batched-tokens.
type patgoSingleVector struct {
	SkS            hexBytes `json:"skS"`
	PkS            hexBytes `json:"pkS"`
	TokenChallenge hexBytes `json:"token_challenge"`
	Nonce          hexBytes `json:"nonce"`
	Blind          hexBytes `json:"blind"`
	TokenRequest   hexBytes `json:"token_request"`
	TokenResponse  hexBytes `json:"token_response"`
	Token          hexBytes `json:"token"`
}

type patgoBatchVector struct {
	SkS            hexBytes   `json:"skS"`
	PkS            hexBytes   `json:"pkS"`
	TokenChallenge hexBytes   `json:"token_challenge"`
	Nonces         []hexBytes `json:"nonces"`
	Blinds         []hexBytes `json:"blinds"`
	TokenRequest   hexBytes   `json:"token_request"`
	TokenResponse  hexBytes   `json:"token_response"`
	Tokens         []hexBytes `json:"tokens"`
}

// voprfVectorKey builds the issuer key of type typ from skS and checks that
// pkS is its public key.
func voprfVectorKey(t testing.TB, typ TokenType, skS, pkS []byte) *IssuerKey {
	t.Helper()
	sk := new(oprf.PrivateKey)
	if err := sk.UnmarshalBinary(voprfSuiteOf(typ).suite, skS); err != nil {
		t.Fatal(err)
	}
	k, err := newVOPRFIssuerKey(typ, sk, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.TokenKey(), pkS) {
		t.Fatalf("pkS is not the public key of skS\n got %x\nwant %x", k.TokenKey(), pkS)
	}
	return k
}

// vectorClient returns a client of key whose nonces and blinds are the
// vector's.
func vectorClient(t testing.TB, typ TokenType, pkS []byte, nonces, blinds []hexBytes) *Client {
	t.Helper()
	c, err := NewClient(typ, pkS)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, n := range nonces {
		all = append(all, n...)
	}
	c.rand = bytes.NewReader(all)
	for _, b := range blinds {
		s := voprfSuiteOf(typ).group.NewScalar()
		if err := s.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		c.blinds = append(c.blinds, s)
	}
	return c
}

// checkVectorTokens checks that toks encode to want byte for byte, and that
// each redeems once at an origin holding the key, restricted to challenge.
func checkVectorTokens(t *testing.T, key *IssuerKey, challenge []byte, toks []*Token, want []hexBytes) {
	t.Helper()
	if len(toks) != len(want) {
		t.Fatalf("%d tokens, want %d", len(toks), len(want))
	}
	o := NewOrigin(newMapLedger())
	o.AddIssuerKey(key)
	if err := o.AcceptChallenge(challenge); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		enc, err := tok.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, want[i]) {
			t.Fatalf("token %d\n got %x\nwant %x", i, enc, want[i])
		}
		if err := o.Redeem(context.Background(), want[i]); err != nil {
			t.Fatalf("token %d: redeem: %v", i, err)
		}
		if err := o.Redeem(context.Background(), want[i]); !errors.Is(err, domain.ErrTokenSpent) {
			t.Fatalf("token %d: second redeem = %v, want ErrTokenSpent", i, err)
		}
	}
}

// TestPatGoType5Vectors: single-token type 5 (RFC 9578 section 5 structures
// with ristretto255): our client makes the vector's request byte for byte, our
// issuer the vector's evaluated element (the proof is randomized: ours must
// verify), the vector's response finalizes into the vector's token, which
// verifies at an origin holding skS, and a flipped bit in the proof is refused.
func TestPatGoType5Vectors(t *testing.T) {
	var vectors []patgoSingleVector
	loadJSON(t, "patgo-private-type5.json", &vectors)
	if len(vectors) != 5 {
		t.Fatalf("%d vectors, want 5", len(vectors))
	}
	const ne = 32
	for i, v := range vectors {
		t.Run(sprintf("vector%d", i), func(t *testing.T) {
			key := voprfVectorKey(t, TypeVOPRFRistretto255, v.SkS, v.PkS)
			newClient := func() *Client {
				return vectorClient(t, TypeVOPRFRistretto255, v.PkS, []hexBytes{v.Nonce}, []hexBytes{v.Blind})
			}
			req, pending, err := newClient().Request(v.TokenChallenge)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(req, v.TokenRequest) {
				t.Fatalf("token request\n got %x\nwant %x", req, v.TokenRequest)
			}
			resp, err := NewIssuer(key).Issue(v.TokenRequest)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp) != len(v.TokenResponse) || !bytes.Equal(resp[:ne], v.TokenResponse[:ne]) {
				t.Fatalf("evaluated element\n got %x\nwant %x", resp[:ne], v.TokenResponse[:ne])
			}
			c2 := newClient()
			_, p2, err := c2.Request(v.TokenChallenge)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := c2.Finalize(p2, resp)
			if err != nil {
				t.Fatalf("finalize with our proof: %v", err)
			}
			c := newClient()
			_, pending, _ = c.Request(v.TokenChallenge)
			for _, at := range []int{ne, ne + ne/2, len(v.TokenResponse) - 1} { // proof bytes
				bad := bytes.Clone(v.TokenResponse)
				bad[at] ^= 1
				if _, err := c.Finalize(pending, bad); !errors.Is(err, ErrVerify) {
					t.Fatalf("proof byte %d flipped: %v, want ErrVerify", at-ne, err)
				}
			}
			tok, err := c.Finalize(pending, v.TokenResponse)
			if err != nil {
				t.Fatal(err)
			}
			if enc, _ := ours.MarshalBinary(); !bytes.Equal(enc, v.Token) {
				t.Fatalf("token from our response\n got %x\nwant %x", enc, v.Token)
			}
			checkVectorTokens(t, key, v.TokenChallenge, []*Token{tok}, []hexBytes{v.Token})
		})
	}
}

// TestPatGoBatchedVectors: privately verifiable batches of types 1 and 5 in
// the draft's encoding: request byte for byte, evaluated elements byte for
// byte (and our batched proof verifies), the vector's response finalizes into
// the vector's tokens, which verify at an origin holding skS; a flipped bit in
// the vector's proof is refused with ErrVerify.
func TestPatGoBatchedVectors(t *testing.T) {
	for _, f := range []struct {
		file string
		typ  TokenType
	}{{"patgo-amortized-type1.json", TypeVOPRF}, {"patgo-amortized-type5.json", TypeVOPRFRistretto255}} {
		var vectors []patgoBatchVector
		loadJSON(t, f.file, &vectors)
		if len(vectors) != 5 {
			t.Fatalf("%s: %d vectors, want 5", f.file, len(vectors))
		}
		s := voprfSuiteOf(f.typ)
		for i, v := range vectors {
			t.Run(sprintf("%s/vector%d", f.file, i), func(t *testing.T) {
				key := voprfVectorKey(t, f.typ, v.SkS, v.PkS)
				n := len(v.Nonces)
				newClient := func() *Client { return vectorClient(t, f.typ, v.PkS, v.Nonces, v.Blinds) }
				req, _, err := newClient().BatchRequest(v.TokenChallenge, n)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(req, v.TokenRequest) {
					t.Fatalf("batch token request\n got %x\nwant %x", req, v.TokenRequest)
				}
				resp, err := NewIssuer(key).Respond(BatchRequestMediaType, v.TokenRequest)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Tokens != n || resp.MediaType != BatchResponseMediaType {
					t.Fatalf("%d tokens of %q", resp.Tokens, resp.MediaType)
				}
				// The response minus its proof is the vector's, byte for byte.
				proofAt := len(v.TokenResponse) - 2*s.ns
				if len(resp.Body) != len(v.TokenResponse) || !bytes.Equal(resp.Body[:proofAt], v.TokenResponse[:proofAt]) {
					t.Fatalf("evaluated elements\n got %x\nwant %x", resp.Body, v.TokenResponse[:proofAt])
				}
				c2 := newClient()
				_, p2, _ := c2.BatchRequest(v.TokenChallenge, n)
				ours, err := c2.FinalizeBatch(p2, resp.Body)
				if err != nil {
					t.Fatalf("finalize with our proof: %v", err)
				}
				c := newClient()
				_, pending, _ := c.BatchRequest(v.TokenChallenge, n)
				for _, at := range []int{proofAt, proofAt + s.ns, len(v.TokenResponse) - 1} {
					bad := bytes.Clone(v.TokenResponse)
					bad[at] ^= 1
					if _, err := c.FinalizeBatch(pending, bad); !errors.Is(err, ErrVerify) {
						t.Fatalf("proof byte %d flipped: %v, want ErrVerify", at-proofAt, err)
					}
				}
				toks, err := c.FinalizeBatch(pending, v.TokenResponse)
				if err != nil {
					t.Fatal(err)
				}
				checkVectorTokens(t, key, v.TokenChallenge, toks, v.Tokens)
				for i, tok := range ours {
					if enc, _ := tok.MarshalBinary(); !bytes.Equal(enc, v.Tokens[i]) {
						t.Fatalf("token %d from our response differs", i)
					}
				}
			})
		}
	}
}
