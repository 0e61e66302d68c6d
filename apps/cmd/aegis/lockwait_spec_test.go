package main_test

import (
	"bytes"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("aegis waiting for another writer's lock", func() {
	It("says at once that it waits and for which lock, then writes once the other writer is done", func() {
		dir, user := newVault()
		vaultDir := filepath.Join(dir, "aegis-vault")

		// The first writer streams from a pipe kept open: once its first chunk is
		// stored it is inside its write, holding the writer lock.
		first := user.command("put", "a", "-")
		stdin, err := first.StdinPipe()
		Expect(err).NotTo(HaveOccurred())
		defer stdin.Close()
		a, err := gexec.Start(first, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		before := len(objectFiles(vaultDir))
		payload := bytes.Repeat([]byte("text "), 2<<18)
		_, err = stdin.Write(payload)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { return len(objectFiles(vaultDir)) }, 20*time.Second).Should(BeNumerically(">", before))

		second := user.command("put", "b", writeFile(dir, "b.txt", "from the second writer"))
		b, err := gexec.Start(second, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(b.Err, 20*time.Second).Should(gbytes.Say(`aegis: waiting for another aegis process to release the vault's writer lock \(aegis-vault/writer.lock\); up to 30s`))
		Expect(b.ExitCode()).To(Equal(-1), "the second writer did not wait")

		Expect(stdin.Close()).To(Succeed())
		Eventually(a, 20*time.Second).Should(gexec.Exit(0))
		Eventually(b, 30*time.Second).Should(gexec.Exit(0))
		Expect(user.ok("get", "b")).To(Equal("from the second writer"))
		Expect(user.ok("get", "a")).To(Equal(string(payload)))
	})

	It("says nothing when the lock is free", func() {
		_, user := newVault()
		res := user.input([]byte("x")).run("put", "x")
		Expect(res.Code).To(Equal(0))
		Expect(res.Stderr).To(BeEmpty())
	})
})
