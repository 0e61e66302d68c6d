package main_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("aegis: the stores of --vault and --remote", func() {
	var (
		dir  string
		user runner
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeFile(dir, "pass", "correct horse battery staple\n")
		writeFile(dir, "secret", "correct-horse-battery-staple-attestation\n")
		user = runner{Dir: dir, Env: []string{"AEGIS_PASSPHRASE_FILE=" + filepath.Join(dir, "pass"),
			"AEGIS_ATTEST_SECRET_FILE=" + filepath.Join(dir, "secret")}}
	})

	// untouched checks that dir holds only the two files the spec wrote: no
	// vault, no configuration directory, no vault key.
	untouched := func() {
		GinkgoHelper()
		ents, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		Expect(names).To(ConsistOf("pass", "secret"))
	}

	It("refuses a URL that is not the http(s) base URL of an aegisd: exit 2, one line naming it, nothing written", func() {
		for _, remote := range []string{"ftp://vault.example", "file:///srv/vault", "vault.example", "https://vault.example/?v=1", "https://vault.example/#x"} {
			res := user.fails(2, "--remote \"", "--remote", remote, "init")
			Expect(res.Stderr).To(ContainSubstring("want the http(s) base URL of an aegisd, without user, query or fragment"))
			Expect(res.Stdout).To(BeEmpty())
			untouched()
		}
	})

	It("does not show a password written into the URL", func() {
		res := user.fails(2, `--remote "https://REDACTED@vault.example"`, "--remote", "https://me:hunter22secret@vault.example", "ls")
		Expect(res.Stderr).NotTo(ContainSubstring("hunter22secret"))
		untouched()
	})

	It("opens a --vault DIR as the store file://DIR: a missing one is exit 5 and not created, init creates it 0700", func() {
		vaultDir := filepath.Join(dir, "my vault")
		user.fails(5, "run `aegis init`", "--vault", vaultDir, "ls")
		untouched()
		user.ok("--vault", vaultDir, "init")
		fi, err := os.Stat(vaultDir)
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)))
		user.ok("--vault", vaultDir, "ls")
	})
})
