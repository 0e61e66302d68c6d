//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fileledger_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/ai-pantheon/aegis/adapters/fileledger"
	"github.com/ai-pantheon/aegis/domain"
)

const part = "0123456789abcdef"

var _ = Describe("Ledger", func() {
	var (
		ctx    context.Context
		dir    string
		ledger *fileledger.Ledger
	)

	BeforeEach(func() {
		ctx = context.Background()
		dir = filepath.Join(GinkgoT().TempDir(), "ledger")
		var err error
		ledger, err = fileledger.Open(dir, &fileledger.Options{Create: true})
		Expect(err).NotTo(HaveOccurred())
	})

	nonce := func() []byte {
		n := make([]byte, 32)
		rand.Read(n)
		return n
	}
	mark := func(l *fileledger.Ledger, n []byte) bool {
		GinkgoHelper()
		spent, err := l.MarkSpent(ctx, part, n)
		Expect(err).NotTo(HaveOccurred())
		return spent
	}
	reopen := func() *fileledger.Ledger {
		GinkgoHelper()
		l, err := fileledger.Open(dir, nil)
		Expect(err).NotTo(HaveOccurred())
		return l
	}
	logFile := func() string { return filepath.Join(dir, part+".log") }

	Describe("Open", func() {
		It("creates the directory 0700 and partition files 0600", func() {
			mark(ledger, nonce())
			fi, err := os.Stat(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode().Perm()).To(Equal(fs.FileMode(0o700)))
			fi, err = os.Stat(logFile())
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode().Perm()).To(Equal(fs.FileMode(0o600)))
		})

		It("refuses a missing directory without Create", func() {
			_, err := fileledger.Open(filepath.Join(dir, "absent"), nil)
			Expect(err).To(MatchError(domain.ErrNotFound))
		})
	})

	Context("after a restart", func() {
		It("still reports every spent nonce as spent", func() {
			ns := [][]byte{nonce(), nonce(), nonce()}
			for _, n := range ns {
				Expect(mark(ledger, n)).To(BeFalse())
			}
			again := reopen()
			for _, n := range ns {
				Expect(mark(again, n)).To(BeTrue())
			}
			Expect(mark(again, nonce())).To(BeFalse())
		})

		It("forgets a dropped partition", func() {
			n := nonce()
			mark(ledger, n)
			Expect(ledger.DropPartition(ctx, part)).To(Succeed())
			Expect(logFile()).NotTo(BeAnExistingFile())
			Expect(mark(reopen(), n)).To(BeFalse())
		})
	})

	Context("with a torn last record", func() {
		var spent, torn []byte

		BeforeEach(func() {
			spent, torn = nonce(), nonce()
			Expect(mark(ledger, spent)).To(BeFalse())
			// Simulate a crash mid-append: write a record of torn by a second
			// ledger, then cut it short.
			other := reopen()
			Expect(mark(other, torn)).To(BeFalse())
			fi, err := os.Stat(logFile())
			Expect(err).NotTo(HaveOccurred())
			Expect(os.Truncate(logFile(), fi.Size()-5)).To(Succeed())
		})

		It("ignores the partial record on open and truncates it", func() {
			before, err := os.Stat(logFile())
			Expect(err).NotTo(HaveOccurred())
			again := reopen()
			after, err := os.Stat(logFile())
			Expect(err).NotTo(HaveOccurred())
			Expect(after.Size()).To(Equal(before.Size() - (2 + 32 + 4 - 5)))

			Expect(mark(again, spent)).To(BeTrue())
			Expect(mark(again, torn)).To(BeFalse(), "a torn record must not count as spent")
			// The new record went onto a record boundary: a fresh process reads it.
			Expect(mark(reopen(), torn)).To(BeTrue())
		})

		It("is repaired by a process that had already read the file", func() {
			// ledger read the file before the torn append; it catches up under the lock.
			Expect(mark(ledger, torn)).To(BeFalse())
			Expect(mark(reopen(), torn)).To(BeTrue())
		})

		It("never reads garbage after a torn record as another nonce: it fails closed", func() {
			// Bytes after the torn record that a crash cannot explain: a record header
			// claiming a shorter nonce, with a wrong checksum.
			f, err := os.OpenFile(logFile(), os.O_WRONLY|os.O_APPEND, 0)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.Write([]byte{0xA5, 0x04, 1, 2, 3, 4, 0, 0})
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Close()).To(Succeed())
			_, err = fileledger.Open(dir, nil)
			Expect(err).To(MatchError(domain.ErrIntegrity))
		})

		It("does not take a complete record with a bad checksum for a torn one", func() {
			// Restore the torn record to full length, then damage one bit of its nonce:
			// dropping it would forget a spent nonce, so it is corruption.
			Expect(os.Truncate(logFile(), 0)).To(Succeed())
			fresh := reopen()
			Expect(mark(fresh, spent)).To(BeFalse())
			fi, err := os.Stat(logFile())
			Expect(err).NotTo(HaveOccurred())
			f, err := os.OpenFile(logFile(), os.O_RDWR, 0)
			Expect(err).NotTo(HaveOccurred())
			b := make([]byte, 1)
			_, err = f.ReadAt(b, fi.Size()-10)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.WriteAt([]byte{b[0] ^ 0x01}, fi.Size()-10) // one bit, always a change
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Close()).To(Succeed())
			_, err = fileledger.Open(dir, nil)
			Expect(err).To(MatchError(domain.ErrIntegrity))
		})
	})

	It("reports damage before the last record as an integrity error", func() {
		for range 20 {
			mark(ledger, nonce())
		}
		f, err := os.OpenFile(logFile(), os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		b := make([]byte, 1)
		_, err = f.ReadAt(b, 40) // inside the second record's nonce
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteAt([]byte{b[0] ^ 0xff}, 40) // always a change
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		_, err = fileledger.Open(dir, nil)
		Expect(err).To(MatchError(domain.ErrIntegrity))
	})

	It("sees marks made through another Ledger on the same directory", func() {
		other := reopen()
		n := nonce()
		Expect(mark(other, n)).To(BeFalse())
		Expect(mark(ledger, n)).To(BeTrue())
	})

	It("honours a drop made through another Ledger", func() {
		other := reopen()
		n := nonce()
		mark(ledger, n)
		Expect(other.DropPartition(ctx, part)).To(Succeed())
		Expect(mark(ledger, n)).To(BeFalse())
		Expect(mark(other, n)).To(BeTrue())
	})

	It("waits for a lock held by another process and gives up when ctx ends", func() {
		mark(ledger, nonce())
		other := reopen()
		f, err := os.OpenFile(logFile(), os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		Expect(syscall.Flock(int(f.Fd()), syscall.LOCK_EX)).To(Succeed())
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = other.MarkSpent(short, part, nonce())
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "got %v", err)
	})

	It("lets exactly one of several processes spend each nonce", func() {
		const procs, count = 4, 200
		var (
			sessions []*gexec.Session
			stdins   []io.WriteCloser
		)
		for range procs {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=mark", dirEnv+"="+dir, countEnv+"="+strconv.Itoa(count))
			w, err := cmd.StdinPipe()
			Expect(err).NotTo(HaveOccurred())
			s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Kill)
			Eventually(s.Out, 30*time.Second).Should(gbytes.Say("ready"))
			sessions = append(sessions, s)
			stdins = append(stdins, w)
		}
		for _, w := range stdins {
			_, err := io.WriteString(w, "go\n")
			Expect(err).NotTo(HaveOccurred())
		}
		total := 0
		re := regexp.MustCompile(`fresh (\d+)`)
		for _, s := range sessions {
			Eventually(s, 60*time.Second).Should(gexec.Exit(0))
			m := re.FindSubmatch(s.Out.Contents())
			Expect(m).NotTo(BeNil())
			n, _ := strconv.Atoi(string(m[1]))
			total += n
		}
		Expect(total).To(Equal(count))
	})
})
