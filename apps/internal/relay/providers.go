package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/wire"

	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// Defaults of Options (and of the aegis-relay flags).
const (
	DefaultListen = "127.0.0.1:8081"
	// DefaultMaxBody bounds an encapsulated request and an encapsulated
	// response. It is aegisd's largest request body (the largest default
	// bucket, 1 MiB, plus server.BodySlack, 4 KiB: aegisd answers 413 to
	// anything longer), plus room for that request's header fields inside the
	// Binary HTTP message (aegisd's MaxHeaderBytes, 16 KiB; a real request
	// carries about 1 KiB: the PrivateToken authorization, the write-enabler,
	// If-Match, Date), plus EncapsulationOverhead for the Binary HTTP framing
	// and the OHTTP header, encapsulated key and AEAD tag: 1,070,080 bytes.
	DefaultMaxBody = domain.MiB + server.BodySlack + maxHeaderSection + EncapsulationOverhead
	// DefaultKeysCache is how long fetched key configurations are served
	// before the gateway is asked again.
	DefaultKeysCache = 60 * time.Second
	// DefaultRate and DefaultBurst are the token bucket of every client
	// connection: requests per second, and requests at once.
	DefaultRate  = 20
	DefaultBurst = 64
	// DefaultMaxInFlight bounds the requests being relayed at once (aegisd's
	// own default bound is the same, server.DefaultMaxInFlight).
	DefaultMaxInFlight = 64
	// DefaultGatewayTimeout bounds one round trip to the gateway, from
	// connecting to the end of its answer.
	DefaultGatewayTimeout = 30 * time.Second
	// DefaultRequestTimeout bounds one exchange with a client, from the end of
	// its header to the end of the answer (http.Server ReadTimeout and
	// WriteTimeout); in-flight requests get as long to finish at shutdown.
	DefaultRequestTimeout = 2 * time.Minute
)

// EncapsulationOverhead is what Oblivious HTTP and Binary HTTP add to a
// request beyond its content and header fields: the OHTTP header (key id, KEM,
// KDF and AEAD ids: 7 bytes), the encapsulated key (32 bytes for X25519, at
// most 133 for P-521), the AEAD tag (16 bytes), and the Binary HTTP framing
// indicator, method, scheme, authority and path with their length prefixes
// and the section lengths (about 400 bytes for aegisd's longest path).
const EncapsulationOverhead = 1 * domain.KiB

// maxHeaderSection is the room left for header fields inside an encapsulated
// request: aegisd's MaxHeaderBytes (a test checks that they agree).
const maxHeaderSection = 16 * domain.KiB

// Bounds of the flags and fixed server limits.
const (
	// MaxMaxBody is the largest --max-body accepted: twice domain.MaxObjectSize.
	MaxMaxBody = 2 * domain.MaxObjectSize
	// MinMaxBody is the smallest --max-body accepted.
	MinMaxBody = domain.KiB
	// ReadHeaderTimeout bounds the reading of a client's request header.
	ReadHeaderTimeout = 5 * time.Second
	// IdleTimeout closes client connections idle for that long.
	IdleTimeout = 120 * time.Second
	// MaxHeaderBytes bounds a client's request header.
	MaxHeaderBytes = 16 << 10
	// DialTimeout bounds connecting to the gateway (within the gateway timeout).
	DialTimeout = 10 * time.Second
	// GatewayIdleConns is how many idle keep-alive connections to the
	// gateway are kept, and for how long.
	GatewayIdleConns   = 64
	GatewayIdleTimeout = 90 * time.Second
)

// Options are the relay's settings (the aegis-relay flags). Zero values mean
// the defaults above, except Rate and KeysCache, where zero turns the
// per-connection limit and the key cache off.
type Options struct {
	// Listen is the TCP address to listen on.
	Listen string
	// Gateway is the base URL of the aegisd that serves the Oblivious Gateway
	// Resource (http:// or https://, an optional path prefix, no query, no
	// credentials); the relay forwards to Gateway + GatewayPath. Required.
	Gateway string
	// MaxBody bounds the body of an encapsulated request and of the
	// gateway's encapsulated response, in bytes (0: DefaultMaxBody).
	MaxBody int64
	// KeysCache is how long key configurations fetched from the gateway are
	// served to clients before being fetched again (0: every GET /ohttp-keys
	// asks the gateway; concurrent ones share one fetch).
	KeysCache time.Duration
	// Rate is the number of requests per second each client connection may
	// make, Burst how many at once (0 Rate: no per-connection limit; 0 Burst:
	// DefaultBurst).
	Rate  float64
	Burst int
	// MaxInFlight bounds the requests being relayed at once; more get 503
	// busy (0: DefaultMaxInFlight).
	MaxInFlight int
	// GatewayTimeout bounds one round trip to the gateway (0: DefaultGatewayTimeout).
	GatewayTimeout time.Duration
	// RequestTimeout bounds one exchange with a client and the wait for
	// in-flight requests at shutdown; it must exceed GatewayTimeout
	// (0: DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Log receives the start and stop lines and one line per request
	// (nothing about the client); nil means os.Stderr.
	Log io.Writer
	// LogFormat is the format of the log lines: server.LogFormatText
	// (default, also for "") or server.LogFormatJSON.
	LogFormat string
}

// ProviderSet provides an *App from Options.
var ProviderSet = wire.NewSet(
	ProvideSettings,
	ProvideGatewayClient,
	ProvideLog,
	New,
	ProvideHTTPServer,
	NewApp,
)

// Settings are Options checked, with the defaults filled in and the gateway's
// URLs derived.
type Settings struct {
	// Listen … RequestTimeout are the Options of the same names, with the
	// defaults filled in.
	Listen         string
	MaxBody        int64
	KeysCache      time.Duration
	Rate           float64
	Burst          int
	MaxInFlight    int
	GatewayTimeout time.Duration
	RequestTimeout time.Duration
	// Gateway is the base URL as configured (for the start line).
	Gateway string
	// GatewayResource is Gateway + GatewayPath: where encapsulated requests
	// are POSTed and key configurations fetched.
	GatewayResource string
}

// ProvideSettings checks o. Every error wraps domain.ErrInvalidInput and names
// the option (flag) that is wrong.
func ProvideSettings(o Options) (Settings, error) {
	s := Settings{
		Listen: o.Listen, MaxBody: o.MaxBody, KeysCache: o.KeysCache, Rate: o.Rate, Burst: o.Burst,
		MaxInFlight: o.MaxInFlight, GatewayTimeout: o.GatewayTimeout, RequestTimeout: o.RequestTimeout,
	}
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if s.MaxBody == 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.Burst == 0 {
		s.Burst = DefaultBurst
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = DefaultMaxInFlight
	}
	if s.GatewayTimeout == 0 {
		s.GatewayTimeout = DefaultGatewayTimeout
	}
	if s.RequestTimeout == 0 {
		s.RequestTimeout = DefaultRequestTimeout
	}
	bad := func(format string, a ...any) (Settings, error) {
		return Settings{}, fmt.Errorf("aegis-relay: "+format+": %w", append(a, domain.ErrInvalidInput)...)
	}
	switch {
	case s.MaxBody < MinMaxBody || s.MaxBody > MaxMaxBody:
		return bad("--max-body %d is outside [%d, %d] bytes", s.MaxBody, MinMaxBody, MaxMaxBody)
	case s.KeysCache < 0:
		return bad("--keys-cache %v is negative", s.KeysCache)
	case s.Rate < 0 || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0):
		return bad("--rate %v is not a number of requests per second >= 0", s.Rate)
	case s.Burst < 0:
		return bad("--burst %d is negative", s.Burst)
	case s.MaxInFlight < 0:
		return bad("--max-in-flight %d is negative", s.MaxInFlight)
	case s.GatewayTimeout < 0:
		return bad("--gateway-timeout %v is negative", s.GatewayTimeout)
	case s.RequestTimeout <= s.GatewayTimeout:
		return bad("--request-timeout %v must exceed --gateway-timeout %v", s.RequestTimeout, s.GatewayTimeout)
	}
	base, err := gatewayBase(o.Gateway)
	if err != nil {
		return Settings{}, err
	}
	s.Gateway = base
	s.GatewayResource = base + GatewayPath
	return s, nil
}

// gatewayBase checks a --gateway URL and returns it without a trailing slash.
func gatewayBase(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("aegis-relay: --gateway is required: the base URL of the aegisd serving the gateway "+
			"(http://HOST:PORT or https://HOST[:PORT][/PREFIX]): %w", domain.ErrInvalidInput)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("aegis-relay: --gateway %q is not a URL: %w", raw, domain.ErrInvalidInput)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("aegis-relay: --gateway %q: want an http:// or https:// URL: %w", raw, domain.ErrInvalidInput)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("aegis-relay: --gateway %q has no host: %w", raw, domain.ErrInvalidInput)
	case u.User != nil:
		return "", fmt.Errorf("aegis-relay: --gateway %q carries credentials; the relay sends none: %w", u.Redacted(), domain.ErrInvalidInput)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("aegis-relay: --gateway %q has a query or fragment: want a base URL: %w", raw, domain.ErrInvalidInput)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// GatewayClient is the one HTTP client of every request to the gateway.
type GatewayClient struct{ *http.Client }

// ProvideGatewayClient returns the client to the gateway: one Transport whose
// keep-alive connections every forwarded request shares. It follows no
// redirect, uses no proxy from the environment and asks for no compression
// (so that it adds no Accept-Encoding field); the round trip is bounded per
// request by Settings.GatewayTimeout.
func ProvideGatewayClient(s Settings) GatewayClient {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(GatewayIdleConns, s.MaxInFlight),
		MaxIdleConnsPerHost:   max(GatewayIdleConns, s.MaxInFlight),
		IdleConnTimeout:       GatewayIdleTimeout,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: s.GatewayTimeout,
		DisableCompression:    true,
	}
	return GatewayClient{&http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Log is the logger of the relay's lines (server.NewLogger: the privacy
// handler of aegisd).
type Log struct{ *slog.Logger }

// ProvideLog returns the logger writing to o.Log (or standard error) in
// o.LogFormat; an unknown format is an error wrapping domain.ErrInvalidInput.
func ProvideLog(o Options) (Log, error) {
	lg, err := server.NewLogger(o.Log, o.LogFormat)
	if err != nil {
		return Log{}, fmt.Errorf("aegis-relay: %w: %w", err, domain.ErrInvalidInput)
	}
	return Log{lg}, nil
}

// ProvideHTTPServer returns the http.Server with its timeouts and limits and
// the relay's ConnContext, which gives every client connection its own token
// bucket. Its error log is discarded: net/http writes client addresses into it.
func ProvideHTTPServer(s Settings, h *Relay) *http.Server {
	return &http.Server{
		Addr:              s.Listen,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       s.RequestTimeout,
		WriteTimeout:      s.RequestTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ConnContext:       h.ConnContext,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// App is an assembled aegis-relay.
type App struct {
	// HTTP is the server of client connections (ProvideHTTPServer).
	HTTP *http.Server
	// Handler is the relay behind it.
	Handler *Relay
	// Settings are the checked options.
	Settings Settings
	// Log receives the start and stop lines (and the request lines, through Handler).
	Log    *slog.Logger
	client GatewayClient
}

// NewApp returns the App.
func NewApp(s Settings, srv *http.Server, h *Relay, c GatewayClient, lg Log) *App {
	return &App{HTTP: srv, Handler: h, Settings: s, Log: lg.Logger, client: c}
}

// Run listens on the configured address and serves until ctx is done.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("aegis-relay: %w", err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting connections and
// waits (at most Settings.RequestTimeout) for in-flight requests to finish.
// It returns nil after a clean shutdown.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	a.Log.Info(fmt.Sprintf("aegis-relay: listening on %s, gateway %s", ln.Addr(), a.Settings.Gateway))
	defer a.client.CloseIdleConnections()
	errc := make(chan error, 1)
	go func() { errc <- a.HTTP.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("aegis-relay: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.Settings.RequestTimeout)
	defer cancel()
	err := a.HTTP.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("aegis-relay: shutdown: %w", err)
	}
	a.Log.Info("aegis-relay: stopped; " + a.Handler.counts.String())
	return nil
}
