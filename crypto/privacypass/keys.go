package privacypass

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// rsaPSSAlgorithm is the DER AlgorithmIdentifier of RFC 9578 section 6.5:
// id-RSASSA-PSS with RSASSA-PSS-params {hashAlgorithm sha384, maskGenAlgorithm
// mgf1(sha384), saltLength 48} (trailerField default), the hash identifiers
// without NULL parameters, as in the RFC's test vectors.
var rsaPSSAlgorithm = mustHex("303d06092a864886f70d01010a3030a00d300b0609608648016503040202" +
	"a11a301806092a864886f70d010108300b0609608648016503040202a203020130")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// MarshalRSAPublicKey returns the token-key encoding of a type 0x0002 public
// key: the DER SubjectPublicKeyInfo with the RSASSA-PSS OID and SHA-384
// parameters of RFC 9578 section 6.5. Its SHA-256 is the token key id.
func MarshalRSAPublicKey(pk *rsa.PublicKey) ([]byte, error) {
	if pk == nil || pk.N == nil || pk.N.BitLen() != 8*rsaModulusSize {
		return nil, fmt.Errorf("%w: RSA key is not 2048 bits", ErrUnsupportedType)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(rsaPSSAlgorithm)
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(0) // no unused bits
			b.AddBytes(x509.MarshalPKCS1PublicKey(pk))
		})
	})
	return b.Bytes()
}

// ParseRSAPublicKey parses the token-key encoding of a type 0x0002 key,
// strictly: the exact RSASSA-PSS AlgorithmIdentifier, DER, a 2048-bit modulus,
// nothing trailing.
func ParseRSAPublicKey(spki []byte) (*rsa.PublicKey, error) {
	in := cryptobyte.String(spki)
	var seq, alg cryptobyte.String
	var bits cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("token key: not a DER SubjectPublicKeyInfo")
	}
	if !seq.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !bytes.Equal(alg, rsaPSSAlgorithm) {
		return nil, malformed("token key: not an RSASSA-PSS SHA-384 key (RFC 9578 section 6.5)")
	}
	if !seq.ReadASN1(&bits, cbasn1.BIT_STRING) || !seq.Empty() {
		return nil, malformed("token key: bad subjectPublicKey")
	}
	var unused uint8
	if !bits.ReadUint8(&unused) || unused != 0 {
		return nil, malformed("token key: bad subjectPublicKey bit string")
	}
	pk, err := x509.ParsePKCS1PublicKey(bits)
	if err != nil {
		return nil, malformed("token key: %v", err)
	}
	if pk.N.BitLen() != 8*rsaModulusSize {
		return nil, fmt.Errorf("%w: RSA key of %d bits, want 2048", ErrUnsupportedType, pk.N.BitLen())
	}
	if re, err := MarshalRSAPublicKey(pk); err != nil || !bytes.Equal(re, spki) {
		return nil, malformed("token key: non-canonical encoding")
	}
	return pk, nil
}

// ParseVOPRFPublicKey parses the token-key encoding of a key of VOPRF type t
// (0x0001 or 0x0005): SerializeElement of the public key, Ne bytes (a
// compressed P-384 point, or a canonical ristretto255 encoding). The identity
// is refused.
func ParseVOPRFPublicKey(t TokenType, b []byte) (*oprf.PublicKey, error) {
	s := voprfSuiteOf(t)
	if s == nil {
		return nil, fmt.Errorf("%w: %v is not a VOPRF type", ErrUnsupportedType, t)
	}
	if len(b) != s.ne {
		return nil, malformed("token key: %d bytes, want %d for a %s element", len(b), s.ne, s.name)
	}
	pk := new(oprf.PublicKey)
	if err := pk.UnmarshalBinary(s.suite, b); err != nil {
		return nil, malformed("token key: not a %s element other than the identity: %v", s.name, err)
	}
	return pk, nil
}

// parseElement decodes a serialized, non-identity element of s's group:
// compressed for P-384, canonical for ristretto255.
func (s *voprfSuite) parseElement(b []byte) (group.Element, error) {
	if len(b) != s.ne {
		return nil, malformed("element of %d bytes, want %d", len(b), s.ne)
	}
	e := s.group.NewElement()
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, malformed("not a %s element", s.name)
	}
	if e.IsIdentity() {
		return nil, malformed("the %s identity element", s.name)
	}
	return e, nil
}

// voprfKey is the private key of a VOPRF issuer key. circl's oprf.PrivateKey
// is not safe for concurrent use: every proof serializes the key's public
// element, and for P-384 serializing reduces the element's coordinates in
// place (group.wElt.MarshalBinaryCompress), and PrivateKey.Public fills its
// cache on first use. So each issuance or verification takes a copy of the key
// of its own out of copies and puts it back when done: concurrent calls run in
// parallel on copies, and a copy is reused rather than rebuilt.
type voprfKey struct {
	suite  *voprfSuite
	scalar []byte // SerializeScalar(skS): secret
	copies sync.Pool
}

func newVOPRFKey(s *voprfSuite, sk *oprf.PrivateKey) (*voprfKey, error) {
	scalar, err := sk.MarshalBinary()
	if err != nil {
		return nil, err
	}
	k := &voprfKey{suite: s, scalar: scalar}
	k.copies.New = func() any {
		c := new(oprf.PrivateKey)
		if err := c.UnmarshalBinary(s.suite, k.scalar); err != nil {
			// The scalar decoded once already (newVOPRFIssuerKey): it cannot fail now.
			panic(fmt.Sprintf("privacypass: VOPRF key copy: %v", err))
		}
		c.Public() // computed once per copy, not per use
		return c
	}
	k.copies.Put(sk)
	return k, nil
}

// get returns a copy of the key for the caller's use alone; put returns it.
func (k *voprfKey) get() *oprf.PrivateKey  { return k.copies.Get().(*oprf.PrivateKey) }
func (k *voprfKey) put(c *oprf.PrivateKey) { k.copies.Put(c) }

// KeyID returns the token key id of a token-key encoding: its SHA-256.
func KeyID(tokenKey []byte) [KeyIDSize]byte { return sha256.Sum256(tokenKey) }

// IssuerKey is one issuer key pair of type 0x0001, 0x0002 or 0x0005, with the
// time from which it is used. Its private half never prints: fmt shows only
// the type and key id. An IssuerKey is safe for concurrent use.
type IssuerKey struct {
	tokenType TokenType
	rsaKey    *rsa.PrivateKey
	voprf     *voprfKey // types 0x0001 and 0x0005; shared with the origins that hold the key
	public    []byte
	id        [KeyIDSize]byte
	notBefore time.Time
}

// GenerateIssuerKey makes a new key of type t from rnd (crypto/rand.Reader if
// nil), valid from notBefore. RSA keys are 2048 bits; VOPRF keys (P-384 for
// type 0x0001, ristretto255 for type 0x0005) follow the RECOMMENDED
// DeriveKeyPair(seed, "PrivacyPass") of RFC 9578 with a random seed of 32
// bytes (the seed length of RFC 9497's DeriveKeyPair).
func GenerateIssuerKey(t TokenType, rnd io.Reader, notBefore time.Time) (*IssuerKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch t {
	case TypeBlindRSA:
		sk, err := rsa.GenerateKey(rnd, 8*rsaModulusSize)
		if err != nil {
			return nil, fmt.Errorf("privacypass: generate RSA key: %w", err)
		}
		return newRSAIssuerKey(sk, notBefore)
	case TypeVOPRF, TypeVOPRFRistretto255:
		seed := make([]byte, 32)
		if _, err := io.ReadFull(rnd, seed); err != nil {
			return nil, fmt.Errorf("privacypass: generate VOPRF key: %w", err)
		}
		sk, err := oprf.DeriveKey(voprfSuiteOf(t).suite, oprf.VerifiableMode, seed, []byte("PrivacyPass"))
		clear(seed)
		if err != nil {
			return nil, fmt.Errorf("privacypass: generate VOPRF key: %w", err)
		}
		return newVOPRFIssuerKey(t, sk, notBefore)
	}
	return nil, unsupported(t)
}

func newRSAIssuerKey(sk *rsa.PrivateKey, notBefore time.Time) (*IssuerKey, error) {
	if err := sk.Validate(); err != nil {
		return nil, fmt.Errorf("privacypass: RSA key: %w", err)
	}
	pub, err := MarshalRSAPublicKey(&sk.PublicKey)
	if err != nil {
		return nil, err
	}
	sk.Precompute()
	return &IssuerKey{tokenType: TypeBlindRSA, rsaKey: sk, public: pub, id: KeyID(pub), notBefore: notBefore}, nil
}

// newVOPRFIssuerKey makes the IssuerKey of sk, a key of VOPRF type t; sk is
// the key's own from then on.
func newVOPRFIssuerKey(t TokenType, sk *oprf.PrivateKey, notBefore time.Time) (*IssuerKey, error) {
	s := voprfSuiteOf(t)
	if s == nil {
		return nil, unsupported(t)
	}
	pub, err := sk.Public().MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("privacypass: VOPRF key: %w", err)
	}
	if len(pub) != s.ne {
		return nil, fmt.Errorf("privacypass: %w: a public key of %d bytes is not a %v key", ErrUnsupportedType, len(pub), t)
	}
	k, err := newVOPRFKey(s, sk)
	if err != nil {
		return nil, fmt.Errorf("privacypass: VOPRF key: %w", err)
	}
	return &IssuerKey{tokenType: t, voprf: k, public: pub, id: KeyID(pub), notBefore: notBefore}, nil
}

// Type returns the key's token type.
func (k *IssuerKey) Type() TokenType { return k.tokenType }

// TokenKey returns the public key in its token-key encoding (a copy).
func (k *IssuerKey) TokenKey() []byte { return bytes.Clone(k.public) }

// ID returns the token key id: SHA-256 of the token-key encoding.
func (k *IssuerKey) ID() [KeyIDSize]byte { return k.id }

// IDHex returns the key id in lowercase hex: the key's SpentLedger partition.
func (k *IssuerKey) IDHex() string { return hex.EncodeToString(k.id[:]) }

// NotBefore returns the time from which the key is in use.
func (k *IssuerKey) NotBefore() time.Time { return k.notBefore }

// String returns the key's type and id, never its private half.
func (k *IssuerKey) String() string {
	return fmt.Sprintf("privacypass.IssuerKey(%v, id %s, private key redacted)", k.tokenType, k.IDHex())
}

// GoString is String.
func (k *IssuerKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k *IssuerKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// issuerKeyFile is the stored form of an IssuerKey.
type issuerKeyFile struct {
	TokenType  uint16 `json:"token-type"`
	NotBefore  int64  `json:"not-before"`
	PrivateKey string `json:"private-key"` // base64: PKCS#8 DER (RSA) or SerializeScalar (VOPRF types)
}

// MarshalPrivate returns the key pair in this package's storage format (JSON
// holding the private key). The result is secret.
func (k *IssuerKey) MarshalPrivate() ([]byte, error) {
	var raw []byte
	var err error
	switch k.tokenType {
	case TypeBlindRSA:
		raw, err = x509.MarshalPKCS8PrivateKey(k.rsaKey)
	case TypeVOPRF, TypeVOPRFRistretto255:
		raw = bytes.Clone(k.voprf.scalar)
	default:
		err = ErrUnsupportedType
	}
	if err != nil {
		return nil, fmt.Errorf("privacypass: marshal issuer key: %w", err)
	}
	out, err := json.Marshal(issuerKeyFile{
		TokenType:  uint16(k.tokenType),
		NotBefore:  k.notBefore.Unix(),
		PrivateKey: base64.StdEncoding.EncodeToString(raw),
	})
	clear(raw)
	return out, err
}

// ParseIssuerKey parses the output of MarshalPrivate.
func ParseIssuerKey(b []byte) (*IssuerKey, error) {
	var f issuerKeyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, malformed("issuer key: %v", err)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(f.PrivateKey)
	if err != nil {
		return nil, malformed("issuer key: private-key: %v", err)
	}
	defer clear(raw)
	notBefore := time.Unix(f.NotBefore, 0).UTC()
	switch TokenType(f.TokenType) {
	case TypeBlindRSA:
		key, err := x509.ParsePKCS8PrivateKey(raw)
		if err != nil {
			return nil, malformed("issuer key: %v", err)
		}
		sk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, malformed("issuer key: not an RSA key")
		}
		return newRSAIssuerKey(sk, notBefore)
	case TypeVOPRF, TypeVOPRFRistretto255:
		sk := new(oprf.PrivateKey)
		if err := sk.UnmarshalBinary(voprfSuiteOf(TokenType(f.TokenType)).suite, raw); err != nil {
			return nil, malformed("issuer key: %v", err)
		}
		return newVOPRFIssuerKey(TokenType(f.TokenType), sk, notBefore)
	}
	return nil, fmt.Errorf("issuer key: %w: %v", ErrUnsupportedType, TokenType(f.TokenType))
}
