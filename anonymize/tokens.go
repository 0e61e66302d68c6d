package anonymize

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// Errors of token verification: the domain's sentinels, so callers can match
// either name with errors.Is.
var (
	// ErrTokenInvalid means a token is malformed or its MAC does not verify.
	ErrTokenInvalid = domain.ErrTokenInvalid
	// ErrTokenSpent means a token was already redeemed once.
	ErrTokenSpent = domain.ErrTokenSpent
)

// HMAC token layout: a random nonce followed by HMAC-SHA256(key, label || nonce).
const (
	hmacNonceSize = 32
	// HMACTokenSize is the length of an HMACTokens token.
	HMACTokenSize = hmacNonceSize + sha256.Size
	// MinHMACKeySize is the shortest secret key NewHMACTokens accepts.
	MinHMACKeySize = 32
	hmacLabel      = "aegis/v1 hmac token\x00"
)

// HMACTokens is the local, privately verifiable token scheme for single-user,
// trusted setups: the issuer and the verifier share a secret key. A token is a
// random 32-byte nonce and its HMAC-SHA256; Verify compares MACs in constant time
// and enforces single use with an in-memory set of spent nonces (which grows by
// 32 bytes per redeemed token and lives as long as the value). It is safe for
// concurrent use.
type HMACTokens struct {
	key    []byte
	random domain.Random

	mu     sync.Mutex
	spent  map[[hmacNonceSize]byte]struct{}
	issued int64
}

// NewHMACTokens returns a token scheme under key (at least MinHMACKeySize bytes,
// copied). random is the nonce source; nil means crypto/rand.
func NewHMACTokens(key []byte, random domain.Random) (*HMACTokens, error) {
	if len(key) < MinHMACKeySize {
		return nil, fmt.Errorf("%w: HMAC token key of %d bytes, at least %d needed", domain.ErrInvalidInput, len(key), MinHMACKeySize)
	}
	if random == nil {
		random = domain.DefaultRandom()
	}
	return &HMACTokens{key: append([]byte(nil), key...), random: random, spent: map[[hmacNonceSize]byte]struct{}{}}, nil
}

// NewRandomHMACTokens returns a token scheme under a fresh random 32-byte key.
func NewRandomHMACTokens() (*HMACTokens, error) {
	key := make([]byte, MinHMACKeySize)
	if _, err := io.ReadFull(domain.DefaultRandom(), key); err != nil {
		return nil, fmt.Errorf("anonymize: token key: %w", err)
	}
	return NewHMACTokens(key, nil)
}

func (h *HMACTokens) mac(nonce []byte) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(hmacLabel))
	m.Write(nonce)
	return m.Sum(nil)
}

// IssueBatch returns n fresh tokens.
func (h *HMACTokens) IssueBatch(n int) ([][]byte, error) {
	if n < 0 || n > MaxBatchSize {
		return nil, fmt.Errorf("%w: cannot issue %d tokens at once", domain.ErrInvalidInput, n)
	}
	out := make([][]byte, n)
	for i := range out {
		t := make([]byte, hmacNonceSize, HMACTokenSize)
		if _, err := io.ReadFull(h.random, t); err != nil {
			return nil, fmt.Errorf("anonymize: token nonce: %w", err)
		}
		out[i] = append(t, h.mac(t)...)
	}
	h.mu.Lock()
	h.issued += int64(n)
	h.mu.Unlock()
	return out, nil
}

// Token implements TokenSource.
func (h *HMACTokens) Token(ctx context.Context) ([]byte, error) {
	t, err := h.Tokens(ctx, 1)
	if err != nil {
		return nil, err
	}
	return t[0], nil
}

// Tokens implements BatchTokenSource.
func (h *HMACTokens) Tokens(ctx context.Context, n int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return h.IssueBatch(n)
}

// Check reports whether token is well formed, authentic and not yet spent,
// without spending it.
func (h *HMACTokens) Check(token []byte) error {
	nonce, err := h.authentic(token)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.spent[nonce]; ok {
		return ErrTokenSpent
	}
	return nil
}

// Verify redeems token: it succeeds once for every authentic token and fails
// with ErrTokenSpent after that, ErrTokenInvalid for anything else.
func (h *HMACTokens) Verify(token []byte) error {
	nonce, err := h.authentic(token)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.spent[nonce]; ok {
		return ErrTokenSpent
	}
	h.spent[nonce] = struct{}{}
	return nil
}

func (h *HMACTokens) authentic(token []byte) ([hmacNonceSize]byte, error) {
	var nonce [hmacNonceSize]byte
	if len(token) != HMACTokenSize {
		return nonce, ErrTokenInvalid
	}
	if !hmac.Equal(h.mac(token[:hmacNonceSize]), token[hmacNonceSize:]) {
		return nonce, ErrTokenInvalid
	}
	copy(nonce[:], token)
	return nonce, nil
}

// Redeem is Verify with the signature of domain.Redeemer.
func (h *HMACTokens) Redeem(ctx context.Context, token []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return h.Verify(token)
}

// Issued returns the number of tokens issued so far.
func (h *HMACTokens) Issued() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.issued
}

// Spent returns the number of tokens redeemed so far.
func (h *HMACTokens) Spent() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(len(h.spent))
}

// TokenVerifier is the origin side of a token scheme: Verify redeems a token once.
type TokenVerifier interface {
	Verify(token []byte) error
}

// Redeemer is the origin side of a token scheme with a context: it has the
// signature of domain.Redeemer, so every domain.Redeemer is one. The Cloak
// prefers it to TokenVerifier.
type Redeemer interface {
	Redeem(ctx context.Context, token []byte) error
}

var (
	_ BatchTokenSource   = (*HMACTokens)(nil)
	_ TokenVerifier      = (*HMACTokens)(nil)
	_ Redeemer           = (*HMACTokens)(nil)
	_ domain.Redeemer    = (*HMACTokens)(nil)
	_ domain.TokenSource = (*HMACTokens)(nil)
)

// Authorize attaches one fresh privacy token to every request, replacing any it
// had. A request never shares a token with another.
type Authorize struct {
	Source TokenSource
}

// Name implements Stage.
func (Authorize) Name() string { return "authorize" }

// Apply implements Stage.
func (s Authorize) Apply(ctx context.Context, b Batch) (Batch, error) {
	if s.Source == nil {
		return nil, fmt.Errorf("%w: Authorize has no token source", domain.ErrInvalidInput)
	}
	var tokens [][]byte
	if bs, ok := s.Source.(BatchTokenSource); ok {
		var err error
		if tokens, err = bs.Tokens(ctx, len(b)); err != nil {
			return nil, err
		}
		if len(tokens) != len(b) {
			return nil, fmt.Errorf("anonymize: token source returned %d tokens for %d requests", len(tokens), len(b))
		}
	} else {
		tokens = make([][]byte, len(b))
		for i := range tokens {
			t, err := s.Source.Token(ctx)
			if err != nil {
				return nil, err
			}
			tokens[i] = t
		}
	}
	out := make(Batch, len(b))
	seen := make(map[string]bool, len(b))
	for i, r := range b {
		if len(tokens[i]) == 0 {
			return nil, errors.New("anonymize: token source returned an empty token")
		}
		if seen[string(tokens[i])] {
			return nil, errors.New("anonymize: token source returned the same token twice")
		}
		seen[string(tokens[i])] = true
		out[i] = r
		out[i].Token = tokens[i]
	}
	return out, nil
}
