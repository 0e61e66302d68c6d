package anonymize_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/anonymize/observertest"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func TestAnonymizeSpecs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "anonymize (Cloak) suite")
}

// fixture is a Cloak over a real vault (real crypto, cheap KDF) on an in-memory
// store seen through the recording observer.
type fixture struct {
	obs   *observertest.Store
	vault *vault.Vault
	cloak *anonymize.Cloak
}

func newFixture(ctx context.Context, policy domain.PaddingPolicy, cfg anonymize.Config) fixture {
	obs := observertest.Wrap(fakes.NewStore())
	c, err := anonymize.Create(ctx, vault.Config{Store: obs, Crypto: suite.New(kdf.InsecureTestPolicy()), Padding: policy}, []byte("correct horse battery staple"), cfg)
	if err != nil {
		panic(err)
	}
	if policy == nil {
		policy = domain.DefaultBuckets()
	}
	// Every Cloak spec runs through the observer: whatever the spec did, the store
	// saw only objects of the policy's sizes, under names never used twice.
	DeferCleanup(func() {
		Expect(obs.CheckSizes(ctx, policy)).To(Succeed())
		Expect(obs.CheckFreshNames()).To(Succeed())
		Expect(c.Close()).To(Succeed())
	})
	return fixture{obs: obs, vault: c.Vault(), cloak: c}
}

// flaky fails every Put once failAt Puts have succeeded (failAt < 0: never).
type flaky struct {
	domain.BlobStore
	mu     sync.Mutex
	puts   int
	failAt int
}

func (f *flaky) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	f.mu.Lock()
	fail := f.failAt >= 0 && f.puts >= f.failAt
	if !fail {
		f.puts++
	}
	f.mu.Unlock()
	if fail {
		return errors.New("injected store failure")
	}
	return f.BlobStore.Put(ctx, id, data)
}

func (f *flaky) Lock(ctx context.Context) (func() error, error) {
	return f.BlobStore.(domain.Locker).Lock(ctx)
}

func (f *flaky) failAfter(n int) {
	f.mu.Lock()
	f.puts, f.failAt = 0, n
	f.mu.Unlock()
}
