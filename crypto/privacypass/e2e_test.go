package privacypass

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Keys are slow to generate: share one of each type across tests.
var (
	sharedKeysOnce sync.Once
	sharedRSA      *IssuerKey
	sharedVOPRF    *IssuerKey
	sharedR255     *IssuerKey
)

// testKey returns the shared key of type typ.
func testKey(t testing.TB, typ TokenType) *IssuerKey {
	t.Helper()
	rsaKey, voprfKey := testKeys(t)
	switch typ {
	case TypeBlindRSA:
		return rsaKey
	case TypeVOPRF:
		return voprfKey
	}
	return sharedR255
}

// allTypes are the token types of this package, in a stable order.
var allTypes = []TokenType{TypeVOPRF, TypeBlindRSA, TypeVOPRFRistretto255}

func testKeys(t testing.TB) (rsaKey, voprfKey *IssuerKey) {
	t.Helper()
	sharedKeysOnce.Do(func() {
		var err error
		if sharedRSA, err = GenerateIssuerKey(TypeBlindRSA, nil, time.Time{}); err != nil {
			panic(err)
		}
		if sharedVOPRF, err = GenerateIssuerKey(TypeVOPRF, nil, time.Time{}); err != nil {
			panic(err)
		}
		if sharedR255, err = GenerateIssuerKey(TypeVOPRFRistretto255, nil, time.Time{}); err != nil {
			panic(err)
		}
	})
	return sharedRSA, sharedVOPRF
}

func testChallenge(t testing.TB, typ TokenType) []byte {
	t.Helper()
	c, err := (&TokenChallenge{TokenType: typ, IssuerName: "issuer.example", OriginInfo: "origin.example"}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestType2ThroughDirectory issues a batch of type 2 tokens and checks each
// with an independent RFC 9578 verification that uses only the public key read
// from the issuer directory JSON.
func TestType2ThroughDirectory(t *testing.T) {
	key := testKey(t, TypeBlindRSA)
	dir := &Directory{
		IssuerRequestURI: "https://issuer.example/token-request",
		TokenKeys:        []DirectoryKey{{TokenType: key.Type(), TokenKey: key.TokenKey(), NotBefore: key.NotBefore()}},
	}
	dirJSON, err := json.Marshal(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Read the key out of the JSON the way any client would.
	var generic struct {
		URI  string `json:"issuer-request-uri"`
		Keys []struct {
			Type int    `json:"token-type"`
			Key  string `json:"token-key"`
		} `json:"token-keys"`
	}
	if err := json.Unmarshal(dirJSON, &generic); err != nil {
		t.Fatal(err)
	}
	if len(generic.Keys) != 1 || generic.Keys[0].Type != 2 || !strings.HasSuffix(generic.Keys[0].Key, "=") == (len(generic.Keys[0].Key)%4 != 0) {
		t.Fatalf("directory: %s", dirJSON)
	}
	spki, err := base64.URLEncoding.DecodeString(generic.Keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}

	challenge := testChallenge(t, TypeBlindRSA)
	client, err := NewClient(TypeBlindRSA, spki)
	if err != nil {
		t.Fatal(err)
	}
	req, pending, err := client.BatchRequest(challenge, 32)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewIssuer(key).IssueArbitraryBatch(req)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := client.FinalizeBatch(pending, resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 32 {
		t.Fatalf("%d tokens", len(tokens))
	}
	ledger := newMapLedger()
	origin := NewOrigin(ledger)
	if err := origin.AddTokenKey(TypeBlindRSA, spki); err != nil {
		t.Fatal(err)
	}
	seen := make(map[[NonceSize]byte]bool)
	for i, tok := range tokens {
		enc, err := tok.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok.Nonce] {
			t.Fatalf("token %d repeats a nonce", i)
		}
		seen[tok.Nonce] = true
		verifyType2Independently(t, spki, enc)
		if err := origin.Redeem(context.Background(), enc); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if err := origin.Redeem(context.Background(), enc); !errors.Is(err, domain.ErrTokenSpent) {
			t.Fatalf("token %d replay: %v", i, err)
		}
	}
}

// TestVOPRFBatch issues a privately verifiable batch of each VOPRF type: the
// response is one vector of elements and one proof, every token redeems once,
// and a tampered proof is refused.
func TestVOPRFBatch(t *testing.T) {
	for _, typ := range []TokenType{TypeVOPRF, TypeVOPRFRistretto255} {
		t.Run(typ.String(), func(t *testing.T) {
			key := testKey(t, typ)
			s := voprfSuiteOf(typ)
			challenge := testChallenge(t, typ)
			client, err := NewClient(typ, key.TokenKey())
			if err != nil {
				t.Fatal(err)
			}
			issuer := NewIssuer(key)
			req, pending, err := client.BatchRequest(challenge, 32)
			if err != nil {
				t.Fatal(err)
			}
			// uint16 type, truncated key id, a 2-byte vector length (32*Ne > 63), the elements.
			if len(req) != 3+2+32*s.ne || req[3]>>6 != 1 {
				t.Fatalf("batch request of %d bytes, length prefix %x", len(req), req[3:5])
			}
			resp, err := issuer.IssueBatch(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp) != 2+32*s.ne+2*s.ns {
				t.Fatalf("batch response of %d bytes, want %d: one proof for the batch", len(resp), 2+32*s.ne+2*s.ns)
			}
			tokens, err := client.FinalizeBatch(pending, resp)
			if err != nil {
				t.Fatal(err)
			}
			if len(tokens) != 32 {
				t.Fatalf("%d tokens", len(tokens))
			}
			origin := NewOrigin(newMapLedger())
			origin.AddIssuerKey(key)
			for i, tok := range tokens {
				if len(tok.Authenticator) != s.nh {
					t.Fatalf("authenticator of %d bytes, want %d", len(tok.Authenticator), s.nh)
				}
				enc, _ := tok.MarshalBinary()
				if err := origin.Redeem(context.Background(), enc); err != nil {
					t.Fatalf("token %d: %v", i, err)
				}
				if err := origin.Redeem(context.Background(), enc); !errors.Is(err, domain.ErrTokenSpent) {
					t.Fatalf("token %d replay: %v", i, err)
				}
			}
			// A tampered proof is refused by the client.
			req, pending, _ = client.BatchRequest(challenge, 2)
			resp, _ = issuer.IssueBatch(req)
			resp[len(resp)-2*s.ns] ^= 1
			if _, err := client.FinalizeBatch(pending, resp); !errors.Is(err, ErrVerify) {
				t.Fatalf("tampered proof: %v, want ErrVerify", err)
			}
			// Single issuance works too, and a Pending is single use.
			req, pending, _ = client.Request(challenge)
			if len(req) != 3+s.ne {
				t.Fatalf("token request of %d bytes, want %d", len(req), 3+s.ne)
			}
			resp, err = issuer.Issue(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp) != s.ne+2*s.ns {
				t.Fatalf("token response of %d bytes, want %d", len(resp), s.ne+2*s.ns)
			}
			if _, err := client.Finalize(pending, resp); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Finalize(pending, resp); err == nil {
				t.Fatal("a Pending was finalized twice")
			}
		})
	}
}

// TestRedeemRefusals checks every kind of bad token is refused with a clear
// error and spends nothing.
func TestRedeemRefusals(t *testing.T) {
	rsaKey, voprfKey := testKeys(t)
	other, err := GenerateIssuerKey(TypeVOPRF, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(k *IssuerKey) []byte { return mintToken(t, k, testChallenge(t, k.Type())) }
	good2, good1, foreign := issue(rsaKey), issue(voprfKey), issue(other)
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	n := rsaKey.rsaKey.N.FillBytes(make([]byte, 256))

	cases := []struct {
		name  string
		token []byte
		want  error
	}{
		{"Empty", nil, ErrMalformed},
		{"Truncated", good2[:len(good2)-1], ErrMalformed},
		{"Trailing", append(bytes.Clone(good2), 0), ErrMalformed},
		{"UnknownType", mod(good2, func(b []byte) []byte { b[1] = 7; return b }), ErrUnsupportedType},
		{"TypeSwapped", mod(good1, func(b []byte) []byte { b[1] = 2; return b }), ErrMalformed},
		{"UnknownKey", foreign, ErrUnknownKey},
		{"KeyIDAltered", mod(good2, func(b []byte) []byte { b[2+64] ^= 1; return b }), ErrUnknownKey},
		{"NonceAltered", mod(good2, func(b []byte) []byte { b[2] ^= 1; return b }), ErrVerify},
		{"SignatureAltered", mod(good2, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrVerify},
		{"SignatureIsModulus", mod(good2, func(b []byte) []byte { copy(b[98:], n); return b }), ErrVerify},
		{"SignatureAboveModulus", mod(good2, func(b []byte) []byte {
			copy(b[98:], new(big.Int).Add(rsaKey.rsaKey.N, big.NewInt(5)).FillBytes(make([]byte, 256)))
			return b
		}), ErrVerify},
		{"AuthenticatorAltered", mod(good1, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrVerify},
	}
	ledger := newMapLedger()
	origin := NewOrigin(ledger)
	origin.AddIssuerKey(rsaKey)
	origin.AddIssuerKey(voprfKey)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := origin.Redeem(context.Background(), tc.token)
			if !errors.Is(err, domain.ErrTokenInvalid) || !errors.Is(err, tc.want) {
				t.Fatalf("Redeem = %v, want ErrTokenInvalid and %v", err, tc.want)
			}
			if ledger.len() != 0 {
				t.Fatal("a refused token spent a nonce")
			}
		})
	}
	// Challenge restriction.
	if err := origin.AcceptChallenge(testChallenge(t, TypeVOPRF)); err != nil {
		t.Fatal(err)
	}
	other2, _ := (&TokenChallenge{TokenType: TypeBlindRSA, IssuerName: "issuer.example", OriginInfo: "elsewhere.example"}).MarshalBinary()
	c, _ := NewClient(TypeBlindRSA, rsaKey.TokenKey())
	req, p, _ := c.Request(other2)
	resp, _ := NewIssuer(rsaKey).Issue(req)
	tok, _ := c.Finalize(p, resp)
	enc, _ := tok.MarshalBinary()
	if err := origin.Redeem(context.Background(), enc); !errors.Is(err, ErrVerify) {
		t.Fatalf("token for a foreign challenge: %v", err)
	}
	if err := origin.Redeem(context.Background(), good1); err != nil {
		t.Fatalf("good type 1 token: %v", err)
	}
	if err := origin.Redeem(context.Background(), good1); !errors.Is(err, domain.ErrTokenSpent) {
		t.Fatalf("replay: %v", err)
	}
}

func TestIssuerRefusals(t *testing.T) {
	rsaKey, voprfKey := testKeys(t)
	issuer := NewIssuer(rsaKey, voprfKey)
	c2, _ := NewClient(TypeBlindRSA, rsaKey.TokenKey())
	c1, _ := NewClient(TypeVOPRF, voprfKey.TokenKey())
	req2, _, _ := c2.Request(testChallenge(t, TypeBlindRSA))
	req1, _, _ := c1.Request(testChallenge(t, TypeVOPRF))
	batch1, _, _ := c1.BatchRequest(testChallenge(t, TypeVOPRF), 3)
	n := rsaKey.rsaKey.N.FillBytes(make([]byte, 256))
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	cases := []struct {
		name  string
		batch bool
		req   []byte
		want  error
	}{
		{"Empty", false, nil, ErrMalformed},
		{"Truncated", false, req2[:100], ErrMalformed},
		{"Trailing", false, append(bytes.Clone(req1), 1), ErrMalformed},
		{"UnknownType", false, mod(req2, func(b []byte) []byte { b[0] = 0xff; return b }), ErrUnsupportedType},
		{"UnknownKey", false, mod(req2, func(b []byte) []byte { b[2] ^= 0xff; return b }), ErrUnknownKey},
		{"BlindedIsModulus", false, mod(req2, func(b []byte) []byte { copy(b[3:], n); return b }), ErrMalformed},
		{"NotAPoint", false, mod(req1, func(b []byte) []byte { b[3] = 0x07; return b }), ErrMalformed},
		{"BatchLengthNotMinimal", true, mod(batch1, func(b []byte) []byte { return append(append(b[:3:3], 0x80, 0, 0, 147), b[5:]...) }), ErrMalformed},
		{"BatchLengthTooLong", true, mod(batch1, func(b []byte) []byte { b[4]++; return b }), ErrMalformed},
		{"BatchEmpty", true, mod(batch1, func(b []byte) []byte { b[3] = 0; return b[:4] }), ErrMalformed},
		{"BatchNotMultipleOfNe", true, mod(batch1, func(b []byte) []byte { b[4]--; return b[:len(b)-1] }), ErrMalformed},
		{"BatchOfType2", true, mod(batch1, func(b []byte) []byte { b[1] = 2; return b }), ErrUnsupportedType},
		{"BatchUnknownKey", true, mod(batch1, func(b []byte) []byte { b[2] ^= 0xff; return b }), ErrUnknownKey},
		{"BatchLastNotAPoint", true, mod(batch1, func(b []byte) []byte { b[len(b)-49] = 0x07; return b }), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.batch {
				_, err = issuer.IssueBatch(tc.req)
			} else {
				_, err = issuer.Issue(tc.req)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClientRefusesBadResponses(t *testing.T) {
	rsaKey, _ := testKeys(t)
	c, _ := NewClient(TypeBlindRSA, rsaKey.TokenKey())
	req, p, _ := c.Request(testChallenge(t, TypeBlindRSA))
	resp, _ := NewIssuer(rsaKey).Issue(req)
	if _, err := c.Finalize(p, resp[1:]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short response: %v", err)
	}
	if _, err := c.Finalize(p, rsaKey.rsaKey.N.FillBytes(make([]byte, 256))); !errors.Is(err, ErrVerify) {
		t.Fatalf("response equal to the modulus: %v", err)
	}
	bad := bytes.Clone(resp)
	bad[10] ^= 1
	if _, err := c.Finalize(p, bad); !errors.Is(err, ErrVerify) {
		t.Fatalf("bad signature: %v", err)
	}
	if _, err := c.Finalize(p, resp); err != nil {
		t.Fatalf("good response after refusals: %v", err)
	}
	// A challenge of the other type is refused.
	if _, _, err := c.Request(testChallenge(t, TypeVOPRF)); !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("challenge of another type: %v", err)
	}
}

func TestIssuerKeyDoesNotPrintSecrets(t *testing.T) {
	rsaKey, voprfKey := testKeys(t)
	for _, k := range []*IssuerKey{rsaKey, voprfKey} {
		priv, err := k.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseIssuerKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if back.ID() != k.ID() {
			t.Fatal("private key round trip changed the key")
		}
		for _, s := range []string{sprintf("%v", k), sprintf("%+v", k), sprintf("%#v", k), sprintf("%s", k), sprintf("%v", *k)} {
			if !strings.Contains(s, "redacted") && !strings.Contains(s, "0x") {
				t.Fatalf("unexpected form %q", s)
			}
			if k.rsaKey != nil && strings.Contains(s, k.rsaKey.D.String()) {
				t.Fatal("private exponent printed")
			}
		}
	}
}
