package privacypass

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.TokenSource = (*Pool)(nil)

// Fetch sends an encoded BatchTokenRequest to the issuer (after attestation)
// and returns its encoded BatchTokenResponse.
type Fetch func(ctx context.Context, batchRequest []byte) (batchResponse []byte, err error)

// Pool is a client-side domain.TokenSource: it hands out encoded tokens for one
// challenge, one per call, never the same twice, and fetches a new blinded
// batch through fetch when it runs out. A Pool is safe for concurrent use;
// concurrent callers that find it empty wait for one fetch.
type Pool struct {
	client    *Client
	challenge []byte
	batch     int
	fetch     Fetch

	mu     sync.Mutex
	tokens [][]byte
}

// NewPool returns a pool of tokens for challenge (an encoded TokenChallenge of
// client's type), fetched batch (1..MaxBatch) at a time.
func NewPool(client *Client, challenge []byte, batch int, fetch Fetch) (*Pool, error) {
	if client == nil || fetch == nil || batch < 1 || batch > MaxBatch {
		return nil, fmt.Errorf("privacypass: new pool: %w", domain.ErrInvalidInput)
	}
	if _, err := ParseTokenChallenge(challenge); err != nil {
		return nil, err
	}
	return &Pool{client: client, challenge: append([]byte(nil), challenge...), batch: batch, fetch: fetch}, nil
}

// Token returns an unused token, fetching a batch first if none is left.
func (p *Pool) Token(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tokens) == 0 {
		if err := p.refill(ctx); err != nil {
			return nil, err
		}
	}
	tok := p.tokens[len(p.tokens)-1]
	p.tokens[len(p.tokens)-1] = nil
	p.tokens = p.tokens[:len(p.tokens)-1]
	return tok, nil
}

// Len returns how many tokens are left without a fetch.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tokens)
}

func (p *Pool) refill(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req, pending, err := p.client.BatchRequest(p.challenge, p.batch)
	if err != nil {
		return err
	}
	resp, err := p.fetch(ctx, req)
	if err != nil {
		return fmt.Errorf("privacypass: fetch tokens: %w", err)
	}
	toks, err := p.client.FinalizeBatch(pending, resp)
	if err != nil {
		return fmt.Errorf("privacypass: fetch tokens: %w", err)
	}
	enc := make([][]byte, 0, len(toks))
	for _, t := range toks {
		b, err := t.MarshalBinary()
		if err != nil {
			return errors.Join(ErrMalformed, err)
		}
		enc = append(enc, b)
	}
	p.tokens = enc
	return nil
}
