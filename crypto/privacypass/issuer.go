package privacypass

import (
	"fmt"
	"math/big"
	"sync"

	"github.com/cloudflare/circl/blindsign/blindrsa"
	"github.com/cloudflare/circl/oprf"
)

// Issuer signs (type 2) or evaluates (type 1) blinded token requests with its
// keys. It learns nothing about the tokens' nonces or challenges. An Issuer is
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

// Issue answers one encoded TokenRequest with an encoded TokenResponse.
func (is *Issuer) Issue(request []byte) ([]byte, error) {
	req, err := ParseTokenRequest(request)
	if err != nil {
		return nil, err
	}
	k, err := is.key(req.TokenType, req.TruncatedKeyID)
	if err != nil {
		return nil, err
	}
	evaluated, proof, err := k.evaluate([][]byte{req.BlindedMsg})
	if err != nil {
		return nil, err
	}
	return append(evaluated[0], proof...), nil
}

// IssueBatch answers an encoded BatchTokenRequest with an encoded
// BatchTokenResponse. Either every token is issued or none.
func (is *Issuer) IssueBatch(request []byte) ([]byte, error) {
	req, err := ParseBatchTokenRequest(request)
	if err != nil {
		return nil, err
	}
	k, err := is.key(req.TokenType, req.TruncatedKeyID)
	if err != nil {
		return nil, err
	}
	evaluated, proof, err := k.evaluate(req.BlindedMsgs)
	if err != nil {
		return nil, err
	}
	return marshalBatchTokenResponse(evaluated, proof), nil
}

// evaluate signs or evaluates blinded messages of k's type.
func (k *IssuerKey) evaluate(blinded [][]byte) (evaluated [][]byte, proof []byte, err error) {
	switch k.tokenType {
	case TypeBlindRSA:
		signer := blindrsa.NewSigner(k.rsaKey)
		evaluated = make([][]byte, len(blinded))
		for i, m := range blinded {
			if len(m) != rsaModulusSize || new(big.Int).SetBytes(m).Cmp(k.rsaKey.N) >= 0 {
				return nil, nil, malformed("blinded message %d is not below the modulus", i)
			}
			if evaluated[i], err = signer.BlindSign(m); err != nil {
				return nil, nil, fmt.Errorf("privacypass: blind sign: %w", err)
			}
		}
		return evaluated, nil, nil
	case TypeVOPRF:
		req := &oprf.EvaluationRequest{Elements: make([]oprf.Blinded, len(blinded))}
		for i, m := range blinded {
			e, err := parseElement(m)
			if err != nil {
				return nil, nil, fmt.Errorf("blinded element %d: %w", i, err)
			}
			req.Elements[i] = e
		}
		k.voprfMu.Lock()
		ev, err := oprf.NewVerifiableServer(oprf.SuiteP384, k.voprfKey).Evaluate(req)
		k.voprfMu.Unlock()
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
	return nil, nil, fmt.Errorf("%w: %v", ErrUnsupportedType, k.tokenType)
}
