package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/cli"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// The remote suite runs twice: straight to aegisd, and through a real
// aegis-relay to aegisd's Oblivious HTTP gateway with an unresolvable --remote
// host (the client then never connects to the server at all).
var _ = Describe("aegis on a remote vault (aegisd on 127.0.0.1)", func() { remoteSuite(false) })
var _ = Describe("aegis on a remote vault through aegis-relay, --remote unresolvable", func() { remoteSuite(true) })

func remoteSuite(viaRelay bool) {
	var (
		dir  string
		name string
		user runner
		// unreachable is the environment under which the server cannot be
		// reached: a closed port for --remote, or for --relay.
		unreachable string
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
		unreachable = "AEGIS_REMOTE=http://127.0.0.1:1"
		if viaRelay {
			user = user.with("AEGIS_REMOTE="+unresolvableRemote, "AEGIS_RELAY="+startRelay(serverURL))
			unreachable = "AEGIS_RELAY=http://127.0.0.1:1"
		}
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

	It("says in one line what went wrong with a wrong attestation secret or an unreachable server", func() {
		user.ok("init")
		bad := writeFile(dir, "bad-secret", "this is not the secret at all\n")
		target := serverURL
		if viaRelay {
			target = unresolvableRemote
		}
		res := user.with("AEGIS_ATTEST_SECRET_FILE="+bad).fails(1, "aegis: the server at "+target+
			" refused the attestation secret (AEGIS_ATTEST_SECRET_FILE / --attest-secret-file): check it matches aegisd's", "ls")
		expectOneCleanLine(res)
		down := user.with(unreachable)
		down.input([]byte(user.ok("vault-key", "export"))).ok("vault-key", "import")
		want := "aegis: cannot reach the server at http://127.0.0.1:1 (connection refused): check that aegisd runs there and that --remote (AEGIS_REMOTE) is right"
		if viaRelay {
			want = "aegis: cannot reach the relay at http://127.0.0.1:1 (connection refused): check that aegis-relay runs there and that --relay (AEGIS_RELAY) is right"
		}
		expectOneCleanLine(down.fails(1, want, "ls"))
		expectOneCleanLine(down.fails(1, want, "tokens", "fetch", "--count", "1"))
	})
}
