package privacypass

import (
	"fmt"
	"math/big"
	"mime"
	"sync"

	"github.com/cloudflare/circl/blindsign/blindrsa"
	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
)

// Issuer signs (type 2) or evaluates (types 1 and 5) blinded token requests
// with its keys. It learns nothing about the tokens' nonces or challenges. An Issuer is
// safe for concurrent use; SetKeys swaps its keys atomically.
type Issuer struct {
	mu   sync.RWMutex
	keys []*IssuerKey
}

// NewIssuer returns an issuer holding keys.
func NewIssuer(keys ...*IssuerKey) *Issuer {
	is := &Issuer{}
	is.SetKeys(keys...)
	return is
}

// SetKeys replaces the issuer's keys.
func (is *Issuer) SetKeys(keys ...*IssuerKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = append([]*IssuerKey(nil), keys...)
}

// key returns the key of type t whose id ends in trunc. Key stores keep
// truncated ids unique per type; if two keys still collide the newest wins.
func (is *Issuer) key(t TokenType, trunc uint8) (*IssuerKey, error) {
	is.mu.RLock()
	defer is.mu.RUnlock()
	var found *IssuerKey
	for _, k := range is.keys {
		if k.tokenType == t && k.id[KeyIDSize-1] == trunc && (found == nil || k.notBefore.After(found.notBefore)) {
			found = k
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no %v key with truncated id 0x%02x", ErrUnknownKey, t, trunc)
	}
	return found, nil
}

// Response is an encoded answer of Respond.
type Response struct {
	// MediaType is the response's media type: ResponseMediaType,
	// BatchResponseMediaType or ArbitraryBatchResponseMediaType.
	MediaType string
	// Body is the encoded TokenResponse or BatchTokenResponse.
	Body []byte
	// Tokens is how many tokens Body issues.
	Tokens int
}

// Respond answers an issuance request by its media type (contentType, whose
// parameters are ignored): RequestMediaType (Issue), BatchRequestMediaType
// (IssueBatch) or ArbitraryBatchRequestMediaType (IssueArbitraryBatch). Any
// other media type is refused with an error wrapping ErrUnsupportedMedia.
// Either every token of the request is issued or none.
func (is *Issuer) Respond(contentType string, body []byte) (*Response, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrUnsupportedMedia, contentType, err)
	}
	switch mt {
	case RequestMediaType:
		b, err := is.Issue(body)
		if err != nil {
			return nil, err
		}
		return &Response{MediaType: ResponseMediaType, Body: b, Tokens: 1}, nil
	case BatchRequestMediaType:
		b, n, err := is.issueBatch(body)
		if err != nil {
			return nil, err
		}
		return &Response{MediaType: BatchResponseMediaType, Body: b, Tokens: n}, nil
	case ArbitraryBatchRequestMediaType:
		b, n, err := is.issueArbitraryBatch(body)
		if err != nil {
			return nil, err
		}
		return &Response{MediaType: ArbitraryBatchResponseMediaType, Body: b, Tokens: n}, nil
	}
	return nil, fmt.Errorf("%w: %q, want %s, %s or %s", ErrUnsupportedMedia, mt, RequestMediaType, BatchRequestMediaType, ArbitraryBatchRequestMediaType)
}

// Issue answers one encoded TokenRequest (RFC 9578, any of the three types)
// with an encoded TokenResponse.
func (is *Issuer) Issue(request []byte) ([]byte, error) {
	req, err := ParseTokenRequest(request)
	if err != nil {
		return nil, err
	}
	k, err := is.key(req.TokenType, req.TruncatedKeyID)
	if err != nil {
		return nil, err
	}
	ready, err := k.prepare([][]byte{req.BlindedMsg})
	if err != nil {
		return nil, err
	}
	evaluated, proof, err := ready.evaluate()
	if err != nil {
		return nil, err
	}
	return append(evaluated[0], proof...), nil
}

// IssueBatch answers an encoded privately verifiable BatchTokenRequest (type
// 0x0001 or 0x0005, at most MaxBatch elements) with an encoded
// BatchTokenResponse carrying one DLEQ proof for the whole batch. Every element
// is decoded and checked before any is evaluated: either every token is issued
// or none.
func (is *Issuer) IssueBatch(request []byte) ([]byte, error) {
	b, _, err := is.issueBatch(request)
	return b, err
}

func (is *Issuer) issueBatch(request []byte) ([]byte, int, error) {
	req, err := ParseBatchTokenRequest(request)
	if err != nil {
		return nil, 0, err
	}
	k, err := is.key(req.TokenType, req.TruncatedKeyID)
	if err != nil {
		return nil, 0, err
	}
	ready, err := k.prepare(req.BlindedElements)
	if err != nil {
		return nil, 0, err
	}
	evaluated, proof, err := ready.evaluate()
	if err != nil {
		return nil, 0, err
	}
	b, err := (&BatchTokenResponse{TokenType: req.TokenType, EvaluatedElements: evaluated, Proof: proof}).MarshalBinary()
	return b, len(evaluated), err
}

// IssueArbitraryBatch answers an encoded ArbitraryBatchTokenRequest (at most
// MaxBatch TokenRequests of any of the three types and of any keys) with an
// encoded arbitrary BatchTokenResponse, each TokenResponse as Issue makes it
// (a VOPRF response carries its own proof). This issuer issues all or nothing:
// if any request is malformed, of an unsupported type, for an unknown key or
// carries a bad blinded message, the whole batch is refused with an error
// naming that request, and nothing is evaluated.
func (is *Issuer) IssueArbitraryBatch(request []byte) ([]byte, error) {
	b, _, err := is.issueArbitraryBatch(request)
	return b, err
}

func (is *Issuer) issueArbitraryBatch(request []byte) ([]byte, int, error) {
	req, err := ParseArbitraryBatchTokenRequest(request)
	if err != nil {
		return nil, 0, err
	}
	n := len(req.TokenRequests)
	ready := make([]*prepared, n)
	types := make([]TokenType, n)
	for i, tr := range req.TokenRequests {
		k, err := is.key(tr.TokenType, tr.TruncatedKeyID)
		if err != nil {
			return nil, 0, fmt.Errorf("arbitrary batch token request: request %d: %w", i, err)
		}
		if ready[i], err = k.prepare([][]byte{tr.BlindedMsg}); err != nil {
			return nil, 0, fmt.Errorf("arbitrary batch token request: request %d: %w", i, err)
		}
		types[i] = tr.TokenType
	}
	resp := &ArbitraryBatchTokenResponse{TokenTypes: types, TokenResponses: make([][]byte, n)}
	for i, r := range ready {
		evaluated, proof, err := r.evaluate()
		if err != nil {
			return nil, 0, fmt.Errorf("arbitrary batch token request: request %d: %w", i, err)
		}
		resp.TokenResponses[i] = append(evaluated[0], proof...)
	}
	b, err := resp.MarshalBinary()
	return b, n, err
}

// prepared is a batch of blinded messages for key, decoded and checked, ready
// to be evaluated.
type prepared struct {
	key      *IssuerKey
	blinded  [][]byte        // type 2: blinded messages below the modulus
	elements []group.Element // VOPRF types: non-identity elements
}

// prepare decodes and checks every blinded message for k, before anything is
// evaluated.
func (k *IssuerKey) prepare(blinded [][]byte) (*prepared, error) {
	p := &prepared{key: k}
	switch {
	case k.rsaKey != nil:
		for i, m := range blinded {
			if len(m) != rsaModulusSize || new(big.Int).SetBytes(m).Cmp(k.rsaKey.N) >= 0 {
				return nil, malformed("blinded message %d is not below the modulus", i)
			}
		}
		p.blinded = blinded
	case k.voprf != nil:
		p.elements = make([]group.Element, len(blinded))
		for i, m := range blinded {
			e, err := k.voprf.suite.parseElement(m)
			if err != nil {
				return nil, fmt.Errorf("blinded element %d: %w", i, err)
			}
			p.elements[i] = e
		}
	default:
		return nil, unsupported(k.tokenType)
	}
	return p, nil
}

// evaluate signs (type 2) or evaluates with one batched DLEQ proof (VOPRF
// types) the prepared messages.
func (p *prepared) evaluate() (evaluated [][]byte, proof []byte, err error) {
	k := p.key
	if k.rsaKey != nil {
		signer := blindrsa.NewSigner(k.rsaKey)
		evaluated = make([][]byte, len(p.blinded))
		for i, m := range p.blinded {
			if evaluated[i], err = signer.BlindSign(m); err != nil {
				return nil, nil, fmt.Errorf("privacypass: blind sign: %w", err)
			}
		}
		return evaluated, nil, nil
	}
	sk := k.voprf.get()
	ev, err := oprf.NewVerifiableServer(k.voprf.suite.suite, sk).Evaluate(&oprf.EvaluationRequest{Elements: p.elements})
	k.voprf.put(sk)
	if err != nil {
		return nil, nil, fmt.Errorf("privacypass: evaluate: %w", err)
	}
	evaluated = make([][]byte, len(ev.Elements))
	for i, e := range ev.Elements {
		if evaluated[i], err = e.MarshalBinaryCompress(); err != nil {
			return nil, nil, fmt.Errorf("privacypass: evaluate: %w", err)
		}
	}
	if proof, err = ev.Proof.MarshalBinary(); err != nil {
		return nil, nil, fmt.Errorf("privacypass: evaluate: %w", err)
	}
	return evaluated, proof, nil
}
