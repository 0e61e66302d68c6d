// Package relay is aegis-relay, the Oblivious Relay Resource of Oblivious HTTP
// (RFC 9458) in front of aegisd's Oblivious Gateway Resource: the relay knows
// the client's address but sees only encrypted messages; the gateway sees the
// requests but only the relay's address. It is assembled with Wire like aegisd:
// the providers and ProviderSet (providers.go), the injector (Initialize, in
// wire.go, generated into wire_gen.go) and App, which runs the HTTP server and
// shuts it down gracefully.
//
// Routes (Echo v4):
//
//	POST /            a message/ohttp-req body, forwarded unchanged as a new
//	                  request POST <gateway>/.well-known/ohttp-gateway carrying
//	                  only Content-Type, Content-Length and User-Agent:
//	                  aegis-relay; the gateway's message/ohttp-res answer is
//	                  returned unchanged with 200
//	GET /ohttp-keys   the gateway's key configurations (application/ohttp-keys,
//	                  GET <gateway>/.well-known/ohttp-gateway), passed on
//	                  unchanged and cached for Settings.KeysCache
//	GET|HEAD /healthz 200
//
// Every refusal is a JSON error body {"error":{"code":"…","message":"…"}} in
// aegisd's style (codes below). A gateway answer of 4xx, or 503, whose media
// type is application/problem+json or application/json (RFC 9458 section
// 5.3's key problem, aegisd's errors, aegisd's busy with its Retry-After) is
// passed on unchanged; RFC 9458 section 5.2 lets a relay forward such an
// answer or treat it as a failure, and only these bodies mean something to a
// client. Every other gateway failure becomes 502 with no gateway body.
//
// Nothing about a client is forwarded (no header of theirs, no address, no
// Forwarded, X-Forwarded-For or Via) or logged: the log has the start and stop
// lines and one line per request with aegisd's fields only (time truncated to
// server.LogWindow, method, route pattern, status, size bucket).
package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// Paths and media types.
const (
	// RelayPath takes encapsulated requests.
	RelayPath = "/"
	// KeysPath serves the gateway's key configurations.
	KeysPath = "/ohttp-keys"
	// HealthPath answers 200 while the relay runs.
	HealthPath = server.HealthPath
	// GatewayPath is the Oblivious Gateway Resource under the gateway's base
	// URL: the well-known URI of RFC 9540, which takes encapsulated requests
	// (POST) and serves the key configurations (GET).
	GatewayPath = "/.well-known/ohttp-gateway"

	MediaTypeRequest  = "message/ohttp-req"      // an Encapsulated Request (RFC 9458 section 9.2)
	MediaTypeResponse = "message/ohttp-res"      // an Encapsulated Response (RFC 9458 section 9.3)
	MediaTypeKeys     = "application/ohttp-keys" // key configurations (RFC 9458 section 9.1)

	// UserAgent is the User-Agent of every request to the gateway, the same
	// for every client.
	UserAgent = "aegis-relay"
)

// Bounds of what the relay takes from the gateway besides encapsulated
// responses (which Settings.MaxBody bounds).
const (
	// MaxKeysSize bounds the key configurations; a configuration with an
	// X25519 or P-256 key and a few algorithm pairs is under 100 bytes.
	MaxKeysSize = 16 << 10
	// MaxErrorSize bounds a gateway 4xx body passed on to the client.
	MaxErrorSize = 16 << 10
)

// Relay is the aegis-relay HTTP handler.
type Relay struct {
	cfg    Settings
	client *http.Client
	echo   *echo.Echo
	sem    chan struct{}
	keys   keyCache
	log    *slog.Logger
	routes map[string]bool
	counts counts
	now    func() time.Time
}

// New returns the relay of s, sending to the gateway with c and logging to lg.
func New(s Settings, c GatewayClient, lg Log) (*Relay, error) {
	if s.GatewayResource == "" || c.Client == nil || s.MaxInFlight <= 0 || s.MaxBody <= 0 {
		return nil, fmt.Errorf("aegis-relay: New needs checked Settings (ProvideSettings) and a gateway client: %w", domain.ErrInvalidInput)
	}
	r := &Relay{cfg: s, client: c.Client, sem: make(chan struct{}, s.MaxInFlight), log: lg.Logger, now: time.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.keys.ttl = s.KeysCache

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = server.HandleError
	// Client addresses are never looked at; make any accidental RealIP call
	// return nothing.
	e.IPExtractor = func(*http.Request) string { return "" }
	e.Use(server.LogRequests(r.log, func(rt string) bool { return r.routes[rt] }, r.counts.add), r.recoverPanics)
	e.POST(RelayPath, r.forward, r.rateLimit, r.limitInFlight)
	e.GET(KeysPath, r.serveKeys, r.rateLimit, r.limitInFlight)
	e.GET(HealthPath, health)
	e.HEAD(HealthPath, health)
	r.routes = map[string]bool{}
	for _, rt := range e.Routes() {
		r.routes[rt.Path] = true
	}
	r.echo = e
	return r, nil
}

// ServeHTTP implements http.Handler.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.echo.ServeHTTP(w, req) }

// ConnContext is the http.Server ConnContext that gives each client
// connection its own token bucket (Settings.Rate, Settings.Burst). Without it
// (a Relay served some other way) there is no per-connection limit.
func (r *Relay) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	if r.cfg.Rate <= 0 {
		return ctx
	}
	return context.WithValue(ctx, bucketKey{}, newBucket(r.cfg.Rate, r.cfg.Burst, r.now()))
}

func health(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// mediaTypeIs reports whether the Content-Type value v names the media type
// want: case-insensitive, parameters ignored (RFC 9110 section 8.3.1).
func mediaTypeIs(v, want string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == want
}

// forward relays one encapsulated request. Nothing reaches the gateway unless
// the request passed every check; the new request carries the body and
// nothing of the client's request besides it.
func (r *Relay) forward(c echo.Context) error {
	req := c.Request()
	if !mediaTypeIs(req.Header.Get(echo.HeaderContentType), MediaTypeRequest) {
		return server.NewError(http.StatusUnsupportedMediaType, server.CodeUnsupportedMedia, "Content-Type must be "+MediaTypeRequest)
	}
	body, err := readBody(req, r.cfg.MaxBody)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.GatewayTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.GatewayResource, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("gateway request: %w", err)
	}
	out.Header = http.Header{"Content-Type": {MediaTypeRequest}, "User-Agent": {UserAgent}}
	// No retry here (RFC 9458 section 6.5). net/http itself resends a request
	// only when nothing of it was written to a reused connection.
	res, err := r.client.Do(out)
	if err != nil {
		return gatewayUnreachable()
	}
	defer closeBody(res)
	ct := res.Header.Get(echo.HeaderContentType)
	switch {
	case res.StatusCode == http.StatusOK:
		if !mediaTypeIs(ct, MediaTypeResponse) {
			return server.NewError(http.StatusBadGateway, CodeGatewayGarbage, "the gateway answered with a media type other than "+MediaTypeResponse)
		}
		b, err := readLimited(res.Body, r.cfg.MaxBody)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderCacheControl, "no-store")
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
		return c.Blob(http.StatusOK, MediaTypeResponse, b)
	case (res.StatusCode >= 400 && res.StatusCode < 500 || res.StatusCode == http.StatusServiceUnavailable) &&
		(mediaTypeIs(ct, "application/problem+json") || mediaTypeIs(ct, echo.MIMEApplicationJSON)):
		b, err := readLimited(res.Body, MaxErrorSize)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderCacheControl, "no-store")
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
		// aegisd answers 503 busy before it opens anything: with its
		// Retry-After, a client resends instead of reporting an unknown outcome.
		if ra := res.Header.Get("Retry-After"); res.StatusCode == http.StatusServiceUnavailable && ra != "" {
			if n, err := strconv.Atoi(ra); err == nil && n >= 0 && n <= 3600 {
				h.Set("Retry-After", ra)
			}
		}
		// A gateway's Date lets a client correct its clock after a "date"
		// problem (RFC 9458 section 6.5.2).
		if d := res.Header.Get("Date"); d != "" {
			if _, err := http.ParseTime(d); err == nil {
				h.Set("Date", d)
			}
		}
		return c.Blob(res.StatusCode, ct, b)
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return server.NewError(http.StatusBadGateway, CodeGatewayGarbage, fmt.Sprintf("the gateway answered %dxx without an encapsulated response", res.StatusCode/100))
	default:
		return server.NewError(http.StatusBadGateway, CodeGatewayError, fmt.Sprintf("the gateway answered with a %dxx status", res.StatusCode/100))
	}
}

// serveKeys answers with the gateway's key configurations.
func (r *Relay) serveKeys(c echo.Context) error {
	b, expires, err := r.keys.get(c.Request().Context(), r.fetchKeys, r.now)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if left := int(expires.Sub(r.now()) / time.Second); left > 0 {
		// The same bytes for every client until then: a client may keep them
		// as long as the relay does, no longer.
		h.Set(echo.HeaderCacheControl, "max-age="+strconv.Itoa(left))
	} else {
		h.Set(echo.HeaderCacheControl, "no-store")
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	return c.Blob(http.StatusOK, MediaTypeKeys, b)
}

// fetchKeys gets the key configurations from the gateway, unparsed.
func (r *Relay) fetchKeys(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.GatewayTimeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.GatewayResource, nil)
	if err != nil {
		return nil, fmt.Errorf("gateway request: %w", err)
	}
	out.Header = http.Header{"Accept": {MediaTypeKeys}, "User-Agent": {UserAgent}}
	res, err := r.client.Do(out)
	if err != nil {
		return nil, gatewayUnreachable()
	}
	defer closeBody(res)
	switch {
	case res.StatusCode < 200 || res.StatusCode >= 300:
		return nil, server.NewError(http.StatusBadGateway, CodeGatewayError, fmt.Sprintf("the gateway answered the key configuration request with a %dxx status", res.StatusCode/100))
	case res.StatusCode != http.StatusOK || !mediaTypeIs(res.Header.Get(echo.HeaderContentType), MediaTypeKeys):
		return nil, server.NewError(http.StatusBadGateway, CodeGatewayGarbage, "the gateway's key configurations are not a 200 "+MediaTypeKeys+" answer")
	}
	b, err := readLimited(res.Body, MaxKeysSize)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, server.NewError(http.StatusBadGateway, CodeGatewayGarbage, "the gateway sent no key configuration")
	}
	return b, nil
}

func gatewayUnreachable() error {
	return server.NewError(http.StatusBadGateway, CodeGatewayUnreachable, "the gateway could not be reached or did not answer in time")
}

// readBody reads a client's body of at most limit bytes: longer is 413,
// empty is 400 (no encapsulated request is empty).
func readBody(req *http.Request, limit int64) ([]byte, error) {
	tooLarge := server.NewError(http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge, fmt.Sprintf("request body over %d bytes", limit))
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	switch {
	case err != nil:
		return nil, server.NewError(http.StatusBadRequest, server.CodeBadRequest, "could not read the request body")
	case int64(len(b)) > limit:
		return nil, tooLarge
	case len(b) == 0:
		return nil, server.NewError(http.StatusBadRequest, server.CodeBadRequest, "the request body is empty: want an encapsulated request")
	}
	return b, nil
}

// readLimited reads a gateway body of at most limit bytes: a longer one is
// 502 gateway_garbage, a failed read 502 gateway_unreachable.
func readLimited(body io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		return nil, gatewayUnreachable()
	case int64(len(b)) > limit:
		return nil, server.NewError(http.StatusBadGateway, CodeGatewayGarbage, fmt.Sprintf("the gateway's answer is over %d bytes", limit))
	}
	return b, nil
}

// closeBody reads a little of what is left of a gateway answer, so that a
// short unread error body does not cost the keep-alive connection, and
// closes it.
func closeBody(res *http.Response) {
	_, _ = io.CopyN(io.Discard, res.Body, 4<<10)
	_ = res.Body.Close()
}

// keyCache holds the last key configurations fetched and makes concurrent
// requests share one fetch.
type keyCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	body    []byte
	expires time.Time
	pending *keyFetch
}

// keyFetch is one fetch from the gateway that several requests wait for.
type keyFetch struct {
	done chan struct{}
	body []byte
	err  error
}

// get returns the cached configurations, or fetches them (one fetch for all
// the requests that arrive while it runs), and when they stop being served.
// The fetch does not end when the request that started it is cancelled: the
// others wait for it too.
func (k *keyCache) get(ctx context.Context, fetch func(context.Context) ([]byte, error), now func() time.Time) ([]byte, time.Time, error) {
	k.mu.Lock()
	if k.body != nil && now().Before(k.expires) {
		b, exp := k.body, k.expires
		k.mu.Unlock()
		return b, exp, nil
	}
	f := k.pending
	if f == nil {
		f = &keyFetch{done: make(chan struct{})}
		k.pending = f
		go func() {
			b, err := fetch(context.WithoutCancel(ctx))
			k.mu.Lock()
			f.body, f.err = b, err
			if err == nil {
				k.body, k.expires = b, now().Add(k.ttl)
			}
			k.pending = nil
			k.mu.Unlock()
			close(f.done)
		}()
	}
	k.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, time.Time{}, server.NewError(http.StatusServiceUnavailable, server.CodeRequestCancelled, "request cancelled")
	}
	if f.err != nil {
		return nil, time.Time{}, f.err
	}
	k.mu.Lock()
	exp := k.expires
	k.mu.Unlock()
	return f.body, exp, nil
}
