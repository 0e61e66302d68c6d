package privacypass

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

var _ domain.TokenSource = (*Pool)(nil)

// Fetch sends an encoded batched request (Client.BatchRequest) to the issuer
// (after attestation), with the request media type that BatchMediaTypes names
// for the client's type, and returns the issuer's encoded batched response.
type Fetch func(ctx context.Context, batchRequest []byte) (batchResponse []byte, err error)

// Pool is a client-side domain.TokenSource: it hands out encoded tokens for one
// challenge, one per call, never the same twice, and fetches a new blinded
// batch through fetch when it runs out. A Pool is safe for concurrent use;
// concurrent callers that find it empty wait for one fetch.
type Pool struct {
	client    *Client
	challenge []byte
	batch     int

	low   int // prefetch a batch in the background below this many tokens (0: never)
	fetch Fetch

	onFetch atomic.Pointer[func(tokens int, d time.Duration)] // SetOnFetch

	mu          sync.Mutex
	tokens      [][]byte
	prefetching bool
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

// SetLowWater makes the pool fetch the next batch in the background once fewer
// than n tokens are left, so that requests rarely wait for issuance and a
// batch's tokens are not redeemed right after it was issued. n = 0 turns
// prefetching off (the default): a batch is then fetched when the pool is empty.
func (p *Pool) SetLowWater(n int) {
	p.mu.Lock()
	p.low = max(0, min(n, p.batch))
	p.mu.Unlock()
}

// SetOnFetch makes the pool call f after each batch it obtained, with the
// number of tokens and the time the batch took: blinding, the issuer's round
// trip through fetch and finalization. f runs on the goroutine that fetched (a
// background prefetch has its own), possibly with the pool locked: it must be
// safe for concurrent use and must not call the pool. A failed fetch is not
// reported. nil turns the reports off.
func (p *Pool) SetOnFetch(f func(tokens int, d time.Duration)) {
	if f == nil {
		p.onFetch.Store(nil)
		return
	}
	p.onFetch.Store(&f)
}

// prefetchTimeout bounds a background fetch.
const prefetchTimeout = 30 * time.Second

// Token returns an unused token, fetching a batch first if none is left.
func (p *Pool) Token(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tokens) == 0 {
		toks, err := p.fetchBatch(ctx)
		if err != nil {
			return nil, err
		}
		p.tokens = append(p.tokens, toks...)
	}
	tok := p.tokens[len(p.tokens)-1]
	p.tokens[len(p.tokens)-1] = nil
	p.tokens = p.tokens[:len(p.tokens)-1]
	if len(p.tokens) < p.low && !p.prefetching {
		p.prefetching = true
		go p.prefetch()
	}
	return tok, nil
}

// prefetch fetches one batch without holding the lock and adds it to the pool.
// A failure is dropped: the next Token that finds the pool empty fetches (and
// reports its own error).
func (p *Pool) prefetch() {
	ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
	defer cancel()
	toks, err := p.fetchBatch(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prefetching = false
	if err == nil {
		// Older tokens stay on top: they are handed out first.
		p.tokens = append(toks, p.tokens...)
	}
}

// Len returns how many tokens are left without a fetch.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tokens)
}

// fetchBatch obtains and finalizes one batch of tokens. It touches no pool state.
func (p *Pool) fetchBatch(ctx context.Context) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	req, pending, err := p.client.BatchRequest(p.challenge, p.batch)
	if err != nil {
		return nil, err
	}
	resp, err := p.fetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("privacypass: fetch tokens: %w", err)
	}
	toks, err := p.client.FinalizeBatch(pending, resp)
	if err != nil {
		return nil, fmt.Errorf("privacypass: fetch tokens: %w", err)
	}
	enc := make([][]byte, 0, len(toks))
	for _, t := range toks {
		b, err := t.MarshalBinary()
		if err != nil {
			return nil, errors.Join(ErrMalformed, err)
		}
		enc = append(enc, b)
	}
	if f := p.onFetch.Load(); f != nil {
		(*f)(len(enc), time.Since(start))
	}
	return enc, nil
}
