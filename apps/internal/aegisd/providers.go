// Package aegisd assembles the aegisd server with Wire: the providers and
// provider set (ProviderSet) of every part, the injector (Initialize, in
// wire.go, generated into wire_gen.go) and App, which runs the HTTP server
// and shuts it down gracefully.
package aegisd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/wire"

	"github.com/ai-pantheon/aegis/adapters/issuerkeys"
	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// Defaults of Options (and of the aegisd flags).
const (
	DefaultListen     = "127.0.0.1:8080"
	DefaultStore      = "file://aegisd-data/objects"
	DefaultLedger     = "file://aegisd-data/ledger"
	DefaultIssuerDir  = "aegisd-data/issuer"
	DefaultIssuerName = "aegisd"
	DefaultTokenType  = "voprf-ristretto255"
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown.
	ShutdownTimeout = 30 * time.Second
	// ConnectTimeout bounds the checks of an S3 store or a Redis ledger at
	// start (reachable, credentials accepted, bucket present).
	ConnectTimeout = 30 * time.Second
	// LedgerTTLMargin is added to the key lifetime to get the expiry of a
	// spent mark in Redis: it covers clock differences between replicas.
	LedgerTTLMargin = time.Hour
	// KeyPublishDelay is how far ahead of use a key rotated at start is
	// published: every running replica reloads the key directory (every
	// KeyReloadInterval) and accepts it before any replica issues with it.
	KeyPublishDelay = 2 * time.Minute
	// KeyReloadInterval is how often the key directory is re-read for keys
	// other replicas added.
	KeyReloadInterval = 30 * time.Second
)

// HTTP server limits.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 16 << 10
)

// Options are the server's settings (the aegisd flags).
type Options struct {
	// Listen is the TCP address to listen on.
	Listen string
	// Store is the URL of the blob store, opened by the opener its adapter
	// registered with openurl: "file://DIR" (fsblob), "memory://" (memblob)
	// or "s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false" (s3blob,
	// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
	Store string
	// Ledger is the URL of the spent-token ledger, opened likewise:
	// "file://DIR" (fileledger), "memory://" (memledger) or
	// "redis://HOST:PORT/DB" (redisledger; needs KeyLifetime).
	Ledger string
	// RedisPassword is the password of a redis:// ledger (AEGISD_REDIS_PASSWORD).
	RedisPassword string
	// KeyLifetime is how long an issuer key is accepted after its not-before
	// time (0: without end). A key past half its lifetime is replaced at start
	// by a new one, published KeyPublishDelay ahead of use. A redis:// ledger
	// keeps spent marks for KeyLifetime + LedgerTTLMargin, so it needs one.
	KeyLifetime time.Duration
	// KeyReloadInterval overrides how often the key directory is re-read
	// (0: the constant KeyReloadInterval). Not a flag: for tests.
	KeyReloadInterval time.Duration
	// IssuerDir holds the issuer keys (created, with a key, on first start).
	IssuerDir string
	// AttestSecretFile holds the bearer secret of POST /v1/token-requests
	// (surrounding white space ignored). Empty: issuance disabled.
	AttestSecretFile string
	// TokenType is "voprf-ristretto255" (type 0x0005, default; also "5"),
	// "blind-rsa" (type 0x0002; also "2") or "voprf" (type 0x0001; also "1").
	// Empty means DefaultTokenType.
	TokenType string
	// IssuerName is the issuer_name of the challenge (default "aegisd").
	IssuerName string
	// MaxInFlight bounds concurrent requests (0: server.DefaultMaxInFlight).
	MaxInFlight int
	// Log receives the log lines; nil means os.Stderr.
	Log io.Writer
	// LogFormat is the format of the log lines: server.LogFormatText
	// (default, also for "") or server.LogFormatJSON.
	LogFormat string
	// TLS is the certificate to serve HTTPS with (LoadCertificate); nil
	// serves plain HTTP.
	TLS *Certificate
	// Sizes overrides the allowed PUT sizes (nil: domain.DefaultBuckets()).
	// Not a flag: tests use it to run the BlobStore conformance suite, whose
	// objects are not bucket-sized.
	Sizes server.SizePolicy
	// DisableOHTTP turns the Oblivious HTTP gateway off (--ohttp=false): no
	// gateway keys, and server.GatewayPath answers 404. By default aegisd is
	// a gateway, its keys in IssuerDir/ohttp (GatewayKeyDir).
	DisableOHTTP bool
}

// ProviderSet provides an *App from Options.
var ProviderSet = wire.NewSet(
	ProvideURLs,
	ProvideStore,
	ProvideLedger,
	ProvideKeyStore,
	ProvideIssuerKeys,
	ProvideIssuer,
	ProvideGatewayKeys,
	ProvideChallenge,
	ProvideOrigin,
	ProvideAttestSecret,
	ProvideDirectory,
	ProvideLog,
	ProvideServerConfig,
	server.New,
	ProvideHTTPServer,
	NewApp,
)

// URLs are the --store and --ledger values, each checked to have the scheme of
// a registered opener (adapters.go imports the adapters aegisd offers).
type URLs struct{ Store, Ledger openurl.URL }

// ProvideURLs checks both URLs before anything is opened, so that a value with
// an unknown scheme stops aegisd with nothing created. The error names the
// value and the known schemes.
func ProvideURLs(o Options) (URLs, error) {
	st, err := openurl.CheckStore(o.Store)
	if err != nil {
		return URLs{}, fmt.Errorf("aegisd: %w", err)
	}
	l, err := openurl.CheckLedger(o.Ledger)
	if err != nil {
		return URLs{}, fmt.Errorf("aegisd: %w", err)
	}
	return URLs{Store: st, Ledger: l}, nil
}

// ProvideStore opens the blob store of u.Store through its scheme's opener
// (a file:// directory is created if missing) and checks its format
// (server.PrepareStore): an empty store gets the store-format marker; a store
// written by an aegisd from before write-enablers is refused, untouched, with
// a one-line error that says what to do. An s3:// store is checked at once
// (endpoint reachable, credentials from the environment accepted, bucket
// present); any failure is an error, never a fallback to another store.
func ProvideStore(u URLs) (domain.BlobStore, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
	defer cancel()
	st, err := openurl.OpenStore(ctx, u.Store.Raw, &openurl.StoreOptions{Create: true})
	if err != nil {
		return nil, fmt.Errorf("aegisd: store: %w", err)
	}
	if err := server.PrepareStore(ctx, st); err != nil {
		if c, ok := st.(io.Closer); ok {
			_ = c.Close()
		}
		if errors.Is(err, server.ErrLegacyStore) {
			return nil, fmt.Errorf("aegisd: store %s: %w; point --store at a new, empty store and move the vaults "+
				"over with the aegis CLI (docs/deploy.md, \"Stores written before write-enablers\")", u.Store.Raw, err)
		}
		return nil, fmt.Errorf("aegisd: store %s: %w", u.Store.Raw, err)
	}
	return st, nil
}

// ProvideLedger opens the spent-token ledger of u.Ledger through its scheme's
// opener (a file:// directory is created if missing). A redis:// ledger gets
// o.RedisPassword, keeps its marks for o.KeyLifetime + LedgerTTLMargin (so it
// needs a key lifetime) and is checked at once (reachable, password accepted).
func ProvideLedger(u URLs, o Options) (domain.SpentLedger, error) {
	lo := &openurl.LedgerOptions{Create: true, Password: o.RedisPassword}
	if o.KeyLifetime > 0 {
		lo.TTL = o.KeyLifetime + LedgerTTLMargin
	}
	ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
	defer cancel()
	l, err := openurl.OpenLedger(ctx, u.Ledger.Raw, lo)
	if errors.Is(err, openurl.ErrTTLRequired) {
		return nil, fmt.Errorf("aegisd: ledger %s: a %s:// ledger needs a key lifetime (--key-lifetime): its spent marks expire with the issuer key: %w",
			u.Ledger.Raw, u.Ledger.Scheme, domain.ErrInvalidInput)
	}
	if err != nil {
		return nil, fmt.Errorf("aegisd: ledger: %w", err)
	}
	return l, nil
}

// ProvideKeyStore opens (creating it if needed) the issuer key directory.
func ProvideKeyStore(o Options) (*issuerkeys.KeyStore, error) {
	if o.IssuerDir == "" {
		return nil, fmt.Errorf("aegisd: an issuer key directory is required: %w", domain.ErrInvalidInput)
	}
	return issuerkeys.OpenKeyStore(o.IssuerDir, &issuerkeys.KeyStoreOptions{Create: true})
}

// IssuerKeys are the issuer's keys: the current one of the configured type
// (generated on first start) and every stored key still in its lifetime,
// which the origin accepts.
type IssuerKeys struct {
	Current *privacypass.IssuerKey
	All     []*privacypass.IssuerKey
	// Lifetime is Options.KeyLifetime (0: keys without end).
	Lifetime time.Duration
}

// NotAfter returns the end of k's lifetime, or the zero time.
func (ik IssuerKeys) NotAfter(k *privacypass.IssuerKey) time.Time {
	if ik.Lifetime <= 0 {
		return time.Time{}
	}
	return k.NotBefore().Add(ik.Lifetime)
}

// tokenType returns the token type of a --token-type value ("" is
// DefaultTokenType).
func tokenType(name string) (privacypass.TokenType, error) {
	if name == "" {
		name = DefaultTokenType
	}
	switch name {
	case "blind-rsa", "2":
		return privacypass.TypeBlindRSA, nil
	case "voprf", "1":
		return privacypass.TypeVOPRF, nil
	case "voprf-ristretto255", "5":
		return privacypass.TypeVOPRFRistretto255, nil
	}
	return 0, fmt.Errorf("aegisd: token type %q: want blind-rsa, voprf-ristretto255 or voprf: %w", name, domain.ErrInvalidInput)
}

// ProvideIssuerKeys loads the keys, generating the current one on first start.
// With a key lifetime, a current key past half its lifetime gets a successor
// (unless one is already waiting), in force KeyPublishDelay from now; a
// current key past its whole lifetime is replaced at once.
func ProvideIssuerKeys(ks *issuerkeys.KeyStore, o Options) (IssuerKeys, error) {
	t, err := tokenType(o.TokenType)
	if err != nil {
		return IssuerKeys{}, err
	}
	if o.KeyLifetime < 0 {
		return IssuerKeys{}, fmt.Errorf("aegisd: key lifetime %v is negative: %w", o.KeyLifetime, domain.ErrInvalidInput)
	}
	if o.KeyLifetime > 0 && o.KeyLifetime < 4*KeyPublishDelay {
		return IssuerKeys{}, fmt.Errorf("aegisd: key lifetime %v is shorter than %v: %w", o.KeyLifetime, 4*KeyPublishDelay, domain.ErrInvalidInput)
	}
	ik := IssuerKeys{Lifetime: o.KeyLifetime}
	cur, err := ks.Current(t)
	if err != nil {
		return IssuerKeys{}, err
	}
	if now := time.Now(); ik.Lifetime > 0 {
		all, err := ks.Keys()
		if err != nil {
			return IssuerKeys{}, err
		}
		waiting := false
		for _, k := range all {
			waiting = waiting || (k.Type() == t && k.NotBefore().After(now))
		}
		switch age := now.Sub(cur.NotBefore()); {
		case age >= ik.Lifetime-KeyPublishDelay:
			if cur, err = ks.Rotate(t, now); err != nil {
				return IssuerKeys{}, err
			}
		case age >= ik.Lifetime/2 && !waiting:
			if _, err = ks.Rotate(t, now.Add(KeyPublishDelay)); err != nil {
				return IssuerKeys{}, err
			}
		}
	}
	all, err := ks.Keys()
	if err != nil {
		return IssuerKeys{}, err
	}
	ik.Current = cur
	for _, k := range all {
		if na := ik.NotAfter(k); na.IsZero() || time.Now().Before(na) {
			ik.All = append(ik.All, k)
		}
	}
	return ik, nil
}

// ProvideIssuer returns the issuer holding every key.
func ProvideIssuer(k IssuerKeys) *privacypass.Issuer { return privacypass.NewIssuer(k.All...) }

// Challenge is the encoded TokenChallenge of every 401: the configured token
// type, the issuer name, no redemption context and no origin info, so that
// it carries nothing per client and tokens can be fetched ahead of time.
type Challenge []byte

// ProvideChallenge encodes the challenge.
func ProvideChallenge(o Options, k IssuerKeys) (Challenge, error) {
	name := o.IssuerName
	if name == "" {
		name = DefaultIssuerName
	}
	return (&privacypass.TokenChallenge{TokenType: k.Current.Type(), IssuerName: name}).MarshalBinary()
}

// ProvideOrigin returns the origin that verifies tokens of every issuer key
// for the challenge and spends them in the ledger.
func ProvideOrigin(l domain.SpentLedger, k IssuerKeys, ch Challenge) (*privacypass.Origin, error) {
	o := privacypass.NewOrigin(l)
	for _, key := range k.All {
		o.AddIssuerKeyUntil(key, k.NotAfter(key))
	}
	if err := o.AcceptChallenge(ch); err != nil {
		return nil, err
	}
	return o, nil
}

// AttestSecret is the bearer secret of the token-request endpoint.
type AttestSecret []byte

// ProvideAttestSecret reads the secret file, if any.
func ProvideAttestSecret(o Options) (AttestSecret, error) {
	if o.AttestSecretFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(o.AttestSecretFile)
	if err != nil {
		return nil, fmt.Errorf("aegisd: attestation secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 16 {
		return nil, fmt.Errorf("aegisd: attestation secret in %s is shorter than 16 characters: %w", o.AttestSecretFile, domain.ErrInvalidInput)
	}
	return AttestSecret(s), nil
}

// DirectoryFunc returns the issuer directory.
type DirectoryFunc func() (*privacypass.Directory, error)

// ProvideDirectory lists the key store's keys, with the token-request path as
// issuer-request-uri.
func ProvideDirectory(ks *issuerkeys.KeyStore) DirectoryFunc {
	return func() (*privacypass.Directory, error) { return ks.Directory(server.TokenRequestsPath) }
}

// Log is the logger of aegisd (server.NewLogger: the privacy handler).
type Log struct{ *slog.Logger }

// ProvideLog returns the logger writing to o.Log (or standard error) in
// o.LogFormat.
func ProvideLog(o Options) (Log, error) {
	lg, err := server.NewLogger(o.Log, o.LogFormat)
	if err != nil {
		return Log{}, fmt.Errorf("aegisd: %w: %w", err, domain.ErrInvalidInput)
	}
	return Log{lg}, nil
}

// ProvideServerConfig gathers the HTTP API's configuration.
func ProvideServerConfig(o Options, store domain.BlobStore, origin *privacypass.Origin, ch Challenge, k IssuerKeys,
	issuer *privacypass.Issuer, secret AttestSecret, dir DirectoryFunc, lg Log, gw *GatewayKeys) server.Config {
	var ohttpKeys func() []*ohttp.KeyConfig
	if gw.Gateway != nil {
		ohttpKeys = gw.Configs
	}
	return server.Config{
		OHTTP:           gw.Gateway,
		OHTTPKeys:       ohttpKeys,
		OHTTPKeysMaxAge: gw.MaxAge(),
		Store:           store,
		Redeemer:        origin,
		Challenge:       ch,
		TokenKey:        k.Current.TokenKey(),
		Issuer:          issuer,
		AttestSecret:    secret,
		Directory:       dir,
		Sizes:           o.Sizes,
		MaxInFlight:     o.MaxInFlight,
		Log:             lg.Logger,
		KeyNotAfter:     k.NotAfter(k.Current),
	}
}

// ProvideHTTPServer returns the http.Server with its timeouts and limits, and
// the TLS configuration of o.TLS if set. Its error log is discarded: net/http
// writes client addresses into it.
func ProvideHTTPServer(o Options, h *server.Server) *http.Server {
	addr := o.Listen
	if addr == "" {
		addr = DefaultListen
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if o.TLS != nil {
		srv.TLSConfig = tlsConfig(o.TLS)
	}
	return srv
}

// App is an assembled aegisd.
type App struct {
	HTTP    *http.Server
	Handler *server.Server
	Log     *slog.Logger
	// Issuance reports whether POST /v1/token-requests is enabled.
	Issuance bool

	keys    *issuerkeys.KeyStore
	origin  *privacypass.Origin
	issuer  IssuerKeys
	gateway *GatewayKeys
	closers []io.Closer // the store and the ledger, when they hold connections or files
	reload  time.Duration
	tls     *Certificate
}

// NewApp returns the App.
func NewApp(o Options, srv *http.Server, h *server.Server, secret AttestSecret, lg Log, ks *issuerkeys.KeyStore,
	origin *privacypass.Origin, k IssuerKeys, gw *GatewayKeys, store domain.BlobStore, ledger domain.SpentLedger) *App {
	a := &App{HTTP: srv, Handler: h, Log: lg.Logger, Issuance: len(secret) > 0, keys: ks, origin: origin, issuer: k, gateway: gw,
		reload: KeyReloadInterval, tls: o.TLS}
	if o.KeyReloadInterval > 0 {
		a.reload = o.KeyReloadInterval
	}
	for _, c := range []any{store, ledger} {
		if c, ok := c.(io.Closer); ok {
			a.closers = append(a.closers, c)
		}
	}
	return a
}

// reloadKeys adds to the origin the keys other replicas stored in the shared
// key directory since the start (a key rotated there is published ahead of
// its use, see KeyPublishDelay), and gives the OHTTP gateway the gateway keys
// now stored and within their lifetime, until ctx is done.
func (a *App) reloadKeys(ctx context.Context) {
	t := time.NewTicker(a.reload)
	defer t.Stop()
	known := make(map[[privacypass.KeyIDSize]byte]bool, len(a.issuer.All))
	for _, k := range a.issuer.All {
		known[k.ID()] = true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.gateway.Reload(time.Now()); err != nil {
			a.Log.Warn("aegisd: reloading OHTTP gateway keys failed", "error", err.Error())
		}
		all, err := a.keys.Keys()
		if err != nil {
			a.Log.Warn("aegisd: reloading issuer keys failed", "error", err.Error())
			continue
		}
		for _, k := range all {
			if !known[k.ID()] {
				known[k.ID()] = true
				a.origin.AddIssuerKeyUntil(k, a.issuer.NotAfter(k))
			}
		}
	}
}

// Run listens on the configured address and serves until ctx is done.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("aegisd: %w", err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting connections and
// waits (at most ShutdownTimeout) for in-flight requests to finish. It returns
// nil after a clean shutdown.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	gw := "OHTTP gateway disabled"
	if a.gateway != nil && a.gateway.Gateway != nil {
		gw = "OHTTP gateway at " + server.GatewayPath + ", key configurations " + a.gateway.Describe()
	}
	scheme := "plain HTTP"
	if a.HTTP.TLSConfig != nil {
		scheme = "HTTPS"
	}
	a.Log.Info(fmt.Sprintf("aegisd: listening on %s (%s; token issuance %s; %s)", ln.Addr(), scheme, map[bool]string{true: "enabled", false: "disabled"}[a.Issuance], gw))
	if a.HTTP.TLSConfig == nil && beyondLoopback(ln.Addr()) {
		a.Log.Warn(fmt.Sprintf("aegisd: listening on %s beyond loopback without TLS: tokens, write-enablers and objects cross the network in plain HTTP; "+
			"give --tls-cert-file and --tls-key-file, or put a TLS-terminating proxy in front", ln.Addr()))
	}
	defer a.close()
	rctx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	if a.keys != nil && a.origin != nil {
		go a.reloadKeys(rctx)
	}
	errc := make(chan error, 1)
	go func() {
		if a.HTTP.TLSConfig != nil {
			errc <- a.HTTP.ServeTLS(ln, "", "") // the pair comes from TLSConfig.GetCertificate
			return
		}
		errc <- a.HTTP.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("aegisd: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := a.HTTP.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("aegisd: shutdown: %w", err)
	}
	a.Log.Info("aegisd: stopped")
	return nil
}

func (a *App) close() {
	for _, c := range a.closers {
		if err := c.Close(); err != nil {
			a.Log.Warn("aegisd: closing failed", "error", err.Error())
		}
	}
}
