// Package cli is the aegis command-line tool: the providers and provider set
// (ProviderSet) of its back ends, the injector (Initialize, in wire.go,
// generated into wire_gen.go), the commands (urfave/cli v3) and Main, which
// maps errors to exit codes. See docs/cli.md.
package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/wire"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Defaults of the global flags.
const (
	DefaultVault     = "./aegis-vault"
	DefaultVaultName = "default"
)

// Options are the back-end settings of the global flags.
type Options struct {
	// Vault is the directory of a local vault.
	Vault string
	// Remote is the base URL of an aegisd; empty means a local vault.
	Remote string
	// VaultName selects the vault on the server (vault.Config.Name).
	VaultName string
	// AttestSecretFile holds the bearer secret of the server's token issuer.
	AttestSecretFile string
	// ConfigDir is the client's configuration directory ("" means
	// DefaultConfigDir()): the keys of remote vaults.
	ConfigDir string
	// Window is the Cloak's time window (0: anonymize.DefaultWindow).
	Window time.Duration
	// Hold holds the requests to a remote vault until window boundaries; without
	// it they leave at once (the interactive default).
	Hold bool
	// Cover is the number of cover requests per window.
	Cover int
	// Relay is the URL of an Oblivious HTTP relay; empty: requests go to
	// Remote directly. With a relay, Remote is never dialled: it only names
	// the target inside the encapsulated requests.
	Relay string
	// RelayPins are SHA-256 digests of acceptable gateway key
	// configurations; none: trust on first use (ConfigDir.TrustedKeys).
	RelayPins [][sha256.Size]byte
}

// cloakConfig is the Cloak's configuration from the options: requests leave at
// once unless Hold is set, and then wait for window boundaries on a remote
// store (a local directory needs no holding: its files are dated to their
// window either way).
func (o Options) cloakConfig() anonymize.Config {
	c := anonymize.Config{Window: o.Window, Cover: o.Cover, Release: anonymize.ReleaseNow}
	if o.Hold {
		c.Release = anonymize.ReleaseAuto
	}
	return c
}

// Backend opens vaults through the Cloak.
type Backend interface {
	// Create makes a new vault; kdf "" is the default (PBKDF2-SHA256).
	Create(ctx context.Context, passphrase []byte, kdf string) (*anonymize.Cloak, error)
	// Open opens the vault. A missing vault fails with an error wrapping
	// domain.ErrNotFound that says to run `aegis init`.
	Open(ctx context.Context, passphrase []byte) (*anonymize.Cloak, error)
	// Tidy removes what a write killed before it finished left in the store
	// (objects the committed manifest does not reference), where that is safe.
	Tidy(ctx context.Context, v *vault.Vault) error
	// Where names the vault for messages.
	Where() string
}

// ProviderSet provides a Backend from Options.
var ProviderSet = wire.NewSet(
	ProvideCrypto,
	ProvideLocal,
	ProvideRemote,
	ProvideBackend,
)

// ProvideCrypto returns the standard crypto suite (default KDF policy).
func ProvideCrypto() domain.Crypto { return suite.Default() }

// Local is a vault in a directory: a file://DIR store (fsblob), opened through
// openurl.
type Local struct {
	Dir    string
	Crypto domain.Crypto
	Cloak  anonymize.Config
	// Notices, if set, is told once when a write waits for another process's
	// writer lock.
	Notices io.Writer

	waitNotice sync.Once
}

// ProvideLocal returns the local back end of o.Vault.
func ProvideLocal(o Options, c domain.Crypto) *Local {
	dir := o.Vault
	if dir == "" {
		dir = DefaultVault
	}
	return &Local{Dir: dir, Crypto: c, Cloak: o.cloakConfig()}
}

// Remote is a vault on an aegisd: an http(s):// store (httpblob), opened
// through openurl, reached directly or through an Oblivious HTTP relay.
type Remote struct {
	URL              string
	Name             string
	AttestSecretFile string
	Config           ConfigDir
	Crypto           domain.Crypto
	Cloak            anonymize.Config
	// Relay is the URL of the relay every request goes through ("": none).
	Relay string
	// RelayPins pin the gateway's key configuration (none: trust on first use).
	RelayPins [][sha256.Size]byte
	secret    []byte // AttestSecret's, once read
	// Notices, if set, is told when a gateway key is trusted (first use or a
	// vouched rotation).
	Notices io.Writer

	client *http.Client // the relay client, made once (nil: direct)
}

// ProvideRemote returns the remote back end of o.Remote (it sends nothing).
func ProvideRemote(o Options, c domain.Crypto) *Remote {
	name := o.VaultName
	if name == "" {
		name = DefaultVaultName
	}
	return &Remote{URL: strings.TrimRight(o.Remote, "/"), Name: name, AttestSecretFile: o.AttestSecretFile, Config: ConfigDir{Dir: o.ConfigDir}, Crypto: c, Cloak: o.cloakConfig(),
		Relay: o.Relay, RelayPins: o.RelayPins}
}

// ProvideBackend picks the remote back end when o.Remote is set, else the local one.
func ProvideBackend(o Options, l *Local, r *Remote) (Backend, error) {
	if o.Remote == "" {
		return l, nil
	}
	if r.AttestSecretFile == "" {
		return nil, usageErrorf("--remote needs --attest-secret-file (or AEGIS_ATTEST_SECRET_FILE)")
	}
	if _, err := r.AttestSecret(); err != nil {
		return nil, err // checked before anything is sent or written
	}
	if r.Config.Dir == "" {
		d, err := DefaultConfigDir()
		if err != nil {
			return nil, err
		}
		r.Config.Dir = d
	}
	return r, nil
}

var errNoVault = errors.New("run `aegis init` to create one")

// store opens the directory store through openurl (file://DIR, fsblob),
// creating the directory (mode 0700) when create is set.
func (l *Local) store(ctx context.Context, create bool) (domain.BlobStore, error) {
	return openurl.OpenStore(ctx, "file://"+l.Dir, &openurl.StoreOptions{Create: create})
}

// lockWait (vault.Config.OnLockWait) tells Notices, once, that a write waits
// for another writer, and for which lock.
func (l *Local) lockWait(timeout time.Duration) {
	if l.Notices == nil {
		return
	}
	l.waitNotice.Do(func() {
		fmt.Fprintf(l.Notices, "aegis: waiting for another aegis process to release the vault's writer lock (%s); up to %s\n", fsblob.WriterLockPath(l.Dir), timeout)
	})
}

// Create implements Backend: a new vault in the directory, which must hold
// no other.
func (l *Local) Create(ctx context.Context, passphrase []byte, kdf string) (*anonymize.Cloak, error) {
	st, err := l.store(ctx, true)
	if err != nil {
		return nil, err
	}
	return anonymize.Create(ctx, vault.Config{Store: st, Crypto: l.Crypto, KDF: kdf, OnLockWait: l.lockWait}, passphrase, l.Cloak)
}

// Open implements Backend.
func (l *Local) Open(ctx context.Context, passphrase []byte) (*anonymize.Cloak, error) {
	st, err := l.store(ctx, false)
	var c *anonymize.Cloak
	if err == nil {
		c, err = anonymize.Open(ctx, vault.Config{Store: st, Crypto: l.Crypto, OnLockWait: l.lockWait}, passphrase, l.Cloak)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("no vault at %s (%w): %w", l.Dir, errNoVault, domain.ErrNotFound)
	}
	return c, err
}

// Tidy implements Backend: Vault.Sweep, under the directory's writer lock, so
// another writer's objects are never taken. The directory holds one vault.
func (l *Local) Tidy(ctx context.Context, v *vault.Vault) error {
	_, err := v.Sweep(ctx)
	return err
}

// Where implements Backend.
func (l *Local) Where() string { return l.Dir }

// AttestSecret reads the attestation secret (surrounding white space
// ignored), once: ProvideBackend reads it before anything is sent.
func (r *Remote) AttestSecret() ([]byte, error) {
	if r.secret != nil {
		return r.secret, nil
	}
	b, err := os.ReadFile(r.AttestSecretFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, usageErrorf("the attestation secret file %s (--attest-secret-file) cannot be read: %v", r.AttestSecretFile, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, usageErrorf("the attestation secret file %s (--attest-secret-file) is empty", r.AttestSecretFile)
	}
	r.secret = []byte(s)
	return r.secret, nil
}

// HTTPClient returns the client of every request to the server: nil (the
// default, direct) without a relay; with one, a client that sends each
// request through it, encapsulated to the gateway's key configuration, which
// it fetches through the relay and checks once (httpblob.NewRelayClient:
// pinned, or trusted on first use and recorded in the configuration
// directory, new keys vouched for by a trusted one).
func (r *Remote) HTTPClient(ctx context.Context) (*http.Client, error) {
	if r.Relay == "" || r.client != nil {
		return r.client, nil
	}
	c, err := httpblob.NewRelayClient(ctx, r.Relay, r.URL, &httpblob.RelayOptions{
		Pins: r.RelayPins, Trust: r.Config,
		OnTrust: func(gateway string, added []*ohttp.KeyConfig, first bool) {
			if r.Notices == nil {
				return
			}
			how := "a rotation the gateway confirmed through a trusted key"
			if first {
				how = "first use"
			}
			for _, k := range added {
				b, _ := k.MarshalBinary()
				fmt.Fprintf(r.Notices, "aegis: trusting the gateway key of %s: id %d sha256:%x (%s), recorded in %s\n",
					gateway, k.KeyID, sha256.Sum256(b), how, filepath.Join(r.Config.Dir, relayKeysFile))
			}
		},
	})
	if errors.Is(err, httpblob.ErrGatewayKey) && len(r.RelayPins) == 0 {
		err = fmt.Errorf("%w (the trusted keys are in %s; only if aegisd's operator replaced its gateway keys, remove the entry of %s there to trust the offered ones anew)",
			err, filepath.Join(r.Config.Dir, relayKeysFile), r.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", r.Relay, err)
	}
	r.client = c
	return c, nil
}

// TokenPool returns a pool that fetches blinded token batches from the server's
// issuer (httpblob.NewTokenPool with opts, which may be nil), through the
// relay if there is one.
func (r *Remote) TokenPool(ctx context.Context, opts *httpblob.PoolOptions) (*privacypass.Pool, error) {
	s, err := r.AttestSecret()
	if err != nil {
		return nil, err
	}
	hc, err := r.HTTPClient(ctx)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &httpblob.PoolOptions{}
	}
	if hc != nil {
		o := *opts
		o.Client = hc
		opts = &o
	}
	return httpblob.NewTokenPool(ctx, r.URL, s, opts)
}

// VaultKey returns the key of the vault (its vault.Config.Locator) from the
// configuration directory; with create set, a vault without one gets a new key,
// recorded before anything is sent.
func (r *Remote) VaultKey(create bool) ([]byte, error) {
	k, err := r.Config.VaultKey(r.URL, r.Name)
	if errors.Is(err, domain.ErrNotFound) && create {
		k = NewVaultKey()
		err = r.Config.SaveVaultKey(r.URL, r.Name, k)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("no key for vault %q at %s in %s (%w; or, if it exists, copy its key from a machine that has it: `aegis vault-key export` there, `aegis vault-key import` here): %w",
			r.Name, r.URL, r.Config.Dir, errNoVault, domain.ErrNotFound)
	}
	return k, err
}

func (r *Remote) config(ctx context.Context, kdf string, create bool) (vault.Config, anonymize.Config, error) {
	key, err := r.VaultKey(create)
	if err != nil {
		return vault.Config{}, anonymize.Config{}, err
	}
	host, err := r.Config.HostID()
	if err != nil {
		return vault.Config{}, anonymize.Config{}, err
	}
	pool, err := r.TokenPool(ctx, &httpblob.PoolOptions{Batch: 64})
	if err != nil {
		return vault.Config{}, anonymize.Config{}, err
	}
	hc, err := r.HTTPClient(ctx)
	if err != nil {
		return vault.Config{}, anonymize.Config{}, err
	}
	store, err := openurl.OpenStore(ctx, r.URL, &openurl.StoreOptions{Tokens: pool, ContextTokens: true, HTTPClient: hc})
	if err != nil {
		return vault.Config{}, anonymize.Config{}, err
	}
	// The Cloak's Authorize stage gives every request its token from the same
	// pool; httpblob takes fresh ones from it only to resend.
	cc := r.Cloak
	cc.Tokens = pool
	// The server holds other clients' vaults: Create does not expect it empty.
	return vault.Config{
		Store: store, Crypto: r.Crypto, Name: r.Name, KDF: kdf, SharedStore: true,
		Locator: key, Holder: Holder(host), HolderGone: HolderGone(host),
	}, cc, nil
}

// Create implements Backend.
func (r *Remote) Create(ctx context.Context, passphrase []byte, kdf string) (*anonymize.Cloak, error) {
	vc, cc, err := r.config(ctx, kdf, true)
	if err != nil {
		return nil, err
	}
	return anonymize.Create(ctx, vc, passphrase, cc)
}

// Open implements Backend.
func (r *Remote) Open(ctx context.Context, passphrase []byte) (*anonymize.Cloak, error) {
	vc, cc, err := r.config(ctx, "", false)
	if err != nil {
		return nil, err
	}
	c, err := anonymize.Open(ctx, vc, passphrase, cc)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("no vault named %q at %s (%w): %w", r.Name, r.URL, errNoVault, domain.ErrNotFound)
	}
	return c, err
}

// Tidy implements Backend: nothing. The server's store has no writer lock and
// may hold other vaults, so nothing unreferenced can be told to be garbage.
func (r *Remote) Tidy(context.Context, *vault.Vault) error { return nil }

// Where implements Backend.
func (r *Remote) Where() string {
	if r.Relay != "" {
		return fmt.Sprintf("vault %q at %s through relay %s", r.Name, r.URL, r.Relay)
	}
	return fmt.Sprintf("vault %q at %s", r.Name, r.URL)
}

var (
	_ Backend = (*Local)(nil)
	_ Backend = (*Remote)(nil)
)
