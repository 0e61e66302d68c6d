package main_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// snapshot returns the content of every file under dir, by path.
func snapshot(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for p := range files(dir) {
		out[p] = string(must(os.ReadFile(p)))
	}
	return out
}

var _ = Describe("aegis rotate and verify, on bad names and corrupt data", func() {
	var (
		dir, vaultDir string
		user          runner
	)

	BeforeEach(func() {
		dir, user = newVault()
		vaultDir = filepath.Join(dir, "aegis-vault")
		writeFile(dir, "data.json", `{"a": {"n": 1}, "b": [true]}`)
		user.ok("store", "data.json")
	})

	It("rotate checks every name first: rotate a nope exits 5 naming nope and changes nothing", func() {
		before := snapshot(filepath.Join(vaultDir, "objects"))
		res := user.fails(5, `rotate: no category "nope" in the vault; nothing was rotated`, "rotate", "a", "nope")
		Expect(res.Stderr).NotTo(ContainSubstring(`"a"`))
		Expect(snapshot(filepath.Join(vaultDir, "objects"))).To(Equal(before))
		user.fails(5, `no categories "x", "y" in the vault`, "rotate", "x", "y", "a", "x")
		Expect(snapshot(filepath.Join(vaultDir, "objects"))).To(Equal(before))

		// A good list still rotates (a name given twice, once).
		user.ok("rotate", "a", "a")
		Expect(snapshot(filepath.Join(vaultDir, "objects"))).NotTo(Equal(before))
		Expect(user.ok("load", "a")).To(MatchJSON(`{"a": {"n": 1}}`))
	})

	It("verify exits 4 on a corrupt object, naming the category, and 1 on a mismatch", func() {
		res := user.fails(1, "verify: 1 of 2 categories failed", "verify", writeFile(dir, "other.json", `{"a": {"n": 2}, "b": [true]}`))
		Expect(res.Stdout).To(ContainSubstring("FAIL\ta"))
		Expect(res.Stderr).NotTo(ContainSubstring("corrupt"))

		photos := putPhotos(user, filepath.Join(vaultDir, "objects"))
		flipByte(photos[1], 999)
		want := writeFile(dir, "want.json", `{"a": {"n": 1}, "photos": 1}`)
		res = user.fails(4, `verify: 1 of 2 categories failed; the stored data of "photos" is corrupt (run aegis check): category "photos" chunk `, "verify", want)
		Expect(res.Stderr).To(ContainSubstring("integrity check failed"))
		Expect(res.Stdout).To(ContainSubstring("PASS\ta"))
		Expect(res.Stdout).To(ContainSubstring("FAIL\tphotos"))
	})
})
