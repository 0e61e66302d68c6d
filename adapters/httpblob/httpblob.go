// Package httpblob is a domain.BlobStore over the HTTP API of aegisd
// (docs/http-api.md).
//
// Every request authorizes itself with one single-use Privacy Pass token from
// a domain.TokenSource (NewTokenPool builds one that fetches blinded batches
// from the server's issuer) and carries no identifying metadata: a fixed
// User-Agent "aegis", no cookies, no redirects followed.
//
// A request whose context carries a token (domain.WithToken: the Cloak's
// Authorize stage attaches one to every request) sends exactly that token with
// its first try, and the store's own source is not asked. A context's token is
// sent with one try only: every resend (below) takes a fresh token from
// Options.Tokens, as every try of a request without one does. (net/http's own
// resend of a GET on a reused connection that closed, below, repeats the try's
// token, whichever it was; aegisd refuses it as spent and the store resends
// with a fresh one.)
//
// aegisd is shared by every client that holds its attestation secret, so it
// refuses to overwrite or delete an object without the write-enabler the
// object was created with. Store implements domain.WriteGuard: Guarded returns
// a view that sends enabler(id) in the Aegis-Write-Enabler header of every Put,
// CompareAndSwap and Delete of id; the Store that Open returns sends no
// enabler, and its writes fail with domain.ErrInvalidInput. A PUT with another
// object's enabler is answered as a wrong version (domain.ErrConflict), a
// DELETE as an absent object (domain.ErrNotFound). aegisd does not list
// objects: List fails with an error wrapping errors.ErrUnsupported.
//
// # Through an Oblivious HTTP relay
//
// With a client from NewRelayClient (Options.Client and PoolOptions.Client),
// every request leaves encapsulated (RFC 9458) to the relay, which forwards it
// to aegisd's gateway: the relay sees the client's address and ciphertext,
// aegisd the request and the relay's address. The base URL only names the
// target inside the encapsulation; its host is never dialled. The gateway's
// key configuration is fetched through the relay and checked (pinned, or
// trusted on first use with rotations vouched for by a trusted key): see
// NewRelayClient. An answer in the clear from the relay or the gateway is a
// *RelayError: busy or unavailable is resent as above; any other refusal
// (4xx) ends the request, and a write's other failures wrap
// domain.ErrOutcomeUnknown.
//
// Resends, each with a fresh token and exponential backoff: Get, GetVersioned
// and Put (idempotent: same id, same bytes, same enabler) after transport
// errors, unreadable answers and 429, 502, 503, 504; a GET also after a 401
// token_spent, since net/http resends a GET by itself, token and all, when a
// reused connection closes before the answer. CompareAndSwap and Delete
// are resent only when aegisd itself answered that it did nothing (429 or 503
// with its error code busy or unavailable) or the connection could not be
// made. Any other failure once the request may have reached the server (a
// transport error, an unreadable answer, any other 5xx such as a proxy's 502,
// 503 or 504, any error answer without aegisd's JSON error body) returns an
// error wrapping domain.ErrOutcomeUnknown, never domain.ErrConflict: the write
// may have been applied. So does a 412 that
// answers a resend. CompareAndSwap uses If-Match / If-None-Match with the
// store's version as a strong ETag; aegisd's 412 precondition_failed becomes
// domain.ErrConflict and its 404 object_not_found domain.ErrNotFound.
//
// # Headers
//
// An object request sends Host and the headers of ProtocolHeaders that it needs:
// User-Agent "aegis" and Authorization (the token) always, Content-Type
// (application/octet-stream) and Content-Length with a body, If-Match or
// If-None-Match with a CompareAndSwap, Aegis-Write-Enabler with a write. The
// default client (NewHTTPClient) adds nothing: no cookie jar, no
// Accept-Encoding (DisableCompression), no proxy from the environment; nothing
// depends on the locale, time zone or host name. A client given in
// Options.Client is used as is and may add headers (a jar's Cookie, its
// Transport's Accept-Encoding: gzip). Store implements domain.MetadataStripper:
// Stripped(allow) returns a view whose requests leave with exactly the
// protocol's headers and those named in allow, whatever this package or the
// http.Client added; a header the client's Transport adds inside its RoundTrip
// is out of the view's reach (see Stripped). The requests of NewTokenPool are not object
// requests and are not stripped: they send User-Agent and, to fetch tokens,
// Authorization (the bearer attestation secret), Content-Type and
// Content-Length, through their own client (PoolOptions.Client).
package httpblob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
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
	objectsPath  = "/v1/objects"
	maxErrorBody = 16 << 10
)

// Options configure Open.
type Options struct {
	// Tokens hands out one token per request. Required.
	Tokens domain.TokenSource
	// Client sends the requests; nil means NewHTTPClient(). A client given here
	// is used as is: it should have no cookie jar and follow no redirects.
	// Views made by Stripped send through a copy of it that strips headers.
	Client *http.Client
	// Attempts is the number of tries of a retryable request (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled at each retry with
	// jitter (default 50 ms).
	Backoff time.Duration
	// ContextTokens requires the first try of every request to carry the token
	// of its context (domain.WithToken: the Cloak's layer attaches one to every
	// request); Tokens then serves resends only. A request whose context has none
	// fails with domain.ErrInvalidInput and is not sent.
	ContextTokens bool
}

// Store is a domain.BlobStore over aegisd. It is safe for concurrent use.
// The Store Open returns reads only; Guarded returns a view that writes.
type Store struct {
	base     string
	tokens   domain.TokenSource
	client   *http.Client // sends the requests: plain, or plain through a stripping Transport (Stripped)
	plain    *http.Client // the client of Options, or NewHTTPClient()
	attempts int
	backoff  time.Duration
	ctxOnly  bool // Options.ContextTokens
	// enabler gives the write-enabler of an object; nil: writes are refused.
	enabler func(domain.ObjectID) domain.WriteEnabler
}

var (
	_ domain.BlobStore  = (*Store)(nil)
	_ domain.WriteGuard = (*Store)(nil)
	_ domain.Networked  = (*Store)(nil)
)

// Networked implements domain.Networked: every request (of the Store and of
// its views) goes to aegisd over the network, even an aegisd on this machine.
func (s *Store) Networked() bool { return true }

// errUnguarded is the error of a write through a Store without enablers.
var errUnguarded = fmt.Errorf("%w: writes to aegisd need write-enablers: use Guarded", domain.ErrInvalidInput)

// Guarded implements domain.WriteGuard: a copy of s, sharing its HTTP client
// (stripped, on a view made by Stripped) and token source, that sends
// enabler(id) with every Put, CompareAndSwap and Delete of id. Calling Guarded
// on a view replaces its enabler function.
func (s *Store) Guarded(enabler func(id domain.ObjectID) domain.WriteEnabler) domain.BlobStore {
	g := *s
	g.enabler = enabler
	return &g
}

// writeHeader returns the header that carries id's write-enabler.
func (s *Store) writeHeader(id domain.ObjectID) (map[string]string, error) {
	if s.enabler == nil {
		return nil, errUnguarded
	}
	return map[string]string{httpwire.WriteEnablerHeader: httpwire.FormatWriteEnabler(s.enabler(id))}, nil
}

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
	s := &Store{base: base, tokens: opts.Tokens, client: opts.Client, attempts: opts.Attempts, backoff: opts.Backoff, ctxOnly: opts.ContextTokens}
	if s.client == nil {
		s.client = NewHTTPClient()
	}
	s.plain = s.client
	if s.attempts <= 0 {
		s.attempts = 4
	}
	if s.backoff <= 0 {
		s.backoff = 50 * time.Millisecond
	}
	return s, nil
}

// CheckBaseURL reports whether baseURL is a base URL Open accepts: http or
// https, with a host and without user, query or fragment. Errors wrap
// domain.ErrInvalidInput.
func CheckBaseURL(baseURL string) error {
	_, err := checkBase(baseURL)
	return err
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
	// retryIdempotent (Get, GetVersioned, Put): after transport errors,
	// unreadable answers and 429, 502, 503, 504.
	retryIdempotent retry = iota
	// retryUnprocessed (CompareAndSwap, Delete): only after aegisd's own answer
	// that it did nothing (nothingDone) or a connection that could not be made.
	// Any other failure after the request may have been sent is an error
	// wrapping domain.ErrOutcomeUnknown.
	retryUnprocessed
)

type reply struct {
	status int
	header http.Header
	body   []byte
	// resent: an earlier try of this request was sent (and answered that it
	// did nothing).
	resent bool
}

// apiError is the JSON error body of aegisd.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// aegisdCode returns the code of aegisd's JSON error body, or "".
func aegisdCode(r *reply) string {
	var e apiError
	if json.Unmarshal(r.body, &e) == nil {
		return e.Error.Code
	}
	return ""
}

func errorCode(r *reply) string {
	if c := aegisdCode(r); c != "" {
		return c
	}
	return "status " + fmt.Sprint(r.status)
}

// nothingDone reports whether aegisd answered that it did nothing with the
// request: 429 or 503 with its code busy (over the concurrency limit, before
// the token was looked at) or unavailable (the ledger failed, before the
// handler ran). A 503 from anything else (a proxy) says nothing of the kind.
func nothingDone(r *reply) bool {
	if r.status != http.StatusServiceUnavailable && r.status != http.StatusTooManyRequests {
		return false
	}
	c := aegisdCode(r)
	return c == httpwire.CodeBusy || c == httpwire.CodeUnavailable
}

// notSent reports whether a transport error happened before the request could
// have reached the server: no connection was made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// outcomeUnknown wraps the failure of a write that may have been applied.
func outcomeUnknown(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w: %w", domain.ErrOutcomeUnknown, cerr, err)
	}
	return fmt.Errorf("%w: %w", domain.ErrOutcomeUnknown, err)
}

// token returns the token of one try of a request: at the first try the
// token domain.WithToken attached to ctx, if any; otherwise, and at every
// resend, a fresh one from the store's source. A token of ctx is thus sent with
// one try only: a resend with it would be refused as spent.
func (s *Store) token(ctx context.Context, attempt int) ([]byte, error) {
	if attempt == 0 {
		if tok, ok := domain.TokenFrom(ctx); ok {
			return tok, nil
		}
		if s.ctxOnly {
			return nil, fmt.Errorf("%w: the request carries no token of its own (Options.ContextTokens)", domain.ErrInvalidInput)
		}
	}
	tok, err := s.tokens.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return tok, nil
}

// do sends one API request, with retries (policy), each try with a fresh token
// (the first try with ctx's token, if it carries one).
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
		tok, err := s.token(ctx, attempt)
		if err != nil {
			return nil, err
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
			var re *RelayError
			relayed := errors.As(err, &re)
			switch {
			case notSent(err):
			case relayed && re.nothingDone():
				// Through a relay (RelayTransport): aegisd, or the relay,
				// answered in the clear that it served nothing. A 412 that
				// answers the resend is ErrOutcomeUnknown (CompareAndSwap).
			case policy == retryUnprocessed:
				return nil, outcomeUnknown(ctx, err)
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case relayed && re.Status/100 == 4 && re.Status != http.StatusTooManyRequests:
				// The relay or gateway refused the encapsulated request
				// (its key, its size): a resend would be refused alike.
				return nil, err
			}
			lastErr = err
			continue
		}
		limit := int64(maxErrorBody)
		if resp.StatusCode/100 == 2 {
			limit = bodyLimit
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		_ = resp.Body.Close()
		if err != nil {
			switch {
			case policy == retryUnprocessed:
				return nil, outcomeUnknown(ctx, fmt.Errorf("status %d, answer unreadable: %w", resp.StatusCode, err))
			case ctx.Err() != nil:
				return nil, ctx.Err()
			}
			lastErr = err
			continue
		}
		if int64(len(b)) > limit {
			err := fmt.Errorf("status %d, response body over %d bytes", resp.StatusCode, limit)
			if policy == retryUnprocessed {
				return nil, outcomeUnknown(ctx, err)
			}
			return nil, err
		}
		r := &reply{status: resp.StatusCode, header: resp.Header, body: b, resent: attempt > 0}
		if nothingDone(r) {
			lastErr = fmt.Errorf("server did nothing (%s)", errorCode(r))
			continue
		}
		if policy == retryUnprocessed && r.status/100 != 2 && (r.status >= 500 || aegisdCode(r) == "") {
			// A proxy's 502, 503 or 504 (or any answer without aegisd's error
			// body), aegisd's 500 or request_cancelled: the write may have
			// been applied.
			return nil, outcomeUnknown(ctx, fmt.Errorf("server answered %d (%s)", r.status, errorCode(r)))
		}
		switch r.status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			lastErr = fmt.Errorf("server unavailable (%s)", errorCode(r))
			continue
		case http.StatusUnauthorized:
			// net/http resends a GET by itself, with the same token, when a
			// reused connection closes before the answer (a proxy that drops it
			// after forwarding): aegisd then refuses the spent token. A read is
			// safe to send again with a fresh one.
			if method == http.MethodGet && policy == retryIdempotent && errorCode(r) == "token_spent" {
				lastErr = statusError(r)
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
		if code == "precondition_failed" {
			return fmt.Errorf("%w (%s)", domain.ErrConflict, code)
		}
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

// Put implements domain.BlobStore. aegisd stores the object if it is absent
// or was created with the same enabler; another enabler is domain.ErrConflict.
func (s *Store) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	hdr, err := s.writeHeader(id)
	if err != nil {
		return wrap("put", id, err)
	}
	if data == nil {
		data = []byte{}
	}
	r, err := s.do(ctx, http.MethodPut, objectPath(id), data, hdr, retryIdempotent, 0)
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

// Delete implements domain.BlobStore. aegisd answers a delete with another
// enabler as an absent object: domain.ErrNotFound.
func (s *Store) Delete(ctx context.Context, id domain.ObjectID) error {
	hdr, err := s.writeHeader(id)
	if err != nil {
		return wrap("delete", id, err)
	}
	r, err := s.do(ctx, http.MethodDelete, objectPath(id), nil, hdr, retryUnprocessed, 0)
	if err != nil {
		return wrap("delete", id, err)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK {
		return wrap("delete", id, statusError(r))
	}
	return nil
}

// CompareAndSwap implements domain.BlobStore with If-None-Match: * (expected
// empty) or If-Match: "expected". aegisd answers a swap with another enabler
// as a wrong version: domain.ErrConflict. A 412 that answers a resend wraps
// domain.ErrOutcomeUnknown instead: it could be the answer to this very write,
// applied by an earlier try.
func (s *Store) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	const op = "compare-and-swap"
	hdr, err := s.writeHeader(id)
	if err != nil {
		return "", wrap(op, id, err)
	}
	if expected != "" {
		etag, ok := httpwire.FormatETag(expected)
		if !ok {
			// aegisd never issues such a version: it cannot be current.
			if err := ctx.Err(); err != nil {
				return "", wrap(op, id, err)
			}
			return "", wrap(op, id, fmt.Errorf("%w: version not issued by aegisd", domain.ErrConflict))
		}
		hdr["If-Match"] = etag
	} else {
		hdr["If-None-Match"] = "*"
	}
	if data == nil {
		data = []byte{}
	}
	r, err := s.do(ctx, http.MethodPut, objectPath(id), data, hdr, retryUnprocessed, 0)
	if err != nil {
		return "", wrap(op, id, err)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK && r.status != http.StatusCreated {
		err := statusError(r)
		if r.resent && errors.Is(err, domain.ErrConflict) {
			err = outcomeUnknown(ctx, fmt.Errorf("412 after a resend: an earlier try may have been applied (%s)", errorCode(r)))
		}
		return "", wrap(op, id, err)
	}
	v, ok := httpwire.ParseETag(r.header.Get("ETag"))
	if !ok {
		return "", wrap(op, id, outcomeUnknown(ctx, errors.New("response without a strong ETag")))
	}
	return v, nil
}

// List implements domain.BlobStore: aegisd does not list objects (other
// clients' ids are none of a client's business), so it fails with an error
// wrapping errors.ErrUnsupported, or the context's error.
func (s *Store) List(ctx context.Context, _ func(domain.ObjectID) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("aegis/httpblob: list: %w", err)
	}
	return fmt.Errorf("aegis/httpblob: list: aegisd does not list objects: %w", errors.ErrUnsupported)
}
