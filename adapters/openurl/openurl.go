// Package openurl opens blob stores and spent-token ledgers by URL, in the
// manner of gocloud.dev's URLMux: each adapter registers an opener for its
// schemes in an init function (fsblob: file, memblob: memory, s3blob: s3,
// httpblob: http and https, fileledger: file, memledger: memory, redisledger:
// redis), and an application picks the adapters it offers by importing them.
//
// The registry reads only the scheme ("s3" in "s3://bucket/prefix"): the
// opener of that scheme parses the rest by its own rules. What cannot be in a
// URL — credentials, a spent mark's lifetime, whether to create a missing
// directory, an HTTP client and a token source — is passed in StoreOptions or
// LedgerOptions, never read from the URL.
package openurl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// Errors of Parse and of the Open and Check functions, wrapped with the
// details; every one also wraps domain.ErrInvalidInput.
var (
	// ErrNotURL means the value has no "SCHEME://".
	ErrNotURL = errors.New("not a URL")
	// ErrUnknownScheme means no opener is registered for the scheme.
	ErrUnknownScheme = errors.New("unknown scheme")
	// ErrTTLRequired is returned by the opener of a ledger whose spent marks
	// expire (redis) when LedgerOptions.TTL is not set.
	ErrTTLRequired = errors.New("the ledger's spent marks need a lifetime (a TTL)")
)

// URL is a store or ledger URL split at its scheme.
type URL struct {
	// Raw is the URL as given.
	Raw string
	// Scheme is its scheme, in lower case ("file" in "file://dir").
	Scheme string
	// Rest is what follows "SCHEME://", unparsed ("dir").
	Rest string
}

// Dir returns the directory of a file://DIR URL: Rest, as written (relative to
// the working directory unless it begins with "/"). An empty one is an error
// wrapping domain.ErrInvalidInput.
func (u URL) Dir() (string, error) {
	if u.Rest == "" {
		return "", fmt.Errorf("URL %q: want %s://DIR: %w", u.Raw, u.Scheme, domain.ErrInvalidInput)
	}
	return u.Rest, nil
}

// CheckEmpty checks that nothing follows "SCHEME://" (memory://); anything is
// an error wrapping domain.ErrInvalidInput.
func (u URL) CheckEmpty() error {
	if u.Rest != "" {
		return fmt.Errorf("URL %q: want %s:// with nothing after it: %w", Redact(u.Raw), u.Scheme, domain.ErrInvalidInput)
	}
	return nil
}

// maxSchemeLen bounds a scheme: far above any registered one.
const maxSchemeLen = 32

// Parse splits raw at its "SCHEME://". The scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.') is compared without regard to case, as
// RFC 3986 says. Errors wrap ErrNotURL and domain.ErrInvalidInput and show raw
// through Redact.
func Parse(raw string) (URL, error) {
	i := strings.Index(raw, "://")
	if i < 0 || !validScheme(raw[:i]) {
		return URL{}, fmt.Errorf("%q: %w: want SCHEME://…: %w", Redact(raw), ErrNotURL, domain.ErrInvalidInput)
	}
	return URL{Raw: raw, Scheme: strings.ToLower(raw[:i]), Rest: raw[i+len("://"):]}, nil
}

func validScheme(s string) bool {
	if s == "" || len(s) > maxSchemeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// Redact returns raw for messages without what may hold a secret: the user
// information becomes "REDACTED" and so does the query. A value that does not
// parse as a URL is not shown if it has '@' or '?'; one with neither a user
// nor a query is returned as it is.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.ContainsAny(raw, "@?") {
			return "(a URL with '@' or '?', not shown)"
		}
		return raw
	}
	if u.User == nil && u.RawQuery == "" {
		return raw
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

// StoreOptions are what a store opener needs besides its URL. The zero value
// opens an existing store with the credentials of the process's environment.
type StoreOptions struct {
	// Create makes a missing store (file: the directory, mode 0700) instead of
	// failing with an error wrapping domain.ErrNotFound.
	Create bool
	// Getenv reads credentials from the environment (s3: AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); nil means os.Getenv.
	Getenv func(string) string
	// Tokens hands out the token of each request (http, https: required).
	Tokens domain.TokenSource
	// HTTPClient sends the requests (http, https; nil: the adapter's default),
	// for example one that goes through an Oblivious HTTP relay.
	HTTPClient *http.Client
	// ContextTokens makes the first try of every request use the token the
	// caller attached to its context (http, https; see httpblob.Options).
	ContextTokens bool
}

// LedgerOptions are what a ledger opener needs besides its URL.
type LedgerOptions struct {
	// Create makes a missing ledger (file: the directory, mode 0700) instead of
	// failing with an error wrapping domain.ErrNotFound.
	Create bool
	// Password authenticates to the ledger's server (redis).
	Password string
	// TTL is how long a spent mark lives where marks expire (redis: required,
	// else the opener fails with ErrTTLRequired).
	TTL time.Duration
}

// StoreOpener opens the store of u, which has the scheme it was registered for.
type StoreOpener func(ctx context.Context, u URL, o StoreOptions) (domain.BlobStore, error)

// LedgerOpener opens the ledger of u, which has the scheme it was registered for.
type LedgerOpener func(ctx context.Context, u URL, o LedgerOptions) (domain.SpentLedger, error)

// Mux maps schemes to openers. The zero value is empty and ready; a Mux is
// safe for concurrent use. The package functions use the default Mux, the one
// adapters register with.
type Mux struct {
	mu      sync.RWMutex
	stores  map[string]StoreOpener
	ledgers map[string]LedgerOpener
}

// RegisterStore makes op the opener of scheme's stores. It panics if scheme is
// not a lower-case scheme, op is nil or scheme already has one, as
// gocloud.dev's URLMux does: two adapters claiming a scheme is a build mistake.
func (m *Mux) RegisterStore(scheme string, op StoreOpener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	register(&m.stores, "store", scheme, op, op == nil)
}

// RegisterLedger makes op the opener of scheme's ledgers; it panics as
// RegisterStore does.
func (m *Mux) RegisterLedger(scheme string, op LedgerOpener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	register(&m.ledgers, "ledger", scheme, op, op == nil)
}

func register[T any](openers *map[string]T, kind, scheme string, op T, isNil bool) {
	if !validScheme(scheme) || strings.ToLower(scheme) != scheme || isNil {
		panic(fmt.Sprintf("openurl: Register%s(%q): want a lower-case scheme and an opener", strings.ToUpper(kind[:1])+kind[1:], scheme))
	}
	if _, dup := (*openers)[scheme]; dup {
		panic(fmt.Sprintf("openurl: %s scheme %q registered twice", kind, scheme))
	}
	if *openers == nil {
		*openers = make(map[string]T)
	}
	(*openers)[scheme] = op
}

// StoreSchemes lists the schemes of the registered store openers, sorted.
func (m *Mux) StoreSchemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedKeys(m.stores)
}

// LedgerSchemes lists the schemes of the registered ledger openers, sorted.
func (m *Mux) LedgerSchemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedKeys(m.ledgers)
}

func sortedKeys[T any](openers map[string]T) []string {
	keys := make([]string, 0, len(openers))
	for k := range openers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lookup parses raw and finds the opener of its scheme. The error names kind,
// the (redacted) value and, for an unknown scheme, the known ones.
func lookup[T any](openers map[string]T, kind, raw string) (URL, T, error) {
	var zero T
	u, err := Parse(raw)
	if err != nil {
		return URL{}, zero, fmt.Errorf("%s %q: %w, want %s: %w", kind, Redact(raw), ErrNotURL, known(sortedKeys(openers)), domain.ErrInvalidInput)
	}
	op, ok := openers[u.Scheme]
	if !ok {
		return URL{}, zero, fmt.Errorf("%s %q: %w %q, want %s: %w", kind, Redact(raw), ErrUnknownScheme, u.Scheme, known(sortedKeys(openers)), domain.ErrInvalidInput)
	}
	return u, op, nil
}

// known lists schemes for a message: "file://, memory:// or s3://".
func known(schemes []string) string {
	if len(schemes) == 0 {
		return "none (no adapter is registered)"
	}
	s := make([]string, len(schemes))
	for i, sc := range schemes {
		s[i] = sc + "://"
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// CheckStore parses raw and checks that its scheme has a store opener, without
// opening anything. Errors are those of OpenStore before it calls an opener.
func (m *Mux) CheckStore(raw string) (URL, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, _, err := lookup(m.stores, "store", raw)
	return u, err
}

// CheckLedger is CheckStore for ledgers.
func (m *Mux) CheckLedger(raw string) (URL, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, _, err := lookup(m.ledgers, "ledger", raw)
	return u, err
}

// OpenStore opens the store of raw with the opener of its scheme and o (nil:
// the zero StoreOptions). A value without "SCHEME://" fails with ErrNotURL,
// one whose scheme has no opener with ErrUnknownScheme (the message lists the
// known schemes), both wrapping domain.ErrInvalidInput; the opener's errors
// are returned as they are.
func (m *Mux) OpenStore(ctx context.Context, raw string, o *StoreOptions) (domain.BlobStore, error) {
	m.mu.RLock()
	u, op, err := lookup(m.stores, "store", raw)
	m.mu.RUnlock()
	return open(ctx, u, op, err, o)
}

// OpenLedger is OpenStore for ledgers.
func (m *Mux) OpenLedger(ctx context.Context, raw string, o *LedgerOptions) (domain.SpentLedger, error) {
	m.mu.RLock()
	u, op, err := lookup(m.ledgers, "ledger", raw)
	m.mu.RUnlock()
	return open(ctx, u, op, err, o)
}

// open calls op with u and *o (the zero options when o is nil), unless lookup
// failed with err.
func open[O, T any](ctx context.Context, u URL, op func(context.Context, URL, O) (T, error), err error, o *O) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	if o == nil {
		o = new(O)
	}
	return op(ctx, u, *o)
}

// defaultMux is the Mux adapters register with.
var defaultMux = new(Mux)

// DefaultMux returns the Mux the package functions use and adapters register
// with.
func DefaultMux() *Mux { return defaultMux }

// RegisterStore registers op with the default Mux (Mux.RegisterStore).
func RegisterStore(scheme string, op StoreOpener) { defaultMux.RegisterStore(scheme, op) }

// RegisterLedger registers op with the default Mux (Mux.RegisterLedger).
func RegisterLedger(scheme string, op LedgerOpener) { defaultMux.RegisterLedger(scheme, op) }

// OpenStore opens raw with the default Mux (Mux.OpenStore).
func OpenStore(ctx context.Context, raw string, o *StoreOptions) (domain.BlobStore, error) {
	return defaultMux.OpenStore(ctx, raw, o)
}

// OpenLedger opens raw with the default Mux (Mux.OpenLedger).
func OpenLedger(ctx context.Context, raw string, o *LedgerOptions) (domain.SpentLedger, error) {
	return defaultMux.OpenLedger(ctx, raw, o)
}

// CheckStore checks raw with the default Mux (Mux.CheckStore).
func CheckStore(raw string) (URL, error) { return defaultMux.CheckStore(raw) }

// CheckLedger checks raw with the default Mux (Mux.CheckLedger).
func CheckLedger(raw string) (URL, error) { return defaultMux.CheckLedger(raw) }
