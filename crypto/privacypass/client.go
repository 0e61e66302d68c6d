package privacypass

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/cloudflare/circl/blindsign/blindrsa"
	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
)

// Client runs the client side of issuance for one issuer key: it blinds token
// inputs into a TokenRequest (or a BatchTokenRequest) and finalizes the
// issuer's response into tokens. A Client is safe for concurrent use.
type Client struct {
	tokenType TokenType
	keyID     [KeyIDSize]byte
	rsaPub    *rsa.PublicKey
	rsa       blindrsa.Client
	voprf     oprf.VerifiableClient

	// rand is the source of nonces, salts and blinds (crypto/rand by default);
	// blinds, if set, are the VOPRF blinds to use. Both are for known-answer
	// tests only.
	rand   io.Reader
	blinds []oprf.Blind

	// voprfMu serialises the VOPRF client's operations: circl normalises the
	// issuer's public key element in place while it verifies a proof, so two
	// batches finalized at once (a pool prefetching while a caller fetches)
	// would race on it.
	voprfMu sync.Mutex
}

// NewClient returns a client for the issuer key tokenKey (the token-key
// encoding of the directory or the challenge) of type t.
func NewClient(t TokenType, tokenKey []byte) (*Client, error) {
	c := &Client{tokenType: t, keyID: KeyID(tokenKey), rand: rand.Reader}
	switch t {
	case TypeBlindRSA:
		pk, err := ParseRSAPublicKey(tokenKey)
		if err != nil {
			return nil, err
		}
		c.rsaPub = pk
		c.rsa, err = blindrsa.NewClient(blindrsa.SHA384PSSDeterministic, pk)
		if err != nil {
			return nil, fmt.Errorf("privacypass: %w", err)
		}
	case TypeVOPRF:
		pk, err := ParseVOPRFPublicKey(tokenKey)
		if err != nil {
			return nil, err
		}
		c.voprf = oprf.NewVerifiableClient(oprf.SuiteP384, pk)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedType, t)
	}
	return c, nil
}

// KeyID returns the issuer key id.
func (c *Client) KeyID() [KeyIDSize]byte { return c.keyID }

// Pending is the client state between a request and its response. It holds
// the blinding secrets: keep it private, use it once.
type Pending struct {
	tokenType TokenType
	digest    [ChallengeDigestSize]byte
	nonces    [][NonceSize]byte
	rsaStates []blindrsa.State
	finalize  *oprf.FinalizeData
	blinded   [][]byte
	batch     bool
	used      bool
}

// Len returns how many tokens the request asked for.
func (p *Pending) Len() int { return len(p.nonces) }

// Request blinds one token for challenge (an encoded TokenChallenge of the
// client's type) and returns the encoded TokenRequest.
func (c *Client) Request(challenge []byte) ([]byte, *Pending, error) {
	p, err := c.blind(challenge, 1)
	if err != nil {
		return nil, nil, err
	}
	req := &TokenRequest{TokenType: c.tokenType, TruncatedKeyID: c.keyID[KeyIDSize-1], BlindedMsg: p.blinded[0]}
	b, err := req.MarshalBinary()
	return b, p, err
}

// BatchRequest blinds n tokens (1..MaxBatch) for challenge and returns the
// encoded BatchTokenRequest.
func (c *Client) BatchRequest(challenge []byte, n int) ([]byte, *Pending, error) {
	if n < 1 || n > MaxBatch {
		return nil, nil, fmt.Errorf("privacypass: batch of %d tokens, want 1 to %d", n, MaxBatch)
	}
	p, err := c.blind(challenge, n)
	if err != nil {
		return nil, nil, err
	}
	p.batch = true
	req := &BatchTokenRequest{TokenType: c.tokenType, TruncatedKeyID: c.keyID[KeyIDSize-1], BlindedMsgs: p.blinded}
	b, err := req.MarshalBinary()
	return b, p, err
}

func (c *Client) blind(challenge []byte, n int) (*Pending, error) {
	ch, err := ParseTokenChallenge(challenge)
	if err != nil {
		return nil, err
	}
	if ch.TokenType != c.tokenType {
		return nil, fmt.Errorf("%w: challenge of %v for a client of %v", ErrUnsupportedType, ch.TokenType, c.tokenType)
	}
	p := &Pending{tokenType: c.tokenType, digest: ChallengeDigest(challenge), nonces: make([][NonceSize]byte, n), blinded: make([][]byte, n)}
	inputs := make([][]byte, n)
	for i := range n {
		if _, err := io.ReadFull(c.rand, p.nonces[i][:]); err != nil {
			return nil, fmt.Errorf("privacypass: nonce: %w", err)
		}
		tok := Token{TokenType: c.tokenType, Nonce: p.nonces[i], ChallengeDigest: p.digest, KeyID: c.keyID}
		inputs[i] = tok.AuthenticatorInput()
		if c.tokenType == TypeBlindRSA {
			// RSABSSA-SHA384-PSS-Deterministic: Prepare is the identity.
			blinded, state, err := c.rsa.Blind(c.rand, inputs[i])
			if err != nil {
				return nil, fmt.Errorf("privacypass: blind: %w", err)
			}
			p.blinded[i] = blinded
			p.rsaStates = append(p.rsaStates, state)
		}
	}
	if c.tokenType == TypeVOPRF {
		var req *oprf.EvaluationRequest
		c.voprfMu.Lock()
		if c.blinds != nil {
			p.finalize, req, err = c.voprf.DeterministicBlind(inputs, c.blinds)
		} else {
			p.finalize, req, err = c.voprf.Blind(inputs)
		}
		c.voprfMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("privacypass: blind: %w", err)
		}
		for i, e := range req.Elements {
			if p.blinded[i], err = e.MarshalBinaryCompress(); err != nil {
				return nil, fmt.Errorf("privacypass: blind: %w", err)
			}
		}
	}
	return p, nil
}

// Finalize turns the issuer's TokenResponse to a Request into a token. It
// verifies the issuer's signature (type 2) or proof (type 1).
func (c *Client) Finalize(p *Pending, resp []byte) (*Token, error) {
	if p == nil || p.batch || p.used || p.tokenType != c.tokenType {
		return nil, fmt.Errorf("privacypass: finalize: pending state of another request")
	}
	var evaluated [][]byte
	var proof []byte
	switch c.tokenType {
	case TypeBlindRSA:
		if len(resp) != rsaModulusSize {
			return nil, malformed("token response: %d bytes, want %d", len(resp), rsaModulusSize)
		}
		evaluated = [][]byte{resp}
	case TypeVOPRF:
		if len(resp) != voprfElementSize+2*voprfScalarSize {
			return nil, malformed("token response: %d bytes, want %d", len(resp), voprfElementSize+2*voprfScalarSize)
		}
		evaluated, proof = [][]byte{resp[:voprfElementSize]}, resp[voprfElementSize:]
	}
	toks, err := c.finalize(p, evaluated, proof)
	if err != nil {
		return nil, err
	}
	return toks[0], nil
}

// FinalizeBatch turns the issuer's BatchTokenResponse to a BatchRequest into
// tokens, in request order.
func (c *Client) FinalizeBatch(p *Pending, resp []byte) ([]*Token, error) {
	if p == nil || !p.batch || p.used || p.tokenType != c.tokenType {
		return nil, fmt.Errorf("privacypass: finalize: pending state of another request")
	}
	evaluated, proof, err := parseBatchTokenResponse(c.tokenType, resp)
	if err != nil {
		return nil, err
	}
	if len(evaluated) != len(p.nonces) {
		return nil, malformed("batch token response: %d responses for %d requests", len(evaluated), len(p.nonces))
	}
	return c.finalize(p, evaluated, proof)
}

func (c *Client) finalize(p *Pending, evaluated [][]byte, proofBytes []byte) ([]*Token, error) {
	toks := make([]*Token, len(p.nonces))
	var auths [][]byte
	switch c.tokenType {
	case TypeBlindRSA:
		auths = make([][]byte, len(evaluated))
		for i, sig := range evaluated {
			if new(big.Int).SetBytes(sig).Cmp(c.rsaPub.N) >= 0 {
				return nil, fmt.Errorf("%w: blind signature %d is not below the modulus", ErrVerify, i)
			}
			a, err := c.rsa.Finalize(p.rsaStates[i], sig)
			if err != nil {
				return nil, fmt.Errorf("%w: blind signature %d: %v", ErrVerify, i, err)
			}
			auths[i] = a
		}
	case TypeVOPRF:
		eval := &oprf.Evaluation{Elements: make([]oprf.Evaluated, len(evaluated)), Proof: new(dleq.Proof)}
		for i, b := range evaluated {
			e, err := parseElement(b)
			if err != nil {
				return nil, fmt.Errorf("token response: evaluated element %d: %w", i, err)
			}
			eval.Elements[i] = e
		}
		if err := eval.Proof.UnmarshalBinary(group.P384, proofBytes); err != nil {
			return nil, malformed("token response: proof: %v", err)
		}
		var err error
		c.voprfMu.Lock()
		auths, err = c.voprf.Finalize(p.finalize, eval)
		c.voprfMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrVerify, err)
		}
	}
	p.used = true
	for i := range toks {
		toks[i] = &Token{TokenType: c.tokenType, Nonce: p.nonces[i], ChallengeDigest: p.digest, KeyID: c.keyID, Authenticator: auths[i]}
	}
	return toks, nil
}

// BatchTokenResponse encoding (this package's, see docs/tokens.md):
//
//	type 0x0002: uint16 count; uint8 blind_sigs[count][Nk];
//	type 0x0001: uint16 count; uint8 evaluated_elements[count][Ne]; uint8 proof[2*Ns];
//
// The VOPRF proof is one batched DLEQ proof over all elements (RFC 9497).
func marshalBatchTokenResponse(evaluated [][]byte, proof []byte) []byte {
	size := 0
	if len(evaluated) > 0 {
		size = len(evaluated[0])
	}
	b := make([]byte, 0, 2+size*len(evaluated)+len(proof))
	b = binary.BigEndian.AppendUint16(b, uint16(len(evaluated)))
	for _, e := range evaluated {
		b = append(b, e...)
	}
	return append(b, proof...)
}

// parseBatchTokenResponse decodes a BatchTokenResponse of type t with its exact length.
func parseBatchTokenResponse(t TokenType, b []byte) (evaluated [][]byte, proof []byte, err error) {
	if len(b) < 2 {
		return nil, nil, malformed("batch token response: %d bytes", len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || n > MaxBatch {
		return nil, nil, malformed("batch token response: count %d, want 1 to %d", n, MaxBatch)
	}
	size, proofSize := rsaModulusSize, 0
	switch t {
	case TypeBlindRSA:
	case TypeVOPRF:
		size, proofSize = voprfElementSize, 2*voprfScalarSize
	default:
		return nil, nil, fmt.Errorf("%w: %v", ErrUnsupportedType, t)
	}
	if len(b) != 2+n*size+proofSize {
		return nil, nil, malformed("batch token response: %d bytes, want %d for %d tokens", len(b), 2+n*size+proofSize, n)
	}
	body := b[2:]
	evaluated = make([][]byte, n)
	for i := range n {
		evaluated[i] = body[i*size : (i+1)*size : (i+1)*size]
	}
	return evaluated, body[n*size:], nil
}

// ParseBatchTokenResponse checks the framing of a BatchTokenResponse of type t
// and returns its token count. (Clients use FinalizeBatch; this exists for
// relays and fuzzing.)
func ParseBatchTokenResponse(t TokenType, b []byte) (int, error) {
	ev, _, err := parseBatchTokenResponse(t, b)
	return len(ev), err
}
