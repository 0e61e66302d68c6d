// Package server is the HTTP API of aegisd (API v1, docs/http-api.md) on Echo:
// a blob store whose every object request is authorized by a single-use
// Privacy Pass token, the token issuer behind a bearer attestation secret, the
// issuer directory, health and metrics.
//
// The store is shared by every client with tokens, so it is blind but not
// open: every PUT and DELETE carries the object's write-enabler, a secret the
// client derives per object. The server keeps SHA-256 of it in front of the
// body (the backing store holds SHA-256(enabler) || body, format marker at
// StoreFormatID) and refuses to replace or delete an object with another
// enabler, answering exactly as for a wrong version (412) or an absent object
// (404). Objects are not listed.
//
// aegisd is also an Oblivious HTTP gateway (RFC 9458, Config.OHTTP): at
// GatewayPath it serves its key configurations and opens encapsulated
// requests that a relay forwards, runs each through this same handler (token
// checks, limits, logging) and answers it encapsulated.
//
// The server strips client metadata: it logs only method, route pattern,
// status and a size bucket with timestamps truncated to 10 s, never reads
// X-Forwarded-For or the client address, and echoes nothing about the client.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Paths of the API.
const (
	ObjectsPath       = "/v1/objects"
	TokenRequestsPath = "/v1/token-requests"
	// DirectoryPath is the well-known issuer directory location of RFC 9578
	// section 4.
	DirectoryPath = privacypass.DirectoryPath
	HealthPath    = "/healthz"
	MetricsPath   = "/metrics"
)

// BodySlack is added to the largest allowed object size to get the request
// body limit: bodies within the limit but of a wrong size get 400
// invalid_size, longer ones 413 body_too_large.
const BodySlack = 4 * domain.KiB

// DefaultMaxInFlight is the default bound on concurrent requests.
const DefaultMaxInFlight = 64

// SizePolicy decides which object sizes a PUT may carry. domain.Buckets and
// domain.PaddingPolicy implement it.
type SizePolicy interface {
	Allowed(size int) bool
	Max() int
}

// Config is what a Server needs. Store, Redeemer, Challenge and TokenKey are required.
type Config struct {
	// Store holds the objects, each as SHA-256(write-enabler) || body. aegisd
	// checks its format with PrepareStore before serving it.
	Store domain.BlobStore
	// Redeemer verifies and spends the token of every object request
	// (a *privacypass.Origin over a domain.SpentLedger).
	Redeemer domain.Redeemer
	// Challenge is the encoded TokenChallenge sent in WWW-Authenticate.
	Challenge []byte
	// TokenKey is the issuer key (token-key encoding) sent with the challenge.
	TokenKey []byte
	// Issuer answers POST /v1/token-requests; nil disables issuance (403).
	Issuer *privacypass.Issuer
	// AttestSecret is the bearer secret of POST /v1/token-requests; empty
	// disables issuance (403).
	AttestSecret []byte
	// Directory returns the issuer directory (JSON body); nil serves 404.
	Directory func() (*privacypass.Directory, error)
	// Sizes is the size policy for PUT bodies; nil means domain.DefaultBuckets().
	// Its Max plus EnablerHashSize must not exceed domain.MaxObjectSize.
	Sizes SizePolicy
	// MaxInFlight bounds concurrent requests; more get 503 busy. 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Log receives one line per request (LogRequests: no client metadata);
	// nil discards. NewLogger makes one with the privacy handler.
	Log *slog.Logger
	// Metrics counts requests; nil makes a new one.
	Metrics *Metrics
	// Now is the clock of KeyNotAfter; nil means time.Now.
	Now func() time.Time
	// KeyNotAfter is the end of the lifetime of the issuer key this server
	// issues with (zero: none). From then on /healthz answers 503
	// issuer_key_expired, so that a load balancer stops sending it clients and
	// the operator restarts it (a restart picks the newer key).
	KeyNotAfter time.Time
	// OHTTP is the Oblivious HTTP gateway (RFC 9458) served at GatewayPath;
	// nil disables it (404). Every request it opens is served by this
	// server's own handler, never sent elsewhere.
	OHTTP *ohttp.Gateway
	// OHTTPKeys returns the key configurations of the keys OHTTP holds,
	// preferred first, served at GET GatewayPath. Required with OHTTP.
	OHTTPKeys func() []*ohttp.KeyConfig
	// OHTTPKeysMaxAge is the Cache-Control max-age of the key configurations
	// (0: DefaultOHTTPKeysMaxAge). Keep it well under a key's lifetime.
	OHTTPKeysMaxAge time.Duration
	// OHTTPReplayEntries bounds the replay cache: the enc values remembered
	// per gateway key (0: DefaultOHTTPReplayEntries).
	OHTTPReplayEntries int
}

// Server is the aegisd HTTP handler.
type Server struct {
	cfg        Config
	echo       *echo.Echo
	wwwAuth    string
	secretHash [sha256.Size]byte
	canIssue   bool
	maxBody    int64
	sem        chan struct{}
	metrics    *Metrics
	routes     map[string]bool // registered route patterns, the only paths logged
	prom       http.Handler    // the Prometheus exposition of metrics
	replay     *replayCache    // enc values of opened encapsulated requests (OHTTP)
}

// New checks cfg and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Redeemer == nil || len(cfg.Challenge) == 0 || len(cfg.TokenKey) == 0 {
		return nil, fmt.Errorf("aegisd/server: Store, Redeemer, Challenge and TokenKey are required: %w", domain.ErrInvalidInput)
	}
	if cfg.Sizes == nil {
		cfg.Sizes = domain.DefaultBuckets()
	}
	if cfg.Sizes.Max() > domain.MaxObjectSize-EnablerHashSize {
		return nil, fmt.Errorf("aegisd/server: the largest object size %d leaves no room for the %d-byte enabler hash under %d: %w",
			cfg.Sizes.Max(), EnablerHashSize, domain.MaxObjectSize, domain.ErrInvalidInput)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OHTTP != nil && cfg.OHTTPKeys == nil {
		return nil, fmt.Errorf("aegisd/server: OHTTP needs OHTTPKeys, the key configurations to publish: %w", domain.ErrInvalidInput)
	}
	if cfg.OHTTPKeysMaxAge <= 0 {
		cfg.OHTTPKeysMaxAge = DefaultOHTTPKeysMaxAge
	}
	if cfg.OHTTPReplayEntries <= 0 {
		cfg.OHTTPReplayEntries = DefaultOHTTPReplayEntries
	}
	s := &Server{
		cfg:      cfg,
		wwwAuth:  privacypass.FormatWWWAuthenticate(privacypass.Challenge{TokenChallenge: cfg.Challenge, TokenKey: cfg.TokenKey, MaxAge: -1}),
		canIssue: cfg.Issuer != nil && len(cfg.AttestSecret) > 0,
		maxBody:  int64(cfg.Sizes.Max()) + BodySlack,
		sem:      make(chan struct{}, cfg.MaxInFlight),
		metrics:  cfg.Metrics,
		replay:   newReplayCache(cfg.OHTTPReplayEntries),
	}
	s.prom = newPromHandler(s.metrics)
	s.secretHash = sha256.Sum256(cfg.AttestSecret)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = HandleError
	// Client addresses are never looked at; make any accidental RealIP call
	// return nothing.
	e.IPExtractor = func(*http.Request) string { return "" }
	e.Use(LogRequests(cfg.Log, func(r string) bool { return s.routes[r] }, s.metrics.request), s.recoverPanics, s.limit)

	// No listing route: GET /v1/objects is 404 route_not_found (a co-tenant
	// must not learn the ids of other clients' objects).
	// Every answer of an object route is Cache-Control: no-store: the
	// handlers set it, HandleError on every error (the 401 challenge too).
	auth := s.requireToken
	e.PUT(ObjectsPath+"/:id", s.putObject, auth)
	e.GET(ObjectsPath+"/:id", s.getObject, auth)
	e.DELETE(ObjectsPath+"/:id", s.deleteObject, auth)
	e.POST(TokenRequestsPath, s.issueTokens)
	e.GET(DirectoryPath, s.directory)
	e.GET(HealthPath, s.health)
	e.HEAD(HealthPath, s.health)
	e.GET(MetricsPath, s.metricsHandler)
	if cfg.OHTTP != nil {
		e.GET(GatewayPath, s.gatewayKeys)
		e.POST(GatewayPath, s.gatewayRequest)
	}
	s.routes = map[string]bool{}
	for _, r := range e.Routes() {
		s.routes[r.Path] = true
	}
	s.echo = e
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Metrics returns the server's counters.
func (s *Server) Metrics() *Metrics { return s.metrics }

// requireToken verifies and spends the request's PrivateToken before the
// handler runs, so every request that reaches a handler has spent its token
// whatever the handler's outcome.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Request().Header.Values(echo.HeaderAuthorization)
		if len(hdr) == 0 {
			// A client fetching the challenge (the aegis CLI does at start):
			// counted apart from refused tokens.
			s.metrics.challenged()
			return s.unauthorized(CodeTokenRequired, "a PrivateToken authorization is required")
		}
		if len(hdr) != 1 {
			s.metrics.tokenRejected("invalid")
			return s.unauthorized(CodeTokenInvalid, "exactly one Authorization header is allowed")
		}
		tok, err := privacypass.ParseAuthorization(hdr[0])
		if err != nil {
			s.metrics.tokenRejected("invalid")
			return s.unauthorized(CodeTokenInvalid, "the Authorization header is not a PrivateToken token")
		}
		switch err := s.cfg.Redeemer.Redeem(c.Request().Context(), tok); {
		case err == nil:
			s.metrics.tokenRedeemed()
		case errors.Is(err, domain.ErrTokenSpent):
			s.metrics.tokenRejected("spent")
			return s.unauthorized(CodeTokenSpent, "the token was already redeemed")
		case errors.Is(err, domain.ErrTokenInvalid):
			s.metrics.tokenRejected("invalid")
			return s.unauthorized(CodeTokenInvalid, "the token does not verify")
		default:
			s.metrics.tokenRejected("ledger_error")
			return NewError(http.StatusServiceUnavailable, CodeUnavailable, "the token could not be redeemed; retry with a new token")
		}
		return next(c)
	}
}

func (s *Server) unauthorized(code, msg string) error {
	e := NewError(http.StatusUnauthorized, code, msg)
	e.WithHeader(echo.HeaderWWWAuthenticate, s.wwwAuth)
	return e
}

// limit bounds the number of requests served at once. A request over the limit
// gets 503 busy at once, before anything (its token included) is looked at.
// A request the OHTTP gateway decapsulated passes: the encapsulated request
// that carried it holds its slot.
func (s *Server) limit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isInner(c) {
			return next(c)
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.metrics.busy()
			e := NewError(http.StatusServiceUnavailable, CodeBusy, "too many requests in flight; retry")
			e.WithHeader("Retry-After", "1")
			return e
		}
		s.metrics.inFlight.Add(1)
		defer func() {
			s.metrics.inFlight.Add(-1)
			<-s.sem
		}()
		return next(c)
	}
}

// recoverPanics turns a handler panic into a 500 without logging anything
// about the request.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.metrics.panics.Inc()
				err = NewError(http.StatusInternalServerError, CodeInternal, "internal error")
			}
		}()
		return next(c)
	}
}

func (s *Server) health(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	status, body := http.StatusOK, "ok"
	if !s.cfg.KeyNotAfter.IsZero() && !s.cfg.Now().Before(s.cfg.KeyNotAfter) {
		status, body = http.StatusServiceUnavailable, "issuer_key_expired"
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return c.JSON(status, map[string]string{"status": body})
}

func (s *Server) directory(c echo.Context) error {
	if s.cfg.Directory == nil {
		return echo.ErrNotFound
	}
	d, err := s.cfg.Directory()
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	// The directory is the same for every client; caching it is fine.
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=3600")
	c.Response().Header().Set(echo.HeaderContentType, privacypass.DirectoryMediaType)
	c.Response().WriteHeader(http.StatusOK)
	return writeJSON(c.Response(), d)
}

// issueTokens answers a TokenRequest (RFC 9578) or a batched request of
// draft-ietf-privacypass-batched-tokens (privately verifiable or arbitrary)
// after checking the bearer attestation secret in constant time.
func (s *Server) issueTokens(c echo.Context) error {
	if !s.canIssue {
		return NewError(http.StatusForbidden, CodeIssuanceDisabled, "token issuance is not configured on this server")
	}
	const prefix = "Bearer "
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	var given []byte
	if len(auth) > len(prefix) && equalFoldASCII(auth[:len(prefix)], prefix) {
		given = []byte(auth[len(prefix):])
	}
	h := sha256.Sum256(given)
	if given == nil || subtle.ConstantTimeCompare(h[:], s.secretHash[:]) != 1 {
		e := NewError(http.StatusUnauthorized, CodeAttestationRequired, "a valid Bearer attestation secret is required")
		e.WithHeader(echo.HeaderWWWAuthenticate, `Bearer realm="aegisd"`)
		return e
	}
	// Media types are case-insensitive and may carry parameters (RFC 9110
	// section 8.3.1); none of these types defines one, so they are ignored.
	ct, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		ct = ""
	}
	var batched bool
	switch ct {
	case privacypass.RequestMediaType:
	case privacypass.BatchRequestMediaType, privacypass.ArbitraryBatchRequestMediaType:
		batched = true
	default:
		return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"Content-Type must be "+privacypass.RequestMediaType+", "+privacypass.BatchRequestMediaType+" or "+privacypass.ArbitraryBatchRequestMediaType)
	}
	body, err := readBody(c.Request(), maxTokenRequest)
	if err != nil {
		return err
	}
	resp, err := s.cfg.Issuer.Respond(ct, body)
	if err != nil {
		switch {
		case errors.Is(err, privacypass.ErrUnsupportedMedia):
			return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "unsupported token request media type")
		case !errors.Is(err, privacypass.ErrMalformed) && !errors.Is(err, privacypass.ErrUnsupportedType) && !errors.Is(err, privacypass.ErrUnknownKey):
			return fmt.Errorf("issue: %w", err)
		case batched:
			// draft-ietf-privacypass-batched-tokens: 422 for a batch that is
			// malformed, of an unsupported type, for an unknown key or too large.
			return NewError(http.StatusUnprocessableEntity, CodeUnprocessableBatch, "the batched token request is malformed, of an unsupported type, for an unknown key or over the batch limit")
		default:
			return NewError(http.StatusBadRequest, CodeBadRequest, "the token request is malformed, of an unsupported type or for an unknown key")
		}
	}
	s.metrics.tokensIssued.Add(float64(resp.Tokens))
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, resp.MediaType, resp.Body)
}

// maxTokenRequest bounds a token request body: the largest is an arbitrary
// batch of privacypass.MaxBatch type 2 TokenRequests (2+1+256 bytes each)
// behind a vector length of at most 8 bytes. A longer body is 413.
const maxTokenRequest = 8 + privacypass.MaxBatch*(3+256)

// readBody reads at most limit bytes of the request body; a longer body is 413.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body over %d bytes", limit))
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, NewError(http.StatusBadRequest, CodeBadRequest, "could not read the request body")
	}
	if int64(len(b)) > limit {
		return nil, NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body over %d bytes", limit))
	}
	return b, nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ctxErr maps a context error of the request to 503 request_cancelled (the
// client is gone or timed out; the status is rarely seen). It comes after the
// handler reached the store, so the operation may or may not have been
// applied: never CodeUnavailable, which says that nothing was done.
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return NewError(http.StatusServiceUnavailable, CodeRequestCancelled, "request cancelled; it may or may not have been applied")
	}
	return nil
}
