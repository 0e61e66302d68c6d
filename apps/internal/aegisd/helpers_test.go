package aegisd_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd/aegisdtest"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

const testSecret = "correct-horse-battery-staple-attestation"

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// anySize admits every size up to 1 MiB: the BlobStore conformance suite
// stores objects that are not bucket-sized.
type anySize struct{}

func (anySize) Allowed(n int) bool { return n >= 0 && n <= domain.MiB }
func (anySize) Max() int           { return domain.MiB }

var _ server.SizePolicy = anySize{}

// Issuer keys are slow to generate: every server of the tests shares one
// key directory (each server still has its own store and ledger).
var (
	issuerDirOnce sync.Once
	issuerDir     string
	secretFile    string
)

func sharedIssuerDir() (string, string) {
	issuerDirOnce.Do(func() {
		base, err := os.MkdirTemp("", "aegisd-test-")
		if err != nil {
			panic(err)
		}
		issuerDir = filepath.Join(base, "issuer")
		secretFile = filepath.Join(base, "attest-secret")
		if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
			panic(err)
		}
	})
	return issuerDir, secretFile
}

// running is an aegisd served on a loopback port.
type running struct {
	URL  string
	App  *aegisd.App
	Log  *syncBuffer
	stop func() error
}

// start assembles an aegisd with Wire (aegisd.Initialize) and serves it with
// its real http.Server on 127.0.0.1:0. edit adjusts the options.
func start(edit func(*aegisd.Options)) (*running, error) {
	dir, secret := sharedIssuerDir()
	lg := &syncBuffer{}
	o := aegisd.Options{
		Store:            "memory://",
		Ledger:           "memory://",
		IssuerDir:        dir,
		AttestSecretFile: secret,
		MaxInFlight:      512,
		Log:              lg,
	}
	if edit != nil {
		edit(&o)
	}
	srv, err := aegisdtest.Start(o)
	if err != nil {
		return nil, err
	}
	return &running{URL: srv.URL, App: srv.App, Log: lg, stop: srv.Stop}, nil
}

// newStore returns a guarded httpblob store (enablerKey) on r with its own
// token pool.
func newStore(ctx context.Context, r *running) (domain.BlobStore, *privacypass.Pool, error) {
	pool, err := httpblob.NewTokenPool(ctx, r.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
	if err != nil {
		return nil, nil, err
	}
	s, err := httpblob.Open(r.URL, &httpblob.Options{Tokens: pool})
	if err != nil {
		return nil, nil, err
	}
	return guarded(s), pool, nil
}

// enablerKey keys the write-enablers of the tests' objects.
var enablerKey = randomBytes(32)

// enablerFor returns the enabler function of key: HMAC-SHA256 of the id, as a
// client that keeps key secret derives one enabler per object.
func enablerFor(key []byte) func(domain.ObjectID) domain.WriteEnabler {
	return func(id domain.ObjectID) domain.WriteEnabler {
		m := hmac.New(sha256.New, key)
		m.Write(id[:])
		var e domain.WriteEnabler
		copy(e[:], m.Sum(nil))
		return e
	}
}

// guarded is the view of s that writes with the enablers of enablerKey.
func guarded(s *httpblob.Store) domain.BlobStore { return s.Guarded(enablerFor(enablerKey)) }

// enablerHeader is the Aegis-Write-Enabler header value of id under enablerKey.
func enablerHeader(id domain.ObjectID) string {
	return httpwire.FormatWriteEnabler(enablerFor(enablerKey)(id))
}

// storedAs is what the server's backing store holds for an object of id
// written with enablerKey: SHA-256 of the enabler, then the body.
func storedAs(id domain.ObjectID, body []byte) []byte {
	e := enablerFor(enablerKey)(id)
	h := sha256.Sum256(e[:])
	return append(h[:], body...)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newID() domain.ObjectID {
	id, err := domain.NewObjectID(nil)
	if err != nil {
		panic(err)
	}
	return id
}

var plainClient = &http.Client{Timeout: 30 * time.Second}

// The aegisd binary, built once per test process for the specs that run it.
var aegisdBin struct {
	once      sync.Once
	dir, path string
	err       error
	out       []byte
}

// aegisdBinary builds apps/cmd/aegisd (once) and returns its path.
func aegisdBinary(ctx context.Context) string {
	aegisdBin.once.Do(func() {
		aegisdBin.dir, aegisdBin.err = os.MkdirTemp("", "aegisd-bin-")
		if aegisdBin.err != nil {
			return
		}
		aegisdBin.path = filepath.Join(aegisdBin.dir, "aegisd")
		aegisdBin.out, aegisdBin.err = exec.CommandContext(ctx, "go", "build", "-o", aegisdBin.path,
			"github.com/ai-pantheon/aegis/apps/cmd/aegisd").CombinedOutput()
	})
	if aegisdBin.err != nil {
		panic(fmt.Sprintf("go build aegisd: %v: %s", aegisdBin.err, aegisdBin.out))
	}
	return aegisdBin.path
}

// removeAegisdBinary removes the built binary (AfterSuite).
func removeAegisdBinary() {
	if aegisdBin.dir != "" {
		_ = os.RemoveAll(aegisdBin.dir)
	}
}

var _ = testing.Verbose
