package aegisd_test

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func runVaultEndToEnd(ctx context.Context, store domain.BlobStore) {
	// The store is aegisd's (a domain.WriteGuard): the vault key locates the header and derives the enablers.
	cfg := vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy()), Locator: randomBytes(32)}
	pass := []byte("correct horse battery staple")
	v, err := vault.Create(ctx, cfg, pass)
	Expect(err).NotTo(HaveOccurred())
	big := randomBytes(3*domain.MiB + 123)
	Expect(v.Store(ctx, "contacts", []byte(`{"alice":"alice@example.org"}`))).To(Succeed())
	Expect(v.Store(ctx, "photos", big)).To(Succeed())
	Expect(v.Close()).To(Succeed())

	_, err = vault.Open(ctx, cfg, []byte("wrong passphrase"))
	Expect(err).To(MatchError(domain.ErrWrongPassphrase))

	v, err = vault.Open(ctx, cfg, pass)
	Expect(err).NotTo(HaveOccurred())
	defer v.Close()
	got, err := v.Load(ctx, "contacts")
	Expect(err).NotTo(HaveOccurred())
	Expect(string(got)).To(Equal(`{"alice":"alice@example.org"}`))
	got, err = v.Load(ctx, "photos")
	Expect(err).NotTo(HaveOccurred())
	Expect(got).To(Equal(big))
	Expect(v.Delete(ctx, "photos")).To(Succeed())
	_, err = v.Load(ctx, "photos")
	Expect(err).To(MatchError(domain.ErrNotFound))
}
