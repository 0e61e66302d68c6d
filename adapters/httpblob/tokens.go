package httpblob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Paths of aegisd's issuer (docs/http-api.md).
const (
	tokenRequestsPath = "/v1/token-requests"
	directoryPath     = privacypass.DirectoryPath
)

// ErrAttestationRefused means the issuer refused a token request's bearer
// attestation secret (aegisd answers 401 attestation_required to a missing or
// wrong one): no token can be had until the secret is right.
var ErrAttestationRefused = errors.New("the issuer refused the attestation secret")

// maxBatchResponse bounds a batched issuance response: the largest is an
// arbitrary batch of privacypass.MaxBatch type 2 responses (a presence octet
// and a 256-byte blind signature each) behind a vector length of at most 8
// bytes; a privately verifiable batch of types 1 and 5 is smaller.
const maxBatchResponse = 8 + privacypass.MaxBatch*(1+256)

// PoolOptions configure NewTokenPool.
type PoolOptions struct {
	// Batch is the number of tokens fetched per issuance request (default 64,
	// at most privacypass.MaxBatch). The next batch is fetched in the background
	// once fewer than a quarter of a batch is left.
	Batch int
	// Client sends the requests; nil means NewHTTPClient().
	Client *http.Client
	// Now is the clock used to pick the directory key; nil means time.Now.
	Now func() time.Time
	// OnFetch, if set, is called after each batch the pool obtained, with its
	// number of tokens and the time it took (blinding, the POST round trip and
	// finalization; privacypass.Pool.SetOnFetch). It may run on a background
	// goroutine and concurrently with itself, and must not call the pool.
	OnFetch func(tokens int, d time.Duration)
}

// NewTokenPool returns a privacypass.Pool for the aegisd at baseURL: it reads
// the server's challenge from the 401 answer to an unauthenticated request,
// checks that the challenge's issuer key is the one the issuer directory lists
// for everyone, and fetches blinded batches from POST /v1/token-requests with
// the bearer attestation secret.
func NewTokenPool(ctx context.Context, baseURL string, attestSecret []byte, opts *PoolOptions) (*privacypass.Pool, error) {
	if opts == nil {
		opts = &PoolOptions{}
	}
	base, err := checkBase(baseURL)
	if err != nil {
		return nil, err
	}
	if len(attestSecret) == 0 {
		return nil, fmt.Errorf("aegis/httpblob: token pool: empty attestation secret: %w", domain.ErrInvalidInput)
	}
	client := opts.Client
	if client == nil {
		client = NewHTTPClient()
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 64
	}
	batch = min(batch, privacypass.MaxBatch)
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	// 1. The challenge.
	r, err := send(ctx, client, http.MethodGet, base+objectPath(domain.ObjectID{}), nil, nil, 1<<16)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: challenge: %w", err)
	}
	if r.status != http.StatusUnauthorized {
		return nil, fmt.Errorf("aegis/httpblob: token pool: challenge: want 401, got %d", r.status)
	}
	chs, err := privacypass.ParseWWWAuthenticate(r.header.Get("WWW-Authenticate"))
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: challenge: %w", err)
	}
	var ch *privacypass.Challenge
	var tc *privacypass.TokenChallenge
	for i := range chs {
		c, err := privacypass.ParseTokenChallenge(chs[i].TokenChallenge)
		if err != nil {
			continue
		}
		if _, _, err := privacypass.BatchMediaTypes(c.TokenType); err == nil {
			ch, tc = &chs[i], c
			break
		}
	}
	if ch == nil {
		return nil, errors.New("aegis/httpblob: token pool: no PrivateToken challenge of a supported type")
	}

	// 2. The key, as the directory lists it to everyone.
	r, err = send(ctx, client, http.MethodGet, base+directoryPath, nil, nil, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: directory: %w", err)
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("aegis/httpblob: token pool: directory: status %d", r.status)
	}
	dir, err := privacypass.ParseDirectory(r.body)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: directory: %w", err)
	}
	key, err := dir.Key(tc.TokenType, now())
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: directory: %w", err)
	}
	if ch.TokenKey != nil && !bytes.Equal(ch.TokenKey, key.TokenKey) {
		return nil, errors.New("aegis/httpblob: token pool: the challenge's token-key is not the directory's key")
	}
	pc, err := privacypass.NewClient(tc.TokenType, key.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: %w", err)
	}

	// 3. Batched issuance, in the batch format of the type
	// (draft-ietf-privacypass-batched-tokens): privately verifiable for types
	// 1 and 5, arbitrary for type 2.
	reqType, respType, err := privacypass.BatchMediaTypes(tc.TokenType)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: token pool: %w", err)
	}
	auth := "Bearer " + string(attestSecret)
	fetch := func(ctx context.Context, req []byte) ([]byte, error) {
		hdr := map[string]string{"Authorization": auth, "Content-Type": reqType, "Accept": respType}
		r, err := send(ctx, client, http.MethodPost, base+tokenRequestsPath, req, hdr, maxBatchResponse)
		if err != nil {
			return nil, fmt.Errorf("aegis/httpblob: token request: %w", err)
		}
		if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
			return nil, fmt.Errorf("aegis/httpblob: token request: %s: %w", errorCode(r), ErrAttestationRefused)
		}
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("aegis/httpblob: token request: %s", errorCode(r))
		}
		// The draft's clients ignore any other response; media types are
		// case-insensitive and may carry parameters.
		if ct, _, err := mime.ParseMediaType(r.header.Get("Content-Type")); err != nil || ct != respType {
			return nil, fmt.Errorf("aegis/httpblob: token request: response of type %q, want %s", r.header.Get("Content-Type"), respType)
		}
		return r.body, nil
	}
	pool, err := privacypass.NewPool(pc, ch.TokenChallenge, batch, fetch)
	if err != nil {
		return nil, err
	}
	// Refill below a quarter of a batch, in the background: requests rarely wait
	// for issuance, and a batch is not redeemed right after it was issued.
	pool.SetLowWater(max(1, batch/4))
	pool.SetOnFetch(opts.OnFetch)
	return pool, nil
}

// send sends one request with the fixed User-Agent and reads at most limit
// bytes of the answer.
func send(ctx context.Context, client *http.Client, method, url string, body []byte, hdr map[string]string, limit int64) (*reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response body over %d bytes", limit)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}
