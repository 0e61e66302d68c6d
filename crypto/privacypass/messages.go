package privacypass

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"

	"github.com/ai-pantheon/aegis/domain"
)

// TokenType is the two-octet Privacy Pass token type.
type TokenType = domain.TokenType

// The token types this package issues and verifies.
const (
	TypeVOPRF             = domain.TokenTypeVOPRF             // 0x0001, VOPRF(P-384, SHA-384), privately verifiable (RFC 9578)
	TypeBlindRSA          = domain.TokenTypeBlindRSA          // 0x0002, blind RSA, publicly verifiable (RFC 9578)
	TypeVOPRFRistretto255 = domain.TokenTypeVOPRFRistretto255 // 0x0005, VOPRF(ristretto255, SHA-512), privately verifiable (draft-ietf-privacypass-batched-tokens)
)

// Sizes of RFC 9578 (Nk, Nid, Ne, Ns) and RFC 9577.
const (
	NonceSize           = 32
	ChallengeDigestSize = 32
	KeyIDSize           = 32  // Nid
	rsaModulusSize      = 256 // Nk of type 0x0002: 2048-bit modulus
	tokenHeaderSize     = 2 + NonceSize + ChallengeDigestSize + KeyIDSize
	maxRedemptionCtx    = 32
	// MaxBatch is the largest number of tokens in one batched request, of
	// either batch format: the issuer refuses larger batches as a whole, and
	// Client.BatchRequest makes none.
	MaxBatch = 256
)

// voprfSuite describes the VOPRF of a privately verifiable token type: its
// RFC 9497 suite and the sizes of an element (Ne), a scalar (Ns) and the
// output (Nh, the token's Nk).
type voprfSuite struct {
	name  string
	suite oprf.Suite
	group group.Group
	ne    int
	ns    int
	nh    int
}

var (
	suiteP384         = &voprfSuite{name: "P-384", suite: oprf.SuiteP384, group: group.P384, ne: 49, ns: 48, nh: 48}
	suiteRistretto255 = &voprfSuite{name: "ristretto255", suite: oprf.SuiteRistretto255, group: group.Ristretto255, ne: 32, ns: 32, nh: 64}
)

// voprfSuiteOf returns the VOPRF of type t, or nil for a type that is not a
// VOPRF type.
func voprfSuiteOf(t TokenType) *voprfSuite {
	switch t {
	case TypeVOPRF:
		return suiteP384
	case TypeVOPRFRistretto255:
		return suiteRistretto255
	}
	return nil
}

// Errors. Every error returned by this package wraps one of them (and, for a
// token presented to an origin, domain.ErrTokenInvalid as well).
var (
	// ErrMalformed means a structure, header or directory could not be decoded:
	// wrong length, bad encoding, out-of-range field.
	ErrMalformed = errors.New("privacypass: malformed message")
	// ErrUnsupportedType means a token type other than 0x0001, 0x0002 and
	// 0x0005, a type the operation does not support (a privately verifiable
	// batch of type 0x0002), or another type than the one expected.
	ErrUnsupportedType = errors.New("privacypass: unsupported token type")
	// ErrUnknownKey means no issuer key matches the (truncated) key id.
	ErrUnknownKey = errors.New("privacypass: unknown issuer key")
	// ErrVerify means a signature, proof or authenticator does not verify.
	ErrVerify = errors.New("privacypass: verification failed")
	// ErrKeyExpired means the token's issuer key is past the end of its
	// lifetime at the origin (Origin.AddIssuerKeyUntil).
	ErrKeyExpired = errors.New("privacypass: issuer key expired")
	// ErrNotIssued means an arbitrary batched response left a token out (its
	// OptionalTokenResponse is absent): the issuer refused that request.
	ErrNotIssued = errors.New("privacypass: token not issued")
	// ErrUnsupportedMedia means Issuer.Respond was given a request media type
	// that is none of RequestMediaType, BatchRequestMediaType and
	// ArbitraryBatchRequestMediaType.
	ErrUnsupportedMedia = errors.New("privacypass: unsupported media type")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func unsupported(t TokenType) error { return fmt.Errorf("%w: %v", ErrUnsupportedType, t) }

// sizes returns the size of the blinded message of a TokenRequest (Nk for
// type 2, Ne for a VOPRF type) and of an authenticator (Nk).
func sizes(t TokenType) (blinded, authenticator int, err error) {
	if t == TypeBlindRSA {
		return rsaModulusSize, rsaModulusSize, nil
	}
	if s := voprfSuiteOf(t); s != nil {
		return s.ne, s.nh, nil
	}
	return 0, 0, unsupported(t)
}

// responseSize returns the size of the TokenResponse of RFC 9578 for type t:
// blind_sig[Nk] for type 2, evaluate_msg[Ne] || evaluate_proof[2*Ns] for a
// VOPRF type.
func responseSize(t TokenType) (int, error) {
	if t == TypeBlindRSA {
		return rsaModulusSize, nil
	}
	if s := voprfSuiteOf(t); s != nil {
		return s.ne + 2*s.ns, nil
	}
	return 0, unsupported(t)
}

// TokenChallenge is the origin's challenge of RFC 9577 section 2.1.
type TokenChallenge struct {
	TokenType         TokenType
	IssuerName        string // 1..65535 bytes
	RedemptionContext []byte // empty or 32 bytes
	OriginInfo        string // 0..65535 bytes; several origins are joined by ","
}

// MarshalBinary encodes the challenge. It fails on out-of-range field lengths.
func (c *TokenChallenge) MarshalBinary() ([]byte, error) {
	if len(c.IssuerName) == 0 || len(c.IssuerName) > 0xffff {
		return nil, malformed("token challenge: issuer_name of %d bytes", len(c.IssuerName))
	}
	if n := len(c.RedemptionContext); n != 0 && n != maxRedemptionCtx {
		return nil, malformed("token challenge: redemption_context of %d bytes, want 0 or 32", n)
	}
	if len(c.OriginInfo) > 0xffff {
		return nil, malformed("token challenge: origin_info of %d bytes", len(c.OriginInfo))
	}
	b := make([]byte, 0, 2+2+len(c.IssuerName)+1+len(c.RedemptionContext)+2+len(c.OriginInfo))
	b = binary.BigEndian.AppendUint16(b, uint16(c.TokenType))
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.IssuerName)))
	b = append(b, c.IssuerName...)
	b = append(b, byte(len(c.RedemptionContext)))
	b = append(b, c.RedemptionContext...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.OriginInfo)))
	b = append(b, c.OriginInfo...)
	return b, nil
}

// ParseTokenChallenge decodes a TokenChallenge, exactly: trailing bytes, an
// empty issuer_name or a redemption_context of a length other than 0 or 32 are
// errors. It does not check the token type.
func ParseTokenChallenge(b []byte) (*TokenChallenge, error) {
	r := reader{b: b}
	c := &TokenChallenge{TokenType: TokenType(r.u16())}
	c.IssuerName = string(r.bytes(int(r.u16())))
	ctx := r.bytes(int(r.u8()))
	c.OriginInfo = string(r.bytes(int(r.u16())))
	if r.bad || len(r.b) != 0 {
		return nil, malformed("token challenge: truncated or trailing bytes")
	}
	if len(c.IssuerName) == 0 {
		return nil, malformed("token challenge: empty issuer_name")
	}
	if len(ctx) != 0 && len(ctx) != maxRedemptionCtx {
		return nil, malformed("token challenge: redemption_context of %d bytes, want 0 or 32", len(ctx))
	}
	if len(ctx) != 0 {
		c.RedemptionContext = append([]byte(nil), ctx...)
	}
	return c, nil
}

// ChallengeDigest returns SHA-256 of an encoded TokenChallenge.
func ChallengeDigest(challenge []byte) [ChallengeDigestSize]byte {
	return sha256.Sum256(challenge)
}

// TokenRequest is the client's request of RFC 9578 sections 5.1 and 6.1.
type TokenRequest struct {
	TokenType      TokenType
	TruncatedKeyID uint8
	BlindedMsg     []byte // Ne bytes (types 1 and 5) or Nk bytes (type 2)
}

// MarshalBinary encodes the request.
func (r *TokenRequest) MarshalBinary() ([]byte, error) {
	want, _, err := sizes(r.TokenType)
	if err != nil {
		return nil, err
	}
	if len(r.BlindedMsg) != want {
		return nil, malformed("token request: blinded_msg of %d bytes, want %d", len(r.BlindedMsg), want)
	}
	b := make([]byte, 0, 3+want)
	b = binary.BigEndian.AppendUint16(b, uint16(r.TokenType))
	b = append(b, r.TruncatedKeyID)
	return append(b, r.BlindedMsg...), nil
}

// ParseTokenRequest decodes a TokenRequest of type 1, 2 or 5 with its exact
// length. The blinded message is not checked here: the issuer checks it.
func ParseTokenRequest(b []byte) (*TokenRequest, error) {
	if len(b) < 3 {
		return nil, malformed("token request: %d bytes", len(b))
	}
	t := TokenType(binary.BigEndian.Uint16(b))
	want, _, err := sizes(t)
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	if len(b) != 3+want {
		return nil, malformed("token request: %d bytes, want %d for %v", len(b), 3+want, t)
	}
	return &TokenRequest{TokenType: t, TruncatedKeyID: b[2], BlindedMsg: append([]byte(nil), b[3:]...)}, nil
}

// Token is the token of RFC 9577 section 2.2.
type Token struct {
	TokenType       TokenType
	Nonce           [NonceSize]byte
	ChallengeDigest [ChallengeDigestSize]byte
	KeyID           [KeyIDSize]byte
	Authenticator   []byte // Nk bytes
}

// AuthenticatorInput returns token_type || nonce || challenge_digest ||
// token_key_id: the message the authenticator covers.
func (t *Token) AuthenticatorInput() []byte {
	b := make([]byte, 0, tokenHeaderSize)
	b = binary.BigEndian.AppendUint16(b, uint16(t.TokenType))
	b = append(b, t.Nonce[:]...)
	b = append(b, t.ChallengeDigest[:]...)
	return append(b, t.KeyID[:]...)
}

// MarshalBinary encodes the token.
func (t *Token) MarshalBinary() ([]byte, error) {
	_, nk, err := sizes(t.TokenType)
	if err != nil {
		return nil, err
	}
	if len(t.Authenticator) != nk {
		return nil, malformed("token: authenticator of %d bytes, want %d", len(t.Authenticator), nk)
	}
	return append(t.AuthenticatorInput(), t.Authenticator...), nil
}

// ParseToken decodes a Token of type 1, 2 or 5 with its exact length.
func ParseToken(b []byte) (*Token, error) {
	if len(b) < 2 {
		return nil, malformed("token: %d bytes", len(b))
	}
	t := &Token{TokenType: TokenType(binary.BigEndian.Uint16(b))}
	_, nk, err := sizes(t.TokenType)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if len(b) != tokenHeaderSize+nk {
		return nil, malformed("token: %d bytes, want %d for %v", len(b), tokenHeaderSize+nk, t.TokenType)
	}
	copy(t.Nonce[:], b[2:])
	copy(t.ChallengeDigest[:], b[2+NonceSize:])
	copy(t.KeyID[:], b[2+NonceSize+ChallengeDigestSize:])
	t.Authenticator = append([]byte(nil), b[tokenHeaderSize:]...)
	return t, nil
}

// reader decodes big-endian fields; any short read sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	v := r.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u16() uint16 {
	v := r.bytes(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}
