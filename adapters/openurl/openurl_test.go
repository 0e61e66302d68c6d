package openurl_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/adapters/redisledger"
	"github.com/ai-pantheon/aegis/adapters/s3blob"
	"github.com/ai-pantheon/aegis/domain"
)

func TestParse(t *testing.T) {
	good := []struct{ raw, scheme, rest string }{
		{"file://aegisd-data/objects", "file", "aegisd-data/objects"},
		{"file:///srv/objects", "file", "/srv/objects"},
		{"memory://", "memory", ""},
		{"S3://bucket/p?region=x", "s3", "bucket/p?region=x"},
		{"coap+tcp://h", "coap+tcp", "h"},
		{"x://a://b", "x", "a://b"},
	}
	for _, g := range good {
		u, err := openurl.Parse(g.raw)
		if err != nil || u != (openurl.URL{Raw: g.raw, Scheme: g.scheme, Rest: g.rest}) {
			t.Errorf("Parse(%q) = %+v, %v; want scheme %q, rest %q", g.raw, u, err, g.scheme, g.rest)
		}
	}
	for _, raw := range []string{"", "memory", "memory:", "/srv/objects", "://x", "1s://x", "s 3://x", "-a://x", "a_b://x", "é://x", strings.Repeat("a", 33) + "://x"} {
		if u, err := openurl.Parse(raw); !errors.Is(err, openurl.ErrNotURL) || !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrNotURL and ErrInvalidInput", raw, u, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://h:1/0":           "redis://h:1/0",
		"ftp://user:hunter22@h/x": "ftp://REDACTED@h/x",
		"s3://b?secret=hunter22":  "s3://b?REDACTED",
		"ftp://h/%zz?password=x":  "(a URL with '@' or '?', not shown)",
		"gopher://bucket":         "gopher://bucket",
		"ftp://":                  "ftp://",
		"FTP://x y":               "FTP://x y",
		"aegisd-data/objects":     "aegisd-data/objects",
	} {
		if got := openurl.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

// fakeStore is a store the fake openers return, recording what they got.
type fakeStore struct {
	domain.BlobStore
	u openurl.URL
	o openurl.StoreOptions
}

type fakeLedger struct {
	domain.SpentLedger
	u openurl.URL
	o openurl.LedgerOptions
}

func fakeStoreOpener(_ context.Context, u openurl.URL, o openurl.StoreOptions) (domain.BlobStore, error) {
	return &fakeStore{u: u, o: o}, nil
}

func fakeLedgerOpener(_ context.Context, u openurl.URL, o openurl.LedgerOptions) (domain.SpentLedger, error) {
	return &fakeLedger{u: u, o: o}, nil
}

func TestMuxOpensWithTheSchemesOpener(t *testing.T) {
	var m openurl.Mux
	m.RegisterStore("file", fakeStoreOpener)
	m.RegisterStore("s3", func(context.Context, openurl.URL, openurl.StoreOptions) (domain.BlobStore, error) {
		return nil, errors.New("the s3 opener ran")
	})
	m.RegisterLedger("redis", fakeLedgerOpener)
	if got := m.StoreSchemes(); !slices.Equal(got, []string{"file", "s3"}) {
		t.Errorf("StoreSchemes() = %q", got)
	}
	if got := m.LedgerSchemes(); !slices.Equal(got, []string{"redis"}) {
		t.Errorf("LedgerSchemes() = %q", got)
	}

	getenv := func(string) string { return "" }
	hc := &http.Client{}
	st, err := m.OpenStore(context.Background(), "FILE://some/dir", &openurl.StoreOptions{Create: true, Getenv: getenv, HTTPClient: hc, ContextTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	fs := st.(*fakeStore)
	if fs.u != (openurl.URL{Raw: "FILE://some/dir", Scheme: "file", Rest: "some/dir"}) || !fs.o.Create || fs.o.Getenv == nil || fs.o.HTTPClient != hc || !fs.o.ContextTokens {
		t.Errorf("the file opener got %+v, %+v", fs.u, fs.o)
	}
	if st, err := m.OpenStore(context.Background(), "file://d", nil); err != nil || st.(*fakeStore).o.Create {
		t.Errorf("OpenStore with nil options = %v, %v; want the zero options", st, err)
	}
	if _, err := m.OpenStore(context.Background(), "s3://b", nil); err == nil || err.Error() != "the s3 opener ran" {
		t.Errorf("OpenStore(s3://b) = %v, want the s3 opener's error as it is", err)
	}
	l, err := m.OpenLedger(context.Background(), "redis://h:1/0", &openurl.LedgerOptions{Password: "pw", TTL: time.Hour, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if fl := l.(*fakeLedger); fl.u.Scheme != "redis" || fl.o != (openurl.LedgerOptions{Password: "pw", TTL: time.Hour, Create: true}) {
		t.Errorf("the redis opener got %+v, %+v", fl.u, fl.o)
	}
	// Store and ledger schemes are apart.
	if _, err := m.OpenLedger(context.Background(), "file://d", nil); !errors.Is(err, openurl.ErrUnknownScheme) {
		t.Errorf("OpenLedger(file://d) with only a file store opener = %v, want ErrUnknownScheme", err)
	}
	if u, err := m.CheckStore("s3://b"); err != nil || u.Scheme != "s3" {
		t.Errorf("CheckStore(s3://b) = %+v, %v", u, err)
	}
}

func TestMuxRefusesUnknownSchemes(t *testing.T) {
	var m openurl.Mux
	m.RegisterStore("memory", fakeStoreOpener)
	m.RegisterStore("file", fakeStoreOpener)
	m.RegisterLedger("redis", fakeLedgerOpener)
	for _, c := range []struct {
		open func(string) error
		raw  string
		want []string
		is   error
	}{
		{storeOpen(&m), "ftp://x", []string{`store "ftp://x"`, `unknown scheme "ftp"`, "want file:// or memory://"}, openurl.ErrUnknownScheme},
		{storeCheck(&m), "ftp://x", []string{`store "ftp://x"`, `unknown scheme "ftp"`, "want file:// or memory://"}, openurl.ErrUnknownScheme},
		{storeOpen(&m), "ftp://me:hunter22@x", []string{`store "ftp://REDACTED@x"`}, openurl.ErrUnknownScheme},
		{storeOpen(&m), "aegisd-data", []string{`store "aegisd-data"`, "not a URL", "want file:// or memory://"}, openurl.ErrNotURL},
		{ledgerOpen(&m), "sql://x", []string{`ledger "sql://x"`, `unknown scheme "sql"`, "want redis://"}, openurl.ErrUnknownScheme},
		{ledgerCheck(&m), "", []string{`ledger ""`, "not a URL"}, openurl.ErrNotURL},
	} {
		err := c.open(c.raw)
		if !errors.Is(err, c.is) || !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("%q: %v, want %v and ErrInvalidInput", c.raw, err, c.is)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %v, want it to say %q", c.raw, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter22") {
			t.Errorf("%q: %v shows the password", c.raw, err)
		}
	}
	var empty openurl.Mux
	if _, err := empty.OpenStore(context.Background(), "file://x", nil); err == nil || !strings.Contains(err.Error(), "no adapter is registered") {
		t.Errorf("OpenStore on an empty Mux = %v", err)
	}
}

func storeOpen(m *openurl.Mux) func(string) error {
	return func(raw string) error { _, err := m.OpenStore(context.Background(), raw, nil); return err }
}
func storeCheck(m *openurl.Mux) func(string) error {
	return func(raw string) error { _, err := m.CheckStore(raw); return err }
}
func ledgerOpen(m *openurl.Mux) func(string) error {
	return func(raw string) error { _, err := m.OpenLedger(context.Background(), raw, nil); return err }
}
func ledgerCheck(m *openurl.Mux) func(string) error {
	return func(raw string) error { _, err := m.CheckLedger(raw); return err }
}

func TestRegisterPanics(t *testing.T) {
	for name, register := range map[string]func(*openurl.Mux){
		"a store scheme twice": func(m *openurl.Mux) {
			m.RegisterStore("file", fakeStoreOpener)
			m.RegisterStore("file", fakeStoreOpener)
		},
		"a ledger scheme twice": func(m *openurl.Mux) {
			m.RegisterLedger("file", fakeLedgerOpener)
			m.RegisterLedger("file", fakeLedgerOpener)
		},
		"an upper-case scheme": func(m *openurl.Mux) { m.RegisterStore("File", fakeStoreOpener) },
		"an invalid scheme":    func(m *openurl.Mux) { m.RegisterLedger("file://", fakeLedgerOpener) },
		"a nil opener":         func(m *openurl.Mux) { m.RegisterStore("file", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %s did not panic", name)
				}
			}()
			register(new(openurl.Mux))
		})
	}
	// A store and a ledger may share a scheme (file, memory).
	var m openurl.Mux
	m.RegisterStore("file", fakeStoreOpener)
	m.RegisterLedger("file", fakeLedgerOpener)
}

// The adapters imported here registered their schemes with the default Mux.
func TestAdaptersRegisterTheirSchemes(t *testing.T) {
	if got := openurl.DefaultMux().StoreSchemes(); !slices.Equal(got, []string{fsblob.Scheme, "http", "https", memblob.Scheme, s3blob.Scheme}) {
		t.Errorf("store schemes %q", got)
	}
	if got := openurl.DefaultMux().LedgerSchemes(); !slices.Equal(got, []string{fileledger.Scheme, memledger.Scheme, redisledger.Scheme}) {
		t.Errorf("ledger schemes %q", got)
	}
}

func roundTrip(t *testing.T, s domain.BlobStore) {
	t.Helper()
	ctx := context.Background()
	id, err := domain.NewObjectID(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, id, []byte("hello")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := s.Get(ctx, id); err != nil || string(got) != "hello" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func spendTwice(t *testing.T, l domain.SpentLedger) {
	t.Helper()
	ctx := context.Background()
	part, nonce := randomHex(t, 8), []byte(randomHex(t, 16))
	if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || spent {
		t.Fatalf("first MarkSpent = %v, %v", spent, err)
	}
	if spent, err := l.MarkSpent(ctx, part, nonce); err != nil || !spent {
		t.Fatalf("second MarkSpent = %v, %v", spent, err)
	}
	if err := l.DropPartition(ctx, part); err != nil {
		t.Fatalf("DropPartition: %v", err)
	}
}

func TestMemoryOpeners(t *testing.T) {
	ctx := context.Background()
	s, err := openurl.OpenStore(ctx, "memory://", nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
	l, err := openurl.OpenLedger(ctx, "memory://", nil)
	if err != nil {
		t.Fatal(err)
	}
	spendTwice(t, l)
	if _, err := openurl.OpenStore(ctx, "memory://x", nil); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "nothing after it") {
		t.Errorf("OpenStore(memory://x) = %v", err)
	}
	if _, err := openurl.OpenLedger(ctx, "memory:///", nil); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "nothing after it") {
		t.Errorf("OpenLedger(memory:///) = %v", err)
	}
}

func TestFileOpeners(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	objects, ledger := filepath.Join(base, "objects"), filepath.Join(base, "ledger")
	// Without Create a missing directory is not found, and not made.
	if _, err := openurl.OpenStore(ctx, "file://"+objects, nil); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("OpenStore of a missing directory = %v, want ErrNotFound", err)
	}
	if _, err := openurl.OpenLedger(ctx, "file://"+ledger, nil); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("OpenLedger of a missing directory = %v, want ErrNotFound", err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 0 {
		t.Fatalf("opening without Create made %v", ents)
	}
	s, err := openurl.OpenStore(ctx, "file://"+objects, &openurl.StoreOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*fsblob.Store); !ok {
		t.Fatalf("file:// opened a %T", s)
	}
	roundTrip(t, s)
	l, err := openurl.OpenLedger(ctx, "file://"+ledger, &openurl.LedgerOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*fileledger.Ledger); !ok {
		t.Fatalf("file:// opened a %T", l)
	}
	spendTwice(t, l)
	// A relative directory is relative to the working directory, as aegisd's
	// default file://aegisd-data/objects.
	t.Chdir(base)
	if _, err := openurl.OpenStore(ctx, "file://objects", nil); err != nil {
		t.Errorf("OpenStore(file://objects) in %s: %v", base, err)
	}
	for _, raw := range []string{"file://", "FILE://"} {
		if _, err := openurl.OpenStore(ctx, raw, &openurl.StoreOptions{Create: true}); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "want file://DIR") {
			t.Errorf("OpenStore(%q) = %v", raw, err)
		}
		if _, err := openurl.OpenLedger(ctx, raw, &openurl.LedgerOptions{Create: true}); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "want file://DIR") {
			t.Errorf("OpenLedger(%q) = %v", raw, err)
		}
	}
}

// countingTokens hands out distinct dummy tokens.
type countingTokens struct{ n atomic.Int64 }

func (c *countingTokens) Token(context.Context) ([]byte, error) {
	c.n.Add(1)
	return []byte("token"), nil
}

// recorder answers every request with 404 and records the URLs asked for.
type recorder struct{ urls chan string }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls <- req.URL.String()
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
		Body: http.NoBody, Request: req}, nil
}

func TestHTTPOpener(t *testing.T) {
	ctx := context.Background()
	if _, err := openurl.OpenStore(ctx, "https://aegisd.example", nil); !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "token source") {
		t.Errorf("OpenStore(https://…) without tokens = %v", err)
	}
	if _, err := openurl.OpenStore(ctx, "http://me:pw@aegisd.example", &openurl.StoreOptions{Tokens: &countingTokens{}}); !errors.Is(err, domain.ErrInvalidInput) {
		t.Errorf("OpenStore(http://me:pw@…) = %v", err)
	}
	rec := recorder{urls: make(chan string, 16)}
	tokens := &countingTokens{}
	s, err := openurl.OpenStore(ctx, "https://aegisd.example/", &openurl.StoreOptions{Tokens: tokens, HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*httpblob.Store); !ok {
		t.Fatalf("https:// opened a %T", s)
	}
	if len(rec.urls) != 0 || tokens.n.Load() != 0 {
		t.Fatal("opening sent a request or took a token")
	}
	id, _ := domain.NewObjectID(nil)
	_, _ = s.Get(ctx, id) // the answer does not matter: the request went through the given client
	select {
	case u := <-rec.urls:
		if !strings.HasPrefix(u, "https://aegisd.example/v1/objects/") {
			t.Errorf("the store asked for %s", u)
		}
	default:
		t.Fatal("the store did not send through the HTTPClient of the options")
	}
	if tokens.n.Load() == 0 {
		t.Error("the store took no token from the options' source")
	}
}

func TestS3Opener(t *testing.T) {
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	_, err := openurl.OpenStore(ctx, "s3://bucket?endpoint=127.0.0.1:1&tls=false", &openurl.StoreOptions{Getenv: noEnv})
	if !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), s3blob.EnvAccessKey) {
		t.Errorf("OpenStore(s3://…) without credentials = %v", err)
	}
	_, err = openurl.OpenStore(ctx, "s3://me:pw@bucket", &openurl.StoreOptions{Getenv: noEnv})
	if !errors.Is(err, domain.ErrInvalidInput) || !strings.Contains(err.Error(), "credentials do not belong in the URL") {
		t.Errorf("OpenStore(s3://me:pw@bucket) = %v", err)
	}
	raw := os.Getenv("AEGIS_TEST_S3_URL")
	if raw == "" {
		if os.Getenv("AEGIS_TEST_SERVICES") == "1" {
			t.Fatal("AEGIS_TEST_S3_URL is not set although AEGIS_TEST_SERVICES=1")
		}
		t.Skip("AEGIS_TEST_S3_URL is not set; `make test-services` runs this against a real S3 server")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "/openurl-" + randomHex(t, 8) // objects of this test's own
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := openurl.OpenStore(cctx, u.String(), nil)
	if err != nil {
		t.Fatalf("OpenStore(%s): %v", u.Redacted(), err)
	}
	if _, ok := s.(*s3blob.Store); !ok {
		t.Fatalf("s3:// opened a %T", s)
	}
	roundTrip(t, s)
}

func TestRedisOpener(t *testing.T) {
	ctx := context.Background()
	if _, err := openurl.OpenLedger(ctx, "redis://127.0.0.1:1/0", nil); !errors.Is(err, openurl.ErrTTLRequired) || !errors.Is(err, domain.ErrInvalidInput) {
		t.Errorf("OpenLedger(redis://…) without a TTL = %v, want ErrTTLRequired", err)
	}
	// The URL is checked before the TTL.
	if _, err := openurl.OpenLedger(ctx, "redis://x", nil); errors.Is(err, openurl.ErrTTLRequired) || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("OpenLedger(redis://x) = %v, want the URL's error", err)
	}
	if _, err := openurl.OpenLedger(ctx, "redis://:hunter22@h:1/0", &openurl.LedgerOptions{TTL: time.Hour}); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("OpenLedger(redis://:password@…) = %v", err)
	}
	raw := os.Getenv("AEGIS_TEST_REDIS_URL")
	if raw == "" {
		if os.Getenv("AEGIS_TEST_SERVICES") == "1" {
			t.Fatal("AEGIS_TEST_REDIS_URL is not set although AEGIS_TEST_SERVICES=1")
		}
		t.Skip("AEGIS_TEST_REDIS_URL is not set; `make test-services` runs this against a real Redis")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := openurl.OpenLedger(cctx, raw, &openurl.LedgerOptions{Password: os.Getenv("AEGIS_TEST_REDIS_PASSWORD"), TTL: time.Hour})
	if err != nil {
		t.Fatalf("OpenLedger(%s): %v", raw, err)
	}
	rl, ok := l.(*redisledger.Ledger)
	if !ok {
		t.Fatalf("redis:// opened a %T", l)
	}
	defer rl.Close()
	if rl.Config().TTL != time.Hour {
		t.Errorf("the ledger's TTL is %v, want the options' hour", rl.Config().TTL)
	}
	spendTwice(t, l)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
