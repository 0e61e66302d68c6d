package main_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// The co-tenant, against a real vault: a second client of the same
// aegisd, with the same attestation secret, fresh tokens of its own and every
// object id on the server (read from the server's directory, which no client
// could list), tries to list, overwrite and delete the first client's vault.
var _ = Describe("a co-tenant of the vault's aegisd", func() {
	It("can neither list, overwrite nor delete a vault's objects: the store is unchanged and the vault opens intact", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		writeFile(dir, "pass", "first client's passphrase\n")
		writeFile(dir, "data.json", sample)
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		first := runner{Dir: dir, Env: []string{
			"AEGIS_REMOTE=" + serverURL,
			"AEGIS_ATTEST_SECRET_FILE=" + secretFile,
			"AEGIS_VAULT_NAME=default", // the guessable name: the vault key is what hides it
			"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass"),
		}}
		// Another client already uses the name "default" on this shared server:
		// names do not collide.
		first.ok("init")
		first.ok("store", "data.json")
		first.input([]byte(strings.Repeat("large ", 400_000))).ok("put", "large")
		var ids []domain.ObjectID
		for p := range files(serverData) {
			id, err := domain.ParseObjectID(filepath.Base(p))
			if err == nil && id != server.StoreFormatID {
				ids = append(ids, id)
			}
		}
		Expect(len(ids)).To(BeNumerically(">=", 5))
		before := treeHashes(serverData)

		secret, err := os.ReadFile(secretFile)
		Expect(err).NotTo(HaveOccurred())
		pool, err := httpblob.NewTokenPool(ctx, serverURL, []byte(strings.TrimSpace(string(secret))), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		plain, err := httpblob.Open(serverURL, &httpblob.Options{Tokens: pool, Attempts: 1})
		Expect(err).NotTo(HaveOccurred())
		own := make([]byte, 32)
		_, _ = rand.Read(own)
		stores := map[string]domain.BlobStore{
			"its own enablers": plain.Guarded(func(id domain.ObjectID) domain.WriteEnabler {
				var e domain.WriteEnabler
				copy(e[:], own)
				e[0] ^= id[0]
				return e
			}),
			"zero enablers": plain.Guarded(func(domain.ObjectID) domain.WriteEnabler { return domain.WriteEnabler{} }),
			"no enablers":   plain,
		}
		// The header a guessed name would give is not there.
		_, err = plain.Get(ctx, vault.HeaderID("default"))
		Expect(err).To(MatchError(domain.ErrNotFound))
		for how, s := range stores {
			Expect(s.List(ctx, func(domain.ObjectID) error { return nil })).To(MatchError(errors.ErrUnsupported), how)
			for _, id := range ids {
				junk := make([]byte, 1024)
				Expect(s.Put(ctx, id, junk)).NotTo(Succeed(), "%s: put %s", how, id)
				_, ver, err := plain.GetVersioned(ctx, id)
				Expect(err).NotTo(HaveOccurred())
				_, err = s.CompareAndSwap(ctx, id, ver, junk)
				Expect(err).To(HaveOccurred(), "%s: compare-and-swap %s", how, id)
				_, err = s.CompareAndSwap(ctx, id, "", junk)
				Expect(err).To(HaveOccurred(), "%s: create over %s", how, id)
				Expect(s.Delete(ctx, id)).NotTo(Succeed(), "%s: delete %s", how, id)
			}
		}
		Expect(treeHashes(serverData)).To(Equal(before), "the server's store changed")
		Expect(first.ok("load", "bookmarks", "journal", "settings")).To(MatchJSON(sample))
		Expect(first.ok("get", "large")).To(Equal(strings.Repeat("large ", 400_000)))
		Expect(first.ok("check", "--read-data")).To(ContainSubstring("no damage found"))
	})
})
