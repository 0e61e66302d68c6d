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
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/wire"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/apps/internal/server"
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
	DefaultTokenType  = "blind-rsa"
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown.
	ShutdownTimeout = 30 * time.Second
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
	// Store is "file://DIR" (fsblob) or "memory://" (memblob).
	Store string
	// Ledger is "file://DIR" (fileledger) or "memory://" (memledger).
	Ledger string
	// IssuerDir holds the issuer keys (created, with a key, on first start).
	IssuerDir string
	// AttestSecretFile holds the bearer secret of POST /v1/token-requests
	// (surrounding white space ignored). Empty: issuance disabled.
	AttestSecretFile string
	// TokenType is "blind-rsa" (type 0x0002, default) or "voprf" (type 0x0001).
	TokenType string
	// IssuerName is the issuer_name of the challenge (default "aegisd").
	IssuerName string
	// MaxInFlight bounds concurrent requests (0: server.DefaultMaxInFlight).
	MaxInFlight int
	// Log receives the request log; nil means os.Stderr.
	Log io.Writer
	// Sizes overrides the allowed PUT sizes (nil: domain.DefaultBuckets()).
	// Not a flag: tests use it to run the BlobStore conformance suite, whose
	// objects are not bucket-sized.
	Sizes server.SizePolicy
}

// ProviderSet provides an *App from Options.
var ProviderSet = wire.NewSet(
	ProvideStore,
	ProvideLedger,
	ProvideKeyStore,
	ProvideIssuerKeys,
	ProvideIssuer,
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

func dirOf(kind, u string) (dir string, memory bool, err error) {
	switch {
	case u == "memory://":
		return "", true, nil
	case strings.HasPrefix(u, "file://") && len(u) > len("file://"):
		return strings.TrimPrefix(u, "file://"), false, nil
	}
	return "", false, fmt.Errorf("aegisd: %s %q: want file://DIR or memory://: %w", kind, u, domain.ErrInvalidInput)
}

// ProvideStore opens the blob store of o.Store.
func ProvideStore(o Options) (domain.BlobStore, error) {
	dir, mem, err := dirOf("store", o.Store)
	if err != nil || mem {
		return memblob.Open(), err
	}
	return fsblob.Open(dir, &fsblob.Options{Create: true})
}

// ProvideLedger opens the spent-token ledger of o.Ledger.
func ProvideLedger(o Options) (domain.SpentLedger, error) {
	dir, mem, err := dirOf("ledger", o.Ledger)
	if err != nil || mem {
		return memledger.Open(), err
	}
	return fileledger.Open(dir, &fileledger.Options{Create: true})
}

// ProvideKeyStore opens (creating it if needed) the issuer key directory.
func ProvideKeyStore(o Options) (*privacypass.KeyStore, error) {
	if o.IssuerDir == "" {
		return nil, fmt.Errorf("aegisd: an issuer key directory is required: %w", domain.ErrInvalidInput)
	}
	return privacypass.OpenKeyStore(o.IssuerDir, &privacypass.KeyStoreOptions{Create: true})
}

// IssuerKeys are the issuer's keys: the current one of the configured type
// (generated on first start) and every stored key, which the origin accepts.
type IssuerKeys struct {
	Current *privacypass.IssuerKey
	All     []*privacypass.IssuerKey
}

func tokenType(name string) (privacypass.TokenType, error) {
	switch name {
	case "", "blind-rsa", "2":
		return privacypass.TypeBlindRSA, nil
	case "voprf", "1":
		return privacypass.TypeVOPRF, nil
	}
	return 0, fmt.Errorf("aegisd: token type %q: want blind-rsa or voprf: %w", name, domain.ErrInvalidInput)
}

// ProvideIssuerKeys loads the keys, generating the current one on first start.
func ProvideIssuerKeys(ks *privacypass.KeyStore, o Options) (IssuerKeys, error) {
	t, err := tokenType(o.TokenType)
	if err != nil {
		return IssuerKeys{}, err
	}
	cur, err := ks.Current(t)
	if err != nil {
		return IssuerKeys{}, err
	}
	all, err := ks.Keys()
	if err != nil {
		return IssuerKeys{}, err
	}
	return IssuerKeys{Current: cur, All: all}, nil
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
		o.AddIssuerKey(key)
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
func ProvideDirectory(ks *privacypass.KeyStore) DirectoryFunc {
	return func() (*privacypass.Directory, error) { return ks.Directory(server.TokenRequestsPath) }
}

// Log is where request log lines go.
type Log struct{ io.Writer }

// ProvideLog returns o.Log, or standard error.
func ProvideLog(o Options) Log {
	if o.Log == nil {
		return Log{os.Stderr}
	}
	return Log{o.Log}
}

// ProvideServerConfig gathers the HTTP API's configuration.
func ProvideServerConfig(o Options, store domain.BlobStore, origin *privacypass.Origin, ch Challenge, k IssuerKeys,
	issuer *privacypass.Issuer, secret AttestSecret, dir DirectoryFunc, lg Log) server.Config {
	return server.Config{
		Store:        store,
		Redeemer:     origin,
		Challenge:    ch,
		TokenKey:     k.Current.TokenKey(),
		Issuer:       issuer,
		AttestSecret: secret,
		Directory:    dir,
		Sizes:        o.Sizes,
		MaxInFlight:  o.MaxInFlight,
		Log:          lg.Writer,
	}
}

// ProvideHTTPServer returns the http.Server with its timeouts and limits. Its
// error log is discarded: net/http writes client addresses into it.
func ProvideHTTPServer(o Options, h *server.Server) *http.Server {
	addr := o.Listen
	if addr == "" {
		addr = DefaultListen
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// App is an assembled aegisd.
type App struct {
	HTTP    *http.Server
	Handler *server.Server
	Log     io.Writer
	// Issuance reports whether POST /v1/token-requests is enabled.
	Issuance bool
}

// NewApp returns the App.
func NewApp(srv *http.Server, h *server.Server, secret AttestSecret, lg Log) *App {
	return &App{HTTP: srv, Handler: h, Log: lg.Writer, Issuance: len(secret) > 0}
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
	fmt.Fprintf(a.Log, "aegisd: listening on %s (token issuance %s)\n", ln.Addr(), map[bool]string{true: "enabled", false: "disabled"}[a.Issuance])
	errc := make(chan error, 1)
	go func() { errc <- a.HTTP.Serve(ln) }()
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
	fmt.Fprintln(a.Log, "aegisd: stopped")
	return nil
}
