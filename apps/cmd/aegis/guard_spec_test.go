package main_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/domain/vault"
)

// treeHashes maps every file under dir to its mode and the SHA-256 of its
// content.
func treeHashes(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p] = info.Mode().String()
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %x", info.Mode(), sha256.Sum256(b))
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return out
}

var _ = Describe("what aegis leaves alone", func() {
	It("refuses to init a local vault over the objects of one whose header was lost, and changes nothing there", func() {
		dir := GinkgoT().TempDir()
		writeFile(dir, "pass", "lost header passphrase\n")
		writeFile(dir, "data.json", sample)
		user := runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass")}}
		user.ok("init")
		user.ok("store", "data.json")
		user.input(bytes.Repeat([]byte("photo "), 300<<10)).ok("put", "photos")

		vaultDir := filepath.Join(dir, "aegis-vault")
		id := vault.HeaderID("").String()
		header := filepath.Join(vaultDir, "objects", id[:2], id)
		Expect(header).To(BeARegularFile())
		Expect(os.Remove(header)).To(Succeed())
		before := treeHashes(vaultDir)
		Expect(len(before)).To(BeNumerically(">", 4))

		// Without its header the vault is gone for every command…
		user.fails(5, "no vault at", "ls")
		// …and init will not write a new one over its objects, whatever the
		// passphrase or the KDF.
		res := user.fails(1, "the store already holds objects", "init")
		Expect(res.Stderr).To(ContainSubstring("refusing to create a vault over them"))
		Expect(strings.Count(strings.TrimSpace(res.Stderr), "\n")).To(BeZero(), "one line: %q", res.Stderr)
		writeFile(dir, "other", "other: amber walrus pivot lantern\n")
		user.fails(1, "the store already holds objects", "--passphrase-file", filepath.Join(dir, "other"), "init", "--kdf", "argon2id")
		Expect(treeHashes(vaultDir)).To(Equal(before), "init changed the directory")

		// An empty directory elsewhere is fine.
		user.ok("--vault", filepath.Join(dir, "fresh"), "init")
	})

	It("leaves another named vault on the server alone through every command on the first", func(ctx SpecContext) {
		start := time.Now()
		srv := startOwnServer()
		dir := GinkgoT().TempDir()
		writeFile(dir, "data.json", sample)
		photos := bytes.Repeat([]byte("the other vault's photo "), 60<<10) // two chunks
		writeFile(dir, "photos.bin", string(photos))

		nameB := randomName("vault-b")
		b := remoteUser(dir, srv.URL, nameB, "passphrase of B")
		b.ok("init")
		b.ok("store", "data.json")
		b.ok("put", "photos", "photos.bin")
		bFiles := serverFiles(srv.Store)
		Expect(bFiles).To(HaveLen(statsObjects(b)))
		bv := openDirect(ctx, srv.URL, nameB, vaultKey(b), "passphrase of B")
		bAll, err := bv.LoadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(bAll).To(HaveLen(4))

		checkB := func(after string) {
			GinkgoHelper()
			now := serverFiles(srv.Store)
			for id, h := range bFiles {
				Expect(now).To(HaveKeyWithValue(id, h), "after %s: an object of vault B is gone or changed", after)
			}
			all, err := bv.LoadAll(ctx)
			Expect(err).NotTo(HaveOccurred(), "after %s", after)
			Expect(all).To(Equal(bAll), "after %s", after)
		}

		// Vault A: the same categories, on the same server, then every command.
		a := remoteUser(dir, srv.URL, randomName("vault-a"), "passphrase of A")
		writeFile(dir, "one.json", `{"journal": {"only": "in A"}}`)
		newPass := writeFile(dir, "new-pass-a", "new passphrase of A\n")
		var c runner
		steps := []struct {
			what string
			run  func()
		}{
			{"init", func() { a.ok("init") }},
			{"put", func() { a.ok("put", "photos", "photos.bin") }},
			{"store", func() { a.ok("store", "data.json") }},
			{"store again (replacing)", func() { a.ok("store", "one.json") }},
			{"get", func() { Expect([]byte(a.ok("get", "photos"))).To(Equal(photos)) }},
			{"ls", func() { Expect(a.ok("ls")).To(Equal("bookmarks\njournal\nphotos\nsettings\n")) }},
			{"load", func() { Expect(a.ok("load", "journal")).To(MatchJSON(`{"journal": {"only": "in A"}}`)) }},
			{"stats", func() { Expect(a.ok("stats")).To(ContainSubstring("categories:       4")) }},
			{"rotate", func() { a.ok("rotate") }},
			{"rm", func() { a.ok("rm", "photos") }},
			{"passwd", func() {
				a.ok("passwd", "--new-passphrase-file", newPass)
				a = a.with("AEGIS_PASSPHRASE_FILE=" + newPass)
			}},
			{"put after passwd", func() { a.input([]byte("small")).ok("put", "notes") }},
			// Another machine, without B's key, names its new vault like B: the
			// header id derives from the vault key, so it is another vault.
			{"init of B's name on another machine", func() {
				c = remoteUser(GinkgoT().TempDir(), srv.URL, nameB, "passphrase of C")
				c.ok("init")
				c.input([]byte("C's")).ok("put", "photos")
			}},
		}
		for _, s := range steps {
			s.run()
			checkB(s.what)
		}
		// Nothing else: B's objects, and those A and C reference.
		Expect(serverObjectIDs(srv.Store)).To(HaveLen(len(bFiles) + statsObjects(a) + statsObjects(c)))

		// B through the CLI.
		Expect(b.ok("load", "bookmarks", "journal", "settings")).To(MatchJSON(sample))
		Expect([]byte(b.ok("get", "photos"))).To(Equal(photos))
		GinkgoWriter.Printf("vault B intact through %d commands on A: %v\n", len(steps), time.Since(start).Round(time.Second))
	})
})
