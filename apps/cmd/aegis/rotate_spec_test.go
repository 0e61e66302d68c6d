package main_test

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/domain/vault"
)

// objectFiles returns the object file names of a local vault directory.
func objectFiles(vaultDir string) map[string]bool {
	GinkgoHelper()
	names := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(vaultDir, "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".tmp-") {
			names[d.Name()] = true
		}
		return err
	})
	Expect(err).NotTo(HaveOccurred())
	return names
}

func shared(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if b[k] {
			out = append(out, k)
		}
	}
	return out
}

var _ = Describe("aegis passwd --rotate on a local vault", func() {
	var (
		dir, vaultDir string
		user, renewed runner // the old passphrase, the new one
		photos        []byte
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		vaultDir = filepath.Join(dir, "aegis-vault")
		writeFile(dir, "data.json", sample)
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + writeFile(dir, "pass", "the old passphrase\n")}}
		renewed = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + writeFile(dir, "new", "the new passphrase\n")}}
		user.ok("init")
		user.ok("store", "data.json")
		photos = make([]byte, 2<<20+12345) // three 1 MiB chunks
		_, _ = rand.Read(photos)
		user.input(photos).ok("put", "photos")
	})

	readsPhotos := func(who runner) {
		GinkgoHelper()
		out := filepath.Join(dir, "photos.out")
		who.ok("get", "photos", "-o", out)
		got, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(got, photos)).To(BeTrue(), "photos changed")
	}

	It("replaces every object; a copy taken before, with the old passphrase, reads nothing stored afterwards", func() {
		backup := filepath.Join(dir, "backup")
		out, err := exec.Command("cp", "-r", vaultDir, backup).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		before := objectFiles(vaultDir)

		Expect(user.ok("passwd", "--rotate", "--new-passphrase-file", filepath.Join(dir, "new"))).To(BeEmpty())

		// Every object was rewritten: the header (whose name is fixed) is the only
		// name the vault shares with the copy.
		Expect(shared(before, objectFiles(vaultDir))).To(ConsistOf(vault.HeaderID("").String()))
		user.fails(3, "wrong passphrase", "ls")
		Expect(renewed.ok("load", "bookmarks", "journal", "settings")).To(MatchJSON(sample))
		readsPhotos(renewed)

		// Written after the rotate: a new category, and journal rewritten.
		renewed.input([]byte("written after the rotate")).ok("put", "diary")
		writeFile(dir, "later.json", `{"journal": {"2024-06-01": "a later secret"}}`)
		renewed.ok("store", "later.json")

		// The copy, opened with the old passphrase, is the vault as it was; and so
		// it stays when every object written since is put beside it (someone who
		// kept the copy and reads the store later). Only reading commands run on
		// it: a writing one would sweep the foreign objects away.
		old := user.with("AEGIS_VAULT=" + backup)
		check := func() {
			GinkgoHelper()
			Expect(old.ok("ls")).To(Equal("bookmarks\njournal\nphotos\nsettings\n"))
			Expect(old.ok("load", "bookmarks", "journal", "settings")).To(MatchJSON(sample))
			old.fails(5, `"diary"`, "get", "diary")
			readsPhotos(old)
		}
		check()
		added := 0
		err = filepath.WalkDir(filepath.Join(vaultDir, "objects"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(vaultDir, path)
			target := filepath.Join(backup, rel)
			if _, err := os.Stat(target); err == nil {
				return nil // the header: the copy keeps its own
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			Expect(os.MkdirAll(filepath.Dir(target), 0o700)).To(Succeed())
			added++
			return os.WriteFile(target, b, 0o600)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(added).To(BeNumerically(">=", 7)) // 3 + 3 chunks + manifest, then the later writes
		check()
		Expect(old.ok("load", "journal")).NotTo(ContainSubstring("a later secret"))

		// The live vault, with the new passphrase, reads everything.
		Expect(renewed.ok("ls")).To(Equal("bookmarks\ndiary\njournal\nphotos\nsettings\n"))
		Expect(renewed.ok("get", "diary")).To(Equal("written after the rotate"))
		Expect(renewed.ok("load", "journal")).To(MatchJSON(`{"journal": {"2024-06-01": "a later secret"}}`))
		readsPhotos(renewed)
	})

	It("keeps the data objects with plain passwd (only the keys are re-wrapped)", func() {
		before := objectFiles(vaultDir)
		Expect(user.ok("passwd", "--new-passphrase-file", filepath.Join(dir, "new"))).To(BeEmpty())
		// All but the manifest survive: the same data objects under the same data keys.
		Expect(shared(before, objectFiles(vaultDir))).To(HaveLen(len(before) - 1))
		readsPhotos(renewed)
	})
})
