package privacypass

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/cloudflare/circl/oprf"

	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.Redeemer = (*Origin)(nil)

// Origin verifies and redeems tokens. It accepts type 2 tokens of the public
// keys it was given (AddTokenKey) and tokens of every type of the issuer keys
// it holds (AddIssuerKey: the private verification of types 1 and 5, RFC 9578
// section 5.4, needs the private key). Redeem spends a
// token's nonce in a domain.SpentLedger partitioned by key id, after the token
// verified: a token that fails verification spends nothing. An Origin is safe
// for concurrent use.
type Origin struct {
	ledger domain.SpentLedger

	now        func() time.Time
	mu         sync.RWMutex
	keys       map[[KeyIDSize]byte]originKey
	challenges map[[ChallengeDigestSize]byte]struct{}
}

type originKey struct {
	tokenType TokenType
	rsaPub    *rsa.PublicKey
	voprf     *voprfKey // shared with the IssuerKey; safe for concurrent use
	notAfter  time.Time // zero: no end
}

// NewOrigin returns an origin that records spent tokens in ledger (which may be
// nil for an origin that only calls Verify).
func NewOrigin(ledger domain.SpentLedger) *Origin {
	return &Origin{ledger: ledger, now: time.Now, keys: make(map[[KeyIDSize]byte]originKey), challenges: make(map[[ChallengeDigestSize]byte]struct{})}
}

// AddTokenKey trusts the type 2 public key tokenKey (its token-key encoding, as
// in the issuer directory).
func (o *Origin) AddTokenKey(t TokenType, tokenKey []byte) error {
	if t != TypeBlindRSA {
		return fmt.Errorf("%w: %v is not publicly verifiable", ErrUnsupportedType, t)
	}
	pk, err := ParseRSAPublicKey(tokenKey)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys[KeyID(tokenKey)] = originKey{tokenType: t, rsaPub: pk}
	return nil
}

// SetClock replaces the clock that key lifetimes are checked against
// (time.Now by default). For tests.
func (o *Origin) SetClock(now func() time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.now = now
}

// AddIssuerKey trusts an issuer key of any type.
func (o *Origin) AddIssuerKey(k *IssuerKey) { o.AddIssuerKeyUntil(k, time.Time{}) }

// AddIssuerKeyUntil trusts an issuer key of any type until notAfter: from
// then on its tokens are refused with ErrKeyExpired, so that a spent-token
// ledger whose marks expire (adapters/redisledger) need keep them no longer
// than the key's lifetime. A zero notAfter trusts the key without an end.
func (o *Origin) AddIssuerKeyUntil(k *IssuerKey, notAfter time.Time) {
	ok := originKey{tokenType: k.tokenType, voprf: k.voprf, notAfter: notAfter}
	if k.rsaKey != nil {
		ok.rsaPub = &k.rsaKey.PublicKey
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keys[k.id] = ok
}

// RemoveKey stops accepting tokens of the key id. (Drop its ledger partition,
// hex of the id, once no token of it can be presented.)
func (o *Origin) RemoveKey(id [KeyIDSize]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.keys, id)
}

// AcceptChallenge restricts the origin to tokens for the given encoded
// TokenChallenges. Until it is called, any challenge digest is accepted.
func (o *Origin) AcceptChallenge(challenge []byte) error {
	if _, err := ParseTokenChallenge(challenge); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.challenges[ChallengeDigest(challenge)] = struct{}{}
	return nil
}

// Verify decodes and verifies an encoded token without spending it. Every
// error wraps domain.ErrTokenInvalid and one of ErrMalformed,
// ErrUnsupportedType, ErrUnknownKey, ErrKeyExpired or ErrVerify.
func (o *Origin) Verify(token []byte) (*Token, error) {
	tok, err := o.verify(token)
	if err != nil {
		return nil, errors.Join(domain.ErrTokenInvalid, err)
	}
	return tok, nil
}

func (o *Origin) verify(token []byte) (*Token, error) {
	tok, err := ParseToken(token)
	if err != nil {
		return nil, err
	}
	o.mu.RLock()
	k, ok := o.keys[tok.KeyID]
	_, challengeOK := o.challenges[tok.ChallengeDigest]
	restricted := len(o.challenges) > 0
	now := o.now()
	o.mu.RUnlock()
	if !ok || k.tokenType != tok.TokenType {
		return nil, fmt.Errorf("%w: no %v key with id %x", ErrUnknownKey, tok.TokenType, tok.KeyID)
	}
	if !k.notAfter.IsZero() && !now.Before(k.notAfter) {
		return nil, fmt.Errorf("%w: key %x ended at %s", ErrKeyExpired, tok.KeyID, k.notAfter.UTC().Format(time.RFC3339))
	}
	if restricted && !challengeOK {
		return nil, fmt.Errorf("%w: token for a challenge this origin did not issue", ErrVerify)
	}
	input := tok.AuthenticatorInput()
	switch tok.TokenType {
	case TypeBlindRSA:
		if new(big.Int).SetBytes(tok.Authenticator).Cmp(k.rsaPub.N) >= 0 {
			return nil, fmt.Errorf("%w: signature is not below the modulus", ErrVerify)
		}
		digest := sha512.Sum384(input)
		opts := &rsa.PSSOptions{SaltLength: 48, Hash: crypto.SHA384}
		if err := rsa.VerifyPSS(k.rsaPub, crypto.SHA384, digest[:], tok.Authenticator, opts); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrVerify, err)
		}
	case TypeVOPRF, TypeVOPRFRistretto255:
		// RFC 9578 section 5.4: the authenticator is the VOPRF output of the
		// token input under the issuer's private key.
		sk := k.voprf.get()
		want, err := oprf.NewVerifiableServer(k.voprf.suite.suite, sk).FullEvaluate(input)
		k.voprf.put(sk)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrVerify, err)
		}
		if subtle.ConstantTimeCompare(want, tok.Authenticator) != 1 {
			return nil, fmt.Errorf("%w: authenticator mismatch", ErrVerify)
		}
	default:
		return nil, unsupported(tok.TokenType)
	}
	return tok, nil
}

// Redeem verifies token and spends its nonce. It returns an error wrapping
// domain.ErrTokenInvalid for a token that does not verify (nothing is spent)
// and domain.ErrTokenSpent for a replay.
func (o *Origin) Redeem(ctx context.Context, token []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tok, err := o.Verify(token)
	if err != nil {
		return fmt.Errorf("privacypass: redeem: %w", err)
	}
	if o.ledger == nil {
		return fmt.Errorf("privacypass: redeem: origin has no spent-token ledger: %w", domain.ErrInvalidInput)
	}
	spent, err := o.ledger.MarkSpent(ctx, hex.EncodeToString(tok.KeyID[:]), tok.Nonce[:])
	if err != nil {
		return fmt.Errorf("privacypass: redeem: %w", err)
	}
	if spent {
		return fmt.Errorf("privacypass: redeem: nonce %x: %w", tok.Nonce, domain.ErrTokenSpent)
	}
	return nil
}
