package aegisd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
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

// newStore returns an httpblob store on r with its own token pool.
func newStore(ctx context.Context, r *running) (*httpblob.Store, *privacypass.Pool, error) {
	pool, err := httpblob.NewTokenPool(ctx, r.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
	if err != nil {
		return nil, nil, err
	}
	s, err := httpblob.Open(r.URL, &httpblob.Options{Tokens: pool})
	return s, pool, err
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

var _ = testing.Verbose
