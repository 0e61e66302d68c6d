package anonymize

import (
	"context"
	"errors"
	"fmt"

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

// Redeemer is the origin side of a token scheme: it has the signature of
// domain.Redeemer, so every domain.Redeemer is one. A Cloak whose token source is
// also a Redeemer (crypto/hmactoken's Issuer, for a local store) spends every
// token before storing, as an origin would.
type Redeemer interface {
	Redeem(ctx context.Context, token []byte) error
}

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
