package local_test

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/local"
)

var _ = Describe("a vault on a directory whose writer lock another writer holds", func() {
	It("calls OnLockWait with the lock file and the timeout, then writes once the lock is free", func() {
		ctx := context.Background()
		dir := filepath.Join(GinkgoT().TempDir(), "vault")
		type wait struct {
			file    string
			timeout time.Duration
		}
		waits := make(chan wait, 4)
		opts := &local.Options{Crypto: testCrypto(), OnLockWait: func(f string, t time.Duration) { waits <- wait{f, t} }}
		v, err := local.Create(ctx, dir, []byte("directory passphrase"), opts)
		Expect(err).NotTo(HaveOccurred())
		defer v.Close()
		Expect(v.Put(ctx, "free", strings.NewReader("x"))).To(Succeed())
		Expect(waits).To(BeEmpty())

		other, err := fsblob.Open(dir, nil)
		Expect(err).NotTo(HaveOccurred())
		unlock, err := other.Lock(ctx)
		Expect(err).NotTo(HaveOccurred())
		done := make(chan error, 1)
		go func() { done <- v.Put(ctx, "waited", strings.NewReader("y")) }()
		var got wait
		Eventually(waits, 10*time.Second).Should(Receive(&got))
		Expect(got).To(Equal(wait{fsblob.WriterLockPath(dir), 30 * time.Second}))
		Expect(done).NotTo(Receive())
		Expect(unlock()).To(Succeed())
		Eventually(done, 10*time.Second).Should(Receive(BeNil()))
	})
})
