package s3blob

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// CASMode says how CompareAndSwap is made atomic.
type CASMode string

const (
	// CASConditional (the default) uses conditional writes: PUT with
	// If-None-Match: * to create, If-Match: "<etag>" to swap. The server decides,
	// so it is atomic for any number of writers in any number of processes. Open
	// checks that the server honours both headers and refuses to start otherwise.
	CASConditional CASMode = "conditional"
	// CASSingleProcess is the fallback for servers without conditional writes: the
	// version is compared and the object written under a lock held in this
	// process only. It is correct only when this Store is the one writer of its
	// bucket and prefix; never use it with several aegisd replicas (doc.go).
	CASSingleProcess CASMode = "single-process"
)

// Defaults of Config.
const (
	DefaultEndpoint       = "s3.amazonaws.com"
	DefaultRegion         = "us-east-1"
	DefaultRequestTimeout = time.Minute
	DefaultConnectTimeout = 5 * time.Second
)

// Environment variables ConfigFromEnv reads the credentials from.
const (
	EnvAccessKey    = "AWS_ACCESS_KEY_ID"
	EnvSecretKey    = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken = "AWS_SESSION_TOKEN"
)

// maxPrefixLen bounds Config.Prefix: an S3 key is at most 1024 bytes, and an
// object key is the prefix, "/" and 64 hex digits.
const maxPrefixLen = 512

// Config says where the store's objects live and how to reach them. Its String
// and GoString methods leave the secret key and session token out.
type Config struct {
	// Endpoint is the server's host:port (or host), without a scheme.
	Endpoint string
	// Region is the bucket's region (default DefaultRegion).
	Region string
	// Bucket must exist: Open does not create it.
	Bucket string
	// Prefix is an optional key prefix, stored without a leading or trailing
	// slash: objects are "<Prefix>/<64 hex of the id>" (just the id when empty).
	Prefix string
	// Secure turns TLS on (ParseURL: on unless tls=false).
	Secure bool
	// AccessKey and SecretKey are required; SessionToken is for temporary
	// credentials. ConfigFromEnv fills them from the standard AWS variables.
	AccessKey, SecretKey, SessionToken string
	// CAS selects how CompareAndSwap is done; empty means CASConditional.
	CAS CASMode
	// RequestTimeout bounds each store operation, retries included (default
	// DefaultRequestTimeout), on top of the caller's context.
	RequestTimeout time.Duration
	// ConnectTimeout bounds each TCP connect (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
}

// String describes the configuration without secrets: its URL and access key.
func (c Config) String() string {
	key := "no access key"
	if c.AccessKey != "" {
		key = "access key " + c.AccessKey
	}
	return c.url() + " (" + key + ")"
}

// url is the s3:// URL that ParseURL turns back into c's location.
func (c Config) url() string {
	q := url.Values{}
	q.Set("endpoint", c.Endpoint)
	q.Set("region", c.Region)
	if !c.Secure {
		q.Set("tls", "false")
	}
	if c.CAS != "" && c.CAS != CASConditional {
		q.Set("cas", string(c.CAS))
	}
	u := url.URL{Scheme: "s3", Host: c.Bucket, RawQuery: q.Encode()}
	if c.Prefix != "" {
		u.Path = "/" + c.Prefix
	}
	return u.String()
}

// GoString is String, so that %#v prints no secret either.
func (c Config) GoString() string { return "s3blob.Config(" + c.String() + ")" }

// ParseURL parses "s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&tls=false&cas=MODE".
// Every query parameter is optional: endpoint defaults to DefaultEndpoint,
// region to DefaultRegion, tls to true, cas to "conditional" (the other mode is
// "single-process", see CASSingleProcess). Unknown or repeated parameters are
// errors. Credentials are never taken from the URL (a user:password part is an
// error) and ParseURL leaves them empty: ConfigFromEnv adds them. Errors wrap
// domain.ErrInvalidInput.
func ParseURL(raw string) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("aegis/s3blob: URL %q: %s: %w", redactURL(raw), fmt.Sprintf(format, args...), domain.ErrInvalidInput)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "s3" {
		return bad("the scheme must be s3://")
	}
	if u.Opaque != "" {
		return bad("want s3://BUCKET[/PREFIX]")
	}
	if u.User != nil {
		return bad("credentials do not belong in the URL; set %s and %s", EnvAccessKey, EnvSecretKey)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("a fragment (#...) is not allowed")
	}
	cfg := Config{
		Endpoint: DefaultEndpoint,
		Region:   DefaultRegion,
		Bucket:   u.Host,
		Secure:   true,
		CAS:      CASConditional,
	}
	if u.RawPath != "" {
		return bad("the prefix may hold only letters, digits, '.', '_', '-' and '/', unescaped")
	}
	cfg.Prefix = strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("malformed query: %v", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		if len(vs) != 1 {
			return bad("parameter %q given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "tls":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("tls=%q is not true or false", v)
			}
			cfg.Secure = b
		case "cas":
			cfg.CAS = CASMode(v)
		default:
			return bad("unknown parameter %q (known: endpoint, region, tls, cas)", k)
		}
	}
	if err := cfg.validateLocation(); err != nil {
		return Config{}, fmt.Errorf("aegis/s3blob: URL %q: %w", redactURL(raw), err)
	}
	return cfg, nil
}

// ConfigFromEnv parses rawURL with ParseURL and takes the credentials from the
// environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (both required) and
// AWS_SESSION_TOKEN (optional). getenv is os.Getenv when nil.
func ConfigFromEnv(rawURL string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return Config{}, err
	}
	cfg.AccessKey, cfg.SecretKey, cfg.SessionToken = getenv(EnvAccessKey), getenv(EnvSecretKey), getenv(EnvSessionToken)
	var missing []string
	if cfg.AccessKey == "" {
		missing = append(missing, EnvAccessKey)
	}
	if cfg.SecretKey == "" {
		missing = append(missing, EnvSecretKey)
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("aegis/s3blob: S3 credentials: %s not set in the environment: %w", strings.Join(missing, " and "), domain.ErrInvalidInput)
	}
	return cfg, nil
}

// withDefaults returns c with empty optional fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.CAS == "" {
		c.CAS = CASConditional
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

// validate checks a complete configuration (after withDefaults).
func (c Config) validate() error {
	if err := c.validateLocation(); err != nil {
		return fmt.Errorf("aegis/s3blob: config %s: %w", c, err)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return fmt.Errorf("aegis/s3blob: config %s: an access key and a secret key are required (%s, %s): %w", c, EnvAccessKey, EnvSecretKey, domain.ErrInvalidInput)
	}
	return nil
}

// validateLocation checks everything but the credentials.
func (c Config) validateLocation() error {
	if err := checkEndpoint(c.Endpoint); err != nil {
		return err
	}
	if c.Region == "" || len(c.Region) > 64 || strings.ContainsFunc(c.Region, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r >= 'A' && r <= 'Z')
	}) {
		return fmt.Errorf("region %q: want letters, digits, '-' or '_': %w", c.Region, domain.ErrInvalidInput)
	}
	if err := checkBucket(c.Bucket); err != nil {
		return err
	}
	if err := checkPrefix(c.Prefix); err != nil {
		return err
	}
	switch c.CAS {
	case CASConditional, CASSingleProcess:
	default:
		return fmt.Errorf("cas mode %q: want %q or %q: %w", c.CAS, CASConditional, CASSingleProcess, domain.ErrInvalidInput)
	}
	return nil
}

func checkEndpoint(ep string) error {
	if ep == "" {
		return fmt.Errorf("the endpoint is empty, want HOST[:PORT]: %w", domain.ErrInvalidInput)
	}
	if strings.Contains(ep, "://") || strings.ContainsAny(ep, "/?#@ ") {
		return fmt.Errorf("endpoint %q: want HOST[:PORT] without a scheme or path: %w", ep, domain.ErrInvalidInput)
	}
	host := ep
	if h, port, err := net.SplitHostPort(ep); err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("endpoint %q: port %q is not a number from 1 to 65535: %w", ep, port, domain.ErrInvalidInput)
		}
		host = h
	} else if strings.Contains(ep, ":") && net.ParseIP(ep) == nil {
		return fmt.Errorf("endpoint %q: want HOST[:PORT]: %w", ep, domain.ErrInvalidInput)
	}
	if host == "" {
		return fmt.Errorf("endpoint %q: the host is empty: %w", ep, domain.ErrInvalidInput)
	}
	if net.ParseIP(host) == nil {
		for i := 0; i < len(host); i++ {
			ch := host[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
				return fmt.Errorf("endpoint %q: the host has a character that is not allowed in a host name: %w", ep, domain.ErrInvalidInput)
			}
		}
	}
	return nil
}

// checkBucket applies the S3 bucket naming rules: 3 to 63 characters of
// lowercase letters, digits, '.' and '-', beginning and ending with a letter
// or digit, no "..", not an IP address.
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: want 3 to 63 characters: %w", b, domain.ErrInvalidInput)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q: only lowercase letters, digits, '.' and '-' are allowed: %w", b, domain.ErrInvalidInput)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) || strings.Contains(b, "..") || net.ParseIP(b) != nil {
		return fmt.Errorf("bucket name %q: must begin and end with a letter or digit, have no \"..\" and not be an IP address: %w", b, domain.ErrInvalidInput)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// checkPrefix allows "" or "/"-separated segments of letters, digits, '.',
// '_' and '-' (no empty, "." or ".." segment).
func checkPrefix(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > maxPrefixLen {
		return fmt.Errorf("prefix of %d bytes, want at most %d: %w", len(p), maxPrefixLen, domain.ErrInvalidInput)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("prefix %q: empty, \".\" or \"..\" segment (no leading, trailing or double slash): %w", p, domain.ErrInvalidInput)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(isAlnum(c) || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("prefix %q: only letters, digits, '.', '_', '-' and '/' are allowed: %w", p, domain.ErrInvalidInput)
			}
		}
	}
	return nil
}

// redactURL is raw for error messages, without what may hold a secret: the
// user information and the values of unknown query parameters. A URL that
// does not parse is not shown if it has '@' or '?'.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.ContainsAny(raw, "@?") {
			return "(a URL with '@' or '?', not shown)"
		}
	} else {
		if u.User != nil {
			u.User = url.User("REDACTED")
		}
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			for k := range q {
				switch k {
				case "endpoint", "region", "tls", "cas":
				default:
					q[k] = []string{"REDACTED"}
				}
			}
			u.RawQuery = q.Encode()
		} else if u.RawQuery != "" {
			u.RawQuery = "REDACTED"
		}
		raw = u.String()
	}
	if len(raw) > 200 {
		return raw[:200] + "…"
	}
	return raw
}
