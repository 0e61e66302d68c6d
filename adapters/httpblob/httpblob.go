// Package httpblob is a domain.BlobStore over the HTTP API of aegisd
// (docs/http-api.md).
//
// Every request authorizes itself with one single-use Privacy Pass token from
// a domain.TokenSource (NewTokenPool builds one that fetches blinded batches
// from the server's issuer) and carries no identifying metadata: a fixed
// User-Agent "aegis", no cookies, no redirects followed. Idempotent operations
// (Get, GetVersioned, List, Put) are retried with exponential backoff, each
// try with a fresh token; Delete and CompareAndSwap are retried only when the
// server answered that it did nothing (429, 503). CompareAndSwap uses
// If-Match / If-None-Match with the store's version as a strong ETag; a 412
// becomes domain.ErrConflict and a 404 domain.ErrNotFound.
package httpblob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// UserAgent is the User-Agent of every request: the same for every client.
const UserAgent = "aegis"

const (
	objectsPath   = "/v1/objects"
	listPageLimit = 1000
	maxErrorBody  = 16 << 10
)

// Options configure Open.
type Options struct {
	// Tokens hands out one token per request. Required.
	Tokens domain.TokenSource
	// Client sends the requests; nil means NewHTTPClient(). A client given here
	// is used as is: it should have no cookie jar and follow no redirects.
	Client *http.Client
	// Attempts is the number of tries of a retryable request (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled at each retry with
	// jitter (default 50 ms).
	Backoff time.Duration
}

// Store is a domain.BlobStore over aegisd. It is safe for concurrent use.
type Store struct {
	base     string
	tokens   domain.TokenSource
	client   *http.Client
	attempts int
	backoff  time.Duration
}

var _ domain.BlobStore = (*Store)(nil)

// NewHTTPClient returns the HTTP client Store uses by default: no cookie jar,
// no redirects, no transparent compression, bounded timeouts.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.Proxy = nil
	return &http.Client{
		Transport: t,
		Timeout:   2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Open returns a store for the aegisd at baseURL (for example
// "http://127.0.0.1:8080"). It sends nothing.
func Open(baseURL string, opts *Options) (*Store, error) {
	if opts == nil || opts.Tokens == nil {
		return nil, fmt.Errorf("aegis/httpblob: open: a token source is required: %w", domain.ErrInvalidInput)
	}
	base, err := checkBase(baseURL)
	if err != nil {
		return nil, err
	}
	s := &Store{base: base, tokens: opts.Tokens, client: opts.Client, attempts: opts.Attempts, backoff: opts.Backoff}
	if s.client == nil {
		s.client = NewHTTPClient()
	}
	if s.attempts <= 0 {
		s.attempts = 4
	}
	if s.backoff <= 0 {
		s.backoff = 50 * time.Millisecond
	}
	return s, nil
}

func checkBase(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("aegis/httpblob: %q is not an http(s) base URL: %w", baseURL, domain.ErrInvalidInput)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// retry says when a request may be sent again.
type retry int

const (
	// retryIdempotent: after transport errors and 429, 502, 503, 504.
	retryIdempotent retry = iota
	// retryUnprocessed: only after 429 and 503, which aegisd sends before doing anything.
	retryUnprocessed
)

type reply struct {
	status int
	header http.Header
	body   []byte
}

// apiError is the JSON error body of aegisd.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func errorCode(r *reply) string {
	var e apiError
	if json.Unmarshal(r.body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code
	}
	return "status " + fmt.Sprint(r.status)
}

// do sends one API request, with retries, each try with a fresh token.
func (s *Store) do(ctx context.Context, method, path string, body []byte, hdr map[string]string, policy retry, bodyLimit int64) (*reply, error) {
	var lastErr error
	for attempt := 0; attempt < s.attempts; attempt++ {
		if attempt > 0 {
			wait := s.backoff << (attempt - 1)
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tok, err := s.tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", UserAgent)
		req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = err
			if policy == retryIdempotent {
				continue
			}
			return nil, err
		}
		limit := int64(maxErrorBody)
		if resp.StatusCode/100 == 2 {
			limit = bodyLimit
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		_ = resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = err
			if policy == retryIdempotent {
				continue
			}
			return nil, err
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("response body over %d bytes", limit)
		}
		r := &reply{status: resp.StatusCode, header: resp.Header, body: b}
		switch r.status {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			lastErr = fmt.Errorf("server unavailable (%s)", errorCode(r))
			continue
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			lastErr = fmt.Errorf("server unavailable (%s)", errorCode(r))
			if policy == retryIdempotent {
				continue
			}
		}
		return r, nil
	}
	return nil, fmt.Errorf("gave up after %d attempts: %w", s.attempts, lastErr)
}

// statusError maps a non-success reply to a domain error.
func statusError(r *reply) error {
	code := errorCode(r)
	switch r.status {
	case http.StatusNotFound:
		if code == "object_not_found" {
			return domain.ErrNotFound
		}
	case http.StatusPreconditionFailed:
		return fmt.Errorf("%w (%s)", domain.ErrConflict, code)
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: server refused the request (%s)", domain.ErrInvalidInput, code)
	case http.StatusUnauthorized:
		if code == "token_spent" {
			return fmt.Errorf("server refused the token (%s): %w", code, domain.ErrTokenSpent)
		}
		return fmt.Errorf("server refused the token (%s): %w", code, domain.ErrTokenInvalid)
	}
	return fmt.Errorf("unexpected response %d (%s)", r.status, code)
}

func wrap(op string, id domain.ObjectID, err error) error {
	return fmt.Errorf("aegis/httpblob: %s %s: %w", op, id, err)
}

func objectPath(id domain.ObjectID) string { return objectsPath + "/" + id.String() }

// Put implements domain.BlobStore.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	r, err := s.do(ctx, http.MethodPut, objectPath(id), data, nil, retryIdempotent, 0)
	if err != nil {
		return wrap("put", id, err)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK && r.status != http.StatusCreated {
		return wrap("put", id, statusError(r))
	}
	return nil
}

// Get implements domain.BlobStore.
func (s *Store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.get(ctx, "get", id)
	return b, err
}

// GetVersioned implements domain.BlobStore: the version is the ETag.
func (s *Store) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	return s.get(ctx, "get versioned", id)
}

func (s *Store) get(ctx context.Context, op string, id domain.ObjectID) ([]byte, domain.Version, error) {
	r, err := s.do(ctx, http.MethodGet, objectPath(id), nil, nil, retryIdempotent, domain.MaxObjectSize)
	if err != nil {
		return nil, "", wrap(op, id, err)
	}
	if r.status != http.StatusOK {
		return nil, "", wrap(op, id, statusError(r))
	}
	v, ok := httpwire.ParseETag(r.header.Get("ETag"))
	if !ok {
		return nil, "", wrap(op, id, errors.New("response without a strong ETag"))
	}
	return r.body, v, nil
}

// Delete implements domain.BlobStore.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	r, err := s.do(ctx, http.MethodDelete, objectPath(id), nil, nil, retryUnprocessed, 0)
	if err != nil {
		return wrap("delete", id, err)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK {
		return wrap("delete", id, statusError(r))
	}
	return nil
}

// CompareAndSwap implements domain.BlobStore with If-None-Match: * (expected
// empty) or If-Match: "expected".
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	hdr := map[string]string{"If-None-Match": "*"}
	if expected != "" {
		etag, ok := httpwire.FormatETag(expected)
		if !ok {
			// aegisd never issues such a version: it cannot be current.
			if err := ctx.Err(); err != nil {
				return "", wrap("compare-and-swap", id, err)
			}
			return "", wrap("compare-and-swap", id, fmt.Errorf("%w: version not issued by aegisd", domain.ErrConflict))
		}
		hdr = map[string]string{"If-Match": etag}
	}
	if data == nil {
		data = []byte{}
	}
	r, err := s.do(ctx, http.MethodPut, objectPath(id), data, hdr, retryUnprocessed, 0)
	if err != nil {
		return "", wrap("compare-and-swap", id, err)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK && r.status != http.StatusCreated {
		return "", wrap("compare-and-swap", id, statusError(r))
	}
	v, ok := httpwire.ParseETag(r.header.Get("ETag"))
	if !ok {
		return "", wrap("compare-and-swap", id, errors.New("response without a strong ETag"))
	}
	return v, nil
}

type listPage struct {
	IDs  []string `json:"ids"`
	Next string   `json:"next"`
}

// List implements domain.BlobStore, one page (one token) per request.
func (s *Store) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	after := ""
	for {
		q := url.Values{"limit": {fmt.Sprint(listPageLimit)}}
		if after != "" {
			q.Set("after", after)
		}
		r, err := s.do(ctx, http.MethodGet, objectsPath+"?"+q.Encode(), nil, nil, retryIdempotent, 1<<20)
		if err != nil {
			return fmt.Errorf("aegis/httpblob: list: %w", err)
		}
		if r.status != http.StatusOK {
			return fmt.Errorf("aegis/httpblob: list: %w", statusError(r))
		}
		var page listPage
		if err := json.Unmarshal(r.body, &page); err != nil {
			return fmt.Errorf("aegis/httpblob: list: bad response: %w", err)
		}
		for _, s := range page.IDs {
			id, err := domain.ParseObjectID(s)
			if err != nil {
				return fmt.Errorf("aegis/httpblob: list: bad id in response: %w", err)
			}
			if err := fn(id); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		if page.Next <= after {
			return errors.New("aegis/httpblob: list: server paging does not advance")
		}
		after = page.Next
	}
}
