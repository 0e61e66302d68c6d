package main_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd/aegisdtest"
	"github.com/ai-pantheon/aegis/apps/internal/cli"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
)

// fetchReport is the --json output of tokens fetch.
type fetchReport struct {
	TokenType     uint16  `json:"token_type"`
	TokenTypeName string  `json:"token_type_name"`
	Count         int     `json:"count"`
	Batch         int     `json:"batch"`
	RoundTrips    int     `json:"round_trips"`
	ElapsedS      float64 `json:"elapsed_s"`
	TokensPerS    float64 `json:"tokens_per_s"`
}

// checkTokens expects n distinct tokens of type typ, one per line, base64url.
func checkTokens(text string, n int, typ privacypass.TokenType) {
	GinkgoHelper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	Expect(lines).To(HaveLen(n))
	seen := map[string]bool{}
	for _, l := range lines {
		b, err := base64.URLEncoding.DecodeString(l)
		Expect(err).NotTo(HaveOccurred())
		tok, err := privacypass.ParseToken(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(tok.TokenType).To(Equal(typ))
		Expect(seen).NotTo(HaveKey(l))
		seen[l] = true
	}
}

var _ = Describe("aegis tokens fetch (aegisd on 127.0.0.1)", func() {
	// Each entry starts an aegisd of its own with that --token-type (aegisd.Options.TokenType).
	DescribeTable("drains a pool of the server's issuer and reports type, count, seconds and tokens/s; no vault, no passphrase",
		func(tokenType string, want privacypass.TokenType) {
			base := GinkgoT().TempDir()
			srv, err := aegisdtest.Start(aegisd.Options{
				Store: "memory://", Ledger: "memory://", IssuerDir: filepath.Join(base, "issuer"),
				AttestSecretFile: secretFile, TokenType: tokenType, Log: GinkgoWriter,
			})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(srv.Stop)
			dir := GinkgoT().TempDir()
			user := runner{Dir: dir, Env: []string{"AEGIS_REMOTE=" + srv.URL, "AEGIS_ATTEST_SECRET_FILE=" + secretFile}}

			// 5 tokens in batches of 2: three round trips.
			out := user.ok("tokens", "fetch", "--count", "5", "--batch", "2")
			Expect(out).To(MatchRegexp(`^%s: 5 tokens in [0-9]+\.[0-9]{3} s, [0-9]+\.[0-9] tokens/s \(3 issuance round trips, batches of 2\)\n$`,
				regexp.QuoteMeta(want.String())))

			// The defaults, as JSON: 256 tokens in batches of 64.
			var rep fetchReport
			out = user.ok("--json", "tokens", "fetch")
			Expect(json.Unmarshal([]byte(out), &rep)).To(Succeed(), out)
			Expect(rep.TokenType).To(Equal(uint16(want)))
			Expect(rep.TokenTypeName).To(Equal(want.String()))
			Expect(rep.Count).To(Equal(cli.DefaultFetchCount))
			Expect(rep.Batch).To(Equal(cli.DefaultFetchBatch))
			Expect(rep.RoundTrips).To(Equal(4))
			Expect(rep.ElapsedS).To(BeNumerically(">", 0))
			Expect(rep.TokensPerS).To(BeNumerically("~", float64(rep.Count)/rep.ElapsedS, 1e-6*rep.TokensPerS))

			// --out FILE keeps the tokens (mode 0600), the report stays on standard output.
			target := filepath.Join(dir, "tokens.txt")
			Expect(user.ok("tokens", "fetch", "--count", "70", "--out", target)).To(ContainSubstring("70 tokens in "))
			b, err := os.ReadFile(target)
			Expect(err).NotTo(HaveOccurred())
			checkTokens(string(b), 70, want)
			info, err := os.Stat(target)
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))

			// --out - writes the tokens to standard output and the report to standard error.
			res := user.run("tokens", "fetch", "--count", "3", "--out", "-")
			Expect(res.Code).To(Equal(0), res.Stderr)
			checkTokens(res.Stdout, 3, want)
			Expect(res.Stderr).To(ContainSubstring(": 3 tokens in "))

			// Nothing of a vault was made.
			entries, err := os.ReadDir(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(entries).To(HaveLen(1)) // tokens.txt
		},
		Entry("voprf", "voprf", privacypass.TypeVOPRF),
		Entry("blind-rsa", "blind-rsa", privacypass.TypeBlindRSA),
		Entry("voprf-ristretto255", "voprf-ristretto255", privacypass.TypeVOPRFRistretto255),
		Entry("the server's default (voprf-ristretto255)", "", privacypass.TypeVOPRFRistretto255),
	)

	It("refuses bad flags and a missing --remote with exit 2", func() {
		user := runner{Dir: GinkgoT().TempDir(), Env: []string{"AEGIS_ATTEST_SECRET_FILE=" + secretFile}}
		res := user.fails(2, "tokens fetch: tokens come from a server: give --remote URL", "tokens", "fetch")
		Expect(res.Stdout).To(BeEmpty())
		remote := user.with("AEGIS_REMOTE=" + serverURL)
		remote.fails(2, "--count 0: want 1 to 10000", "tokens", "fetch", "--count", "0")
		remote.fails(2, "--count 10001: want 1 to 10000", "tokens", "fetch", "--count", "10001")
		remote.fails(2, "--batch 257: want 1 to 256", "tokens", "fetch", "--batch", "257")
		remote.fails(2, "unknown flag --bogus", "tokens", "fetch", "--bogus")
		remote.fails(2, "usage: aegis fetch", "tokens", "fetch", "extra")
		user.with("AEGIS_REMOTE="+serverURL, "AEGIS_ATTEST_SECRET_FILE=").fails(2, "--attest-secret-file", "tokens", "fetch")
	})

	It("fails with exit 1 on a wrong attestation secret or an unreachable server", func() {
		dir := GinkgoT().TempDir()
		bad := writeFile(dir, "bad-secret", "this is not the secret at all\n")
		user := runner{Dir: dir, Env: []string{"AEGIS_REMOTE=" + serverURL, "AEGIS_ATTEST_SECRET_FILE=" + bad}}
		res := user.fails(1, "aegis: the server at "+serverURL+" refused the attestation secret (AEGIS_ATTEST_SECRET_FILE / --attest-secret-file): check it matches aegisd's",
			"tokens", "fetch", "--count", "1")
		Expect(res.Stdout).To(BeEmpty())
		expectOneCleanLine(res)
		res = user.with("AEGIS_REMOTE=http://127.0.0.1:1").fails(1, "aegis: cannot reach the server at http://127.0.0.1:1 (connection refused): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right",
			"tokens", "fetch", "--count", "1")
		expectOneCleanLine(res)
	})
})
