package privacypass

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/cloudflare/circl/blindsign/blindrsa"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
)

// Client runs the client side of issuance for one issuer key: it blinds token
// inputs into a TokenRequest (or a batched request) and finalizes the issuer's
// response into tokens. A Client is safe for concurrent use.
type Client struct {
	tokenType TokenType
	keyID     [KeyIDSize]byte
	rsaPub    *rsa.PublicKey
	rsa       blindrsa.Client
	suite     *voprfSuite // VOPRF types

	// voprf holds *oprf.VerifiableClient values, each with a public key of its
	// own: circl serializes the issuer's public element while it verifies a
	// proof, and for P-384 that reduces the element in place, so two batches
	// finalized at once (a pool prefetching while a caller fetches) must not
	// share one. Each call takes one and puts it back.
	voprf sync.Pool

	// rand is the source of nonces, salts and blinds (crypto/rand by default);
	// blinds, if set, are the VOPRF blinds to use. Both are for known-answer
	// tests only.
	rand   io.Reader
	blinds []oprf.Blind
}

// NewClient returns a client for the issuer key tokenKey (the token-key
// encoding of the directory or the challenge) of type t.
func NewClient(t TokenType, tokenKey []byte) (*Client, error) {
	c := &Client{tokenType: t, keyID: KeyID(tokenKey), rand: rand.Reader}
	switch {
	case t == TypeBlindRSA:
		pk, err := ParseRSAPublicKey(tokenKey)
		if err != nil {
			return nil, err
		}
		c.rsaPub = pk
		c.rsa, err = blindrsa.NewClient(blindrsa.SHA384PSSDeterministic, pk)
		if err != nil {
			return nil, fmt.Errorf("privacypass: %w", err)
		}
	case voprfSuiteOf(t) != nil:
		pk, err := ParseVOPRFPublicKey(t, tokenKey)
		if err != nil {
			return nil, err
		}
		c.suite = voprfSuiteOf(t)
		key := bytes.Clone(tokenKey)
		c.voprf.New = func() any {
			pk, err := ParseVOPRFPublicKey(t, key)
			if err != nil {
				// The key parsed once already, above: it cannot fail now.
				panic(fmt.Sprintf("privacypass: VOPRF client: %v", err))
			}
			vc := oprf.NewVerifiableClient(c.suite.suite, pk)
			return &vc
		}
		vc := oprf.NewVerifiableClient(c.suite.suite, pk)
		c.voprf.Put(&vc)
	default:
		return nil, unsupported(t)
	}
	return c, nil
}

// KeyID returns the issuer key id.
func (c *Client) KeyID() [KeyIDSize]byte { return c.keyID }

// requestFormat is the message a Pending answers.
type requestFormat uint8

const (
	formatSingle    requestFormat = iota // an RFC 9578 TokenRequest
	formatBatch                          // a privately verifiable BatchTokenRequest
	formatArbitrary                      // an ArbitraryBatchTokenRequest
)

// Pending is the client state between a request and its response. It holds
// the blinding secrets: keep it private, use it once.
type Pending struct {
	tokenType TokenType
	format    requestFormat
	digest    [ChallengeDigestSize]byte
	nonces    [][NonceSize]byte
	rsaStates []blindrsa.State
	finalize  *oprf.FinalizeData
	blinded   [][]byte
	used      bool
}

// Len returns how many tokens the request asked for.
func (p *Pending) Len() int { return len(p.nonces) }

// Request blinds one token for challenge (an encoded TokenChallenge of the
// client's type) and returns the encoded TokenRequest (RFC 9578, media type
// RequestMediaType).
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
// encoded batched request, in the format BatchMediaTypes names for the
// client's type: a privately verifiable BatchTokenRequest for types 0x0001 and
// 0x0005, an ArbitraryBatchTokenRequest of n TokenRequests for type 0x0002.
func (c *Client) BatchRequest(challenge []byte, n int) ([]byte, *Pending, error) {
	if n < 1 || n > MaxBatch {
		return nil, nil, fmt.Errorf("privacypass: batch of %d tokens, want 1 to %d", n, MaxBatch)
	}
	p, err := c.blind(challenge, n)
	if err != nil {
		return nil, nil, err
	}
	trunc := c.keyID[KeyIDSize-1]
	var b []byte
	if c.suite != nil {
		p.format = formatBatch
		b, err = (&BatchTokenRequest{TokenType: c.tokenType, TruncatedKeyID: trunc, BlindedElements: p.blinded}).MarshalBinary()
	} else {
		p.format = formatArbitrary
		req := &ArbitraryBatchTokenRequest{TokenRequests: make([]TokenRequest, n)}
		for i, m := range p.blinded {
			req.TokenRequests[i] = TokenRequest{TokenType: c.tokenType, TruncatedKeyID: trunc, BlindedMsg: m}
		}
		b, err = req.MarshalBinary()
	}
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
	if c.suite != nil {
		var req *oprf.EvaluationRequest
		vc := c.voprf.Get().(*oprf.VerifiableClient)
		if c.blinds != nil {
			p.finalize, req, err = vc.DeterministicBlind(inputs, c.blinds)
		} else {
			p.finalize, req, err = vc.Blind(inputs)
		}
		c.voprf.Put(vc)
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
// verifies the issuer's signature (type 2) or proof (types 1 and 5).
func (c *Client) Finalize(p *Pending, resp []byte) (*Token, error) {
	if p == nil || p.format != formatSingle || p.used || p.tokenType != c.tokenType {
		return nil, fmt.Errorf("privacypass: finalize: pending state of another request")
	}
	want, err := responseSize(c.tokenType)
	if err != nil {
		return nil, err
	}
	if len(resp) != want {
		return nil, malformed("token response: %d bytes, want %d", len(resp), want)
	}
	var toks []*Token
	if c.suite != nil {
		toks, err = c.finalize(p, [][]byte{resp[:c.suite.ne]}, resp[c.suite.ne:])
	} else {
		toks, err = c.finalize(p, [][]byte{resp}, nil)
	}
	if err != nil {
		return nil, err
	}
	return toks[0], nil
}

// FinalizeBatch turns the issuer's answer to a BatchRequest into tokens, in
// request order: a privately verifiable BatchTokenResponse for types 0x0001
// and 0x0005 (its one proof covers every element), an arbitrary
// BatchTokenResponse for type 0x0002. An arbitrary response that leaves a
// token out is refused whole with an error wrapping ErrNotIssued that names
// the first missing one.
func (c *Client) FinalizeBatch(p *Pending, resp []byte) ([]*Token, error) {
	if p == nil || p.format == formatSingle || p.used || p.tokenType != c.tokenType {
		return nil, fmt.Errorf("privacypass: finalize: pending state of another request")
	}
	if p.format == formatBatch {
		r, err := ParseBatchTokenResponse(c.tokenType, resp)
		if err != nil {
			return nil, err
		}
		if len(r.EvaluatedElements) != len(p.nonces) {
			return nil, malformed("batch token response: %d elements for %d requests", len(r.EvaluatedElements), len(p.nonces))
		}
		return c.finalize(p, r.EvaluatedElements, r.Proof)
	}
	types := make([]TokenType, len(p.nonces))
	for i := range types {
		types[i] = c.tokenType
	}
	r, err := ParseArbitraryBatchTokenResponse(types, resp)
	if err != nil {
		return nil, err
	}
	for i, tr := range r.TokenResponses {
		if tr == nil {
			return nil, fmt.Errorf("%w: arbitrary batch token response: response %d of %d is absent", ErrNotIssued, i, len(types))
		}
	}
	return c.finalize(p, r.TokenResponses, nil)
}

// finalize turns evaluated elements and their proof (VOPRF types) or blind
// signatures (type 2) into tokens, verifying them all before it returns any.
func (c *Client) finalize(p *Pending, evaluated [][]byte, proofBytes []byte) ([]*Token, error) {
	toks := make([]*Token, len(p.nonces))
	var auths [][]byte
	if c.suite == nil {
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
	} else {
		eval := &oprf.Evaluation{Elements: make([]oprf.Evaluated, len(evaluated)), Proof: new(dleq.Proof)}
		for i, b := range evaluated {
			e, err := c.suite.parseElement(b)
			if err != nil {
				return nil, fmt.Errorf("token response: evaluated element %d: %w", i, err)
			}
			eval.Elements[i] = e
		}
		// A proof scalar that does not decode (not below the group order) is a
		// proof that does not verify.
		if err := eval.Proof.UnmarshalBinary(c.suite.group, proofBytes); err != nil {
			return nil, fmt.Errorf("%w: token response: proof does not decode: %v", ErrVerify, err)
		}
		vc := c.voprf.Get().(*oprf.VerifiableClient)
		var err error
		auths, err = vc.Finalize(p.finalize, eval)
		c.voprf.Put(vc)
		if err != nil {
			return nil, fmt.Errorf("%w: token response: %v", ErrVerify, err)
		}
	}
	p.used = true
	for i := range toks {
		toks[i] = &Token{TokenType: c.tokenType, Nonce: p.nonces[i], ChallengeDigest: p.digest, KeyID: c.keyID, Authenticator: auths[i]}
	}
	return toks, nil
}
