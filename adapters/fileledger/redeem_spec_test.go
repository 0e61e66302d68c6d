//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fileledger_test

import (
	"context"
	"encoding/json"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/adapters/issuerkeys"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

var _ = Describe("Redeeming tokens against a file ledger", func() {
	var (
		ctx       context.Context
		ledgerDir string
		ledger    *fileledger.Ledger
	)

	BeforeEach(func() {
		ctx = context.Background()
		ledgerDir = filepath.Join(GinkgoT().TempDir(), "spent")
		var err error
		ledger, err = fileledger.Open(ledgerDir, &fileledger.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
	})

	It("refuses a second redemption of a Privacy Pass token, also after a restart", func() {
		keys, err := issuerkeys.OpenKeyStore(filepath.Join(GinkgoT().TempDir(), "keys"), &issuerkeys.KeyStoreOptions{Create: true})
		Expect(err).NotTo(HaveOccurred())
		key, err := keys.Current(privacypass.TypeBlindRSA)
		Expect(err).NotTo(HaveOccurred())
		dir, err := keys.Directory("/token-request")
		Expect(err).NotTo(HaveOccurred())
		dirJSON, err := json.Marshal(dir)
		Expect(err).NotTo(HaveOccurred())

		// Client side: only the directory JSON and the challenge.
		parsed, err := privacypass.ParseDirectory(dirJSON)
		Expect(err).NotTo(HaveOccurred())
		dk := parsed.TokenKeys[0]
		challenge, err := (&privacypass.TokenChallenge{TokenType: privacypass.TypeBlindRSA, IssuerName: "aegisd.local"}).MarshalBinary()
		Expect(err).NotTo(HaveOccurred())
		client, err := privacypass.NewClient(dk.TokenType, dk.TokenKey)
		Expect(err).NotTo(HaveOccurred())
		req, pending, err := client.BatchRequest(challenge, 4)
		Expect(err).NotTo(HaveOccurred())
		resp, err := privacypass.NewIssuer(key).IssueArbitraryBatch(req)
		Expect(err).NotTo(HaveOccurred())
		tokens, err := client.FinalizeBatch(pending, resp)
		Expect(err).NotTo(HaveOccurred())
		enc, err := tokens[0].MarshalBinary()
		Expect(err).NotTo(HaveOccurred())

		// The token travels in an Authorization header.
		presented, err := privacypass.ParseAuthorization(privacypass.FormatAuthorization(enc))
		Expect(err).NotTo(HaveOccurred())

		origin := privacypass.NewOrigin(ledger)
		Expect(origin.AddTokenKey(dk.TokenType, dk.TokenKey)).To(Succeed())
		Expect(origin.Redeem(ctx, presented)).To(Succeed())
		Expect(origin.Redeem(ctx, presented)).To(MatchError(domain.ErrTokenSpent))

		reopened, err := fileledger.Open(ledgerDir, nil)
		Expect(err).NotTo(HaveOccurred())
		restarted := privacypass.NewOrigin(reopened)
		Expect(restarted.AddTokenKey(dk.TokenType, dk.TokenKey)).To(Succeed())
		Expect(restarted.Redeem(ctx, presented)).To(MatchError(domain.ErrTokenSpent))
		other, err := tokens[1].MarshalBinary()
		Expect(err).NotTo(HaveOccurred())
		Expect(restarted.Redeem(ctx, other)).To(Succeed())

		// Retiring the key: its partition can be dropped as a whole.
		Expect(reopened.DropPartition(ctx, key.IDHex())).To(Succeed())
	})

	It("refuses a second redemption of an HMAC token, also after a restart", func() {
		key := secret.Random(32)
		issuer, err := hmactoken.New(key, ledger)
		Expect(err).NotTo(HaveOccurred())
		tok, err := issuer.Issue()
		Expect(err).NotTo(HaveOccurred())
		Expect(issuer.Verify(ctx, tok)).To(Succeed())
		Expect(issuer.Verify(ctx, tok)).To(MatchError(domain.ErrTokenSpent))

		reopened, err := fileledger.Open(ledgerDir, nil)
		Expect(err).NotTo(HaveOccurred())
		again, err := hmactoken.New(key, reopened)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Verify(ctx, tok)).To(MatchError(domain.ErrTokenSpent))
	})
})
