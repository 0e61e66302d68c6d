package main_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/cli"
	"github.com/ai-pantheon/aegis/domain/vault"
)

var _ = Describe("aegis on a remote vault (aegisd on 127.0.0.1)", func() {
	var (
		dir  string
		name string
		user runner
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "pass", "remote passphrase\n")
		writeFile(dir, "data.json", sample)
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		name = "vault-" + hex.EncodeToString(b)
		user = runner{Dir: dir, Env: []string{
			"AEGIS_REMOTE=" + serverURL,
			"AEGIS_ATTEST_SECRET_FILE=" + secretFile,
			"AEGIS_VAULT_NAME=" + name,
			"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass"),
		}}
	})

	It("runs every vault command against the server, and keeps nothing local", func() {
		user.fails(5, "run `aegis init`", "ls")
		Expect(user.ok("init")).To(BeEmpty())
		user.fails(1, "already exists", "init")
		// The header object's name derives from the vault key in the client's
		// configuration directory: the name alone finds nothing.
		key, err := cli.ParseVaultKey(user.ok("vault-key", "export"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files(serverData)).To(HaveKey(ContainSubstring(vault.LocatedHeaderID(key, name).String())))
		Expect(files(serverData)).NotTo(HaveKey(ContainSubstring(vault.HeaderID(name).String())))

		Expect(user.ok("store", "data.json")).To(ContainSubstring("stored 3 categories"))
		Expect(user.ok("ls")).To(Equal("bookmarks\njournal\nsettings\n"))
		Expect(user.ok("load")).To(MatchJSON(sample))
		Expect(user.ok("verify", "data.json")).To(ContainSubstring("PASS\tjournal"))
		Expect(user.input([]byte("streamed to the server")).ok("put", "notes")).To(BeEmpty())
		Expect(user.ok("get", "notes")).To(Equal("streamed to the server"))
		Expect(user.ok("stats")).To(ContainSubstring("categories:       4"))
		Expect(user.ok("rotate")).To(BeEmpty())
		Expect(user.ok("rm", "notes")).To(BeEmpty())
		user.fails(5, `"notes"`, "get", "notes")
		writeFile(dir, "wrong", "not it\n")
		user.fails(3, "wrong passphrase", "--passphrase-file", filepath.Join(dir, "wrong"), "ls")
		writeFile(dir, "new", "new remote passphrase\n")
		Expect(user.ok("passwd", "--new-passphrase-file", filepath.Join(dir, "new"))).To(BeEmpty())
		Expect(user.ok("--passphrase-file", filepath.Join(dir, "new"), "load")).To(MatchJSON(sample))
		writeFile(dir, "third", "rotated remote passphrase\n")
		Expect(user.ok("--passphrase-file", filepath.Join(dir, "new"), "passwd", "--rotate", "--new-passphrase-file", filepath.Join(dir, "third"))).To(BeEmpty())
		user.fails(3, "wrong passphrase", "--passphrase-file", filepath.Join(dir, "new"), "ls")
		Expect(user.ok("--passphrase-file", filepath.Join(dir, "third"), "load")).To(MatchJSON(sample))

		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		for _, e := range entries {
			Expect(e.Name()).NotTo(Equal("aegis-vault"))
		}
	})

	It("keeps vaults of different names apart on one server", func() {
		other := user.with("AEGIS_VAULT_NAME=" + name + "-other")
		user.ok("init")
		other.ok("init")
		user.ok("store", "data.json")
		Expect(other.ok("ls")).To(BeEmpty())
		writeFile(dir, "one.json", `{"only-here": true}`)
		other.ok("store", "one.json")
		Expect(user.ok("ls")).To(Equal("bookmarks\njournal\nsettings\n"))
		Expect(other.ok("load")).To(MatchJSON(`{"only-here": true}`))
	})

	It("fetches tokens, one per line, base64url", func() {
		out := user.ok("tokens", "fetch", "--count", "5")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		Expect(lines).To(HaveLen(5))
		seen := map[string]bool{}
		for _, l := range lines {
			b, err := base64.URLEncoding.DecodeString(l)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(b)).To(BeNumerically(">", 32))
			Expect(b[:2]).To(Equal([]byte{0x00, 0x05})) // token type 0x0005 (VOPRF(ristretto255), the server's default)
			Expect(seen).NotTo(HaveKey(l))
			seen[l] = true
		}
		target := filepath.Join(dir, "tokens.txt")
		Expect(user.ok("tokens", "fetch", "--count", "300", "--out", target)).To(BeEmpty())
		b, err := os.ReadFile(target)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(b), "\n")).To(Equal(300))
		info, err := os.Stat(target)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
		user.fails(2, "--count", "tokens", "fetch", "--count", "0")
	})

	It("reaches the same vault from a second machine once its key is imported there", func() {
		user.ok("init")
		user.ok("store", "data.json")
		second := runner{Dir: GinkgoT().TempDir(), Env: user.Env}
		second.fails(5, "vault-key import", "ls")
		second.fails(2, "not a vault key", "vault-key", "import", "aegis-vault-key-1:short")
		key := user.ok("vault-key", "export")
		Expect(key).To(HavePrefix(cli.VaultKeyPrefix))
		second.input([]byte(key)).ok("vault-key", "import")
		Expect(second.ok("load")).To(MatchJSON(sample))
		// Another vault's key is refused for this name.
		second.fails(2, "another key", "vault-key", "import", cli.FormatVaultKey(cli.NewVaultKey()))
	})

	It("fails cleanly with a wrong attestation secret or an unreachable server", func() {
		user.ok("init")
		bad := writeFile(dir, "bad-secret", "this is not the secret at all\n")
		user.with("AEGIS_ATTEST_SECRET_FILE="+bad).fails(1, "token", "ls")
		unreachable := user.with("AEGIS_REMOTE=http://127.0.0.1:1")
		unreachable.input([]byte(user.ok("vault-key", "export"))).ok("vault-key", "import")
		unreachable.fails(1, "open", "ls")
	})
})
