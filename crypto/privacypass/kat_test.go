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
		if err := sk.UnmarshalBinary(oprf.SuiteP384, v.SkS); err != nil {
			t.Fatal(err)
		}
		k, err := newVOPRFIssuerKey(sk, time.Time{})
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
				if !bytes.Equal(resp[:voprfElementSize], v.TokenResponse[:voprfElementSize]) {
					t.Fatalf("evaluated element\n got %x\nwant %x", resp[:voprfElementSize], v.TokenResponse[:voprfElementSize])
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
