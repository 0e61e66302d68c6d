package aegisd_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// sliceTokens is a domain.TokenSource over tokens fetched beforehand, so that
// the PUTs of the spec do not wait for issuance.
type sliceTokens struct {
	mu   sync.Mutex
	toks [][]byte
}

func (s *sliceTokens) Token(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.toks) == 0 {
		return nil, errors.New("out of tokens")
	}
	t := s.toks[0]
	s.toks = s.toks[1:]
	return t, nil
}

var _ = Describe("the aegisd binary on SIGTERM", func() {
	It("finishes in-flight PUTs, exits 0 and leaves every object absent or whole", func(ctx SpecContext) {
		tmp := GinkgoT().TempDir()
		bin := aegisdBinary(ctx)

		secret := filepath.Join(tmp, "attest-secret")
		Expect(os.WriteFile(secret, []byte(testSecret+"\n"), 0o600)).To(Succeed())
		storeDir := filepath.Join(tmp, "objects")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())

		logs := &syncBuffer{}
		cmd := exec.Command(bin, "--listen", addr,
			"--store", "file://"+storeDir, "--ledger", "file://"+filepath.Join(tmp, "ledger"),
			"--issuer-dir", filepath.Join(tmp, "issuer"), "--attest-secret-file", secret)
		cmd.Stdout, cmd.Stderr = logs, logs
		Expect(cmd.Start()).To(Succeed())
		var waitErr error
		exited := make(chan struct{}) // closed when the process has exited (waitErr set)
		go func() { waitErr = cmd.Wait(); close(exited) }()
		DeferCleanup(func() {
			select {
			case <-exited:
			default:
				_ = cmd.Process.Kill()
				<-exited
			}
		})

		base := "http://" + addr
		Eventually(func() int {
			res, err := plainClient.Get(base + "/healthz")
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		}, "10s", "20ms").Should(Equal(http.StatusOK), "aegisd did not come up; log:\n%s", logs)

		// Tokens for every try of every PUT, fetched ahead of time.
		const objects, workers = 96, 8
		pool, err := httpblob.NewTokenPool(ctx, base, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		src := &sliceTokens{}
		for range 2 * objects {
			t, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			src.toks = append(src.toks, t)
		}
		plain, err := httpblob.Open(base, &httpblob.Options{Tokens: src, Attempts: 2, Backoff: 20 * time.Millisecond})
		Expect(err).NotTo(HaveOccurred())
		store := guarded(plain)

		// A request with client metadata that must not reach the log.
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("User-Agent", "SpyBrowser/9.9 (sigterm-agent-4417)")
		req.Header.Set("X-Forwarded-For", "203.0.113.77")
		res, err := plainClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		res.Body.Close()

		// Objects of every bucket size, PUT by 8 workers; SIGTERM after the
		// first 8 are acknowledged.
		buckets := domain.DefaultBuckets().Sizes()
		sent := map[domain.ObjectID][]byte{}
		ids := make([]domain.ObjectID, objects)
		for i := range ids {
			ids[i] = newID()
			sent[ids[i]] = randomBytes(buckets[i%len(buckets)])
		}
		var (
			next  atomic.Int64
			acked sync.Map // domain.ObjectID -> true
			nAck  atomic.Int64
			nFail atomic.Int64
			wg    sync.WaitGroup
		)
		signalled := make(chan error, 1)
		var once sync.Once
		for range workers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= objects {
						return
					}
					if err := store.Put(ctx, ids[i], sent[ids[i]]); err != nil {
						nFail.Add(1)
						continue
					}
					acked.Store(ids[i], true)
					if nAck.Add(1) == workers {
						once.Do(func() { signalled <- cmd.Process.Signal(syscall.SIGTERM) })
					}
				}
			})
		}
		Eventually(signalled, "10s").Should(Receive(BeNil()), "SIGTERM not sent")
		Eventually(exited, "10s").Should(BeClosed(), "aegisd did not exit; log:\n%s", logs)
		Expect(waitErr).NotTo(HaveOccurred(), "aegisd did not exit 0; log:\n%s", logs)
		Expect(cmd.ProcessState.ExitCode()).To(Equal(0))
		wg.Wait()
		Expect(nAck.Load()).To(BeNumerically(">=", workers))
		Expect(nFail.Load()).To(BeNumerically(">", 0), "SIGTERM came after the whole batch")
		Expect(nAck.Load() + nFail.Load()).To(BeEquivalentTo(objects))

		// The store directory: every object file is a sent id with exactly the
		// bytes sent (bucket-sized) behind its enabler's hash, or the format
		// marker; no temp file is left anywhere.
		found := map[domain.ObjectID]bool{}
		Expect(filepath.WalkDir(filepath.Join(storeDir, "objects"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			Expect(d.Name()).NotTo(HavePrefix(".tmp-"), "temp debris after a graceful stop: %s", path)
			id, err := domain.ParseObjectID(d.Name())
			Expect(err).NotTo(HaveOccurred(), "a file that is not an object: %s", path)
			Expect(filepath.Base(filepath.Dir(path))).To(Equal(d.Name()[:2]))
			got, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			if id == server.StoreFormatID {
				Expect(string(got)).To(Equal(server.StoreFormat))
				return nil
			}
			sentBody, ok := sent[id]
			Expect(ok).To(BeTrue(), "an object that was never sent: %s", path)
			want := storedAs(id, sentBody)
			Expect(got).To(HaveLen(len(want)), "torn object %s", path)
			Expect(got).To(Equal(want), "object %s holds other bytes than sent", path)
			found[id] = true
			return nil
		})).To(Succeed())
		acked.Range(func(k, _ any) bool {
			Expect(found).To(HaveKey(k), "an acknowledged PUT is missing")
			return true
		})

		// Reopened, the store lists only those objects, whole.
		fsStore, err := fsblob.Open(storeDir, nil)
		Expect(err).NotTo(HaveOccurred())
		listed := 0
		Expect(fsStore.List(ctx, func(id domain.ObjectID) error {
			if id == server.StoreFormatID {
				return nil
			}
			listed++
			Expect(found).To(HaveKey(id))
			b, err := fsStore.Get(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			Expect(b).To(Equal(storedAs(id, sent[id])))
			return nil
		})).To(Succeed())
		Expect(listed).To(Equal(len(found)))
		GinkgoWriter.Printf("PUTs acknowledged %d, failed %d; objects on disk %d\n", nAck.Load(), nFail.Load(), len(found))

		// The log: request lines without client metadata, the stop line.
		log := logs.String()
		Expect(log).To(ContainSubstring("aegisd: stopped"))
		format := regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d0Z level=INFO msg=request method=[A-Z]+ route=\S+ status=\d{3} size=\S+$`)
		for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
			if strings.Contains(l, ` level=INFO msg="aegisd: listening on `+addr+" ") || strings.HasSuffix(l, ` level=INFO msg="aegisd: stopped"`) {
				continue
			}
			Expect(l).To(MatchRegexp(format.String()))
			for _, s := range []string{"127.0.0.1", "SpyBrowser", "sigterm-agent", "203.0.113.77"} {
				Expect(l).NotTo(ContainSubstring(s))
			}
		}
		Expect(log).NotTo(ContainSubstring("SpyBrowser"))
		Expect(strings.Count(log, "127.0.0.1")).To(Equal(1), "only the listening line names an address")
		Expect(log).To(MatchRegexp(`(?m)^time=\S+ level=INFO msg=request method=PUT route=/v1/objects/:id status=204 size=\S+$`))
	})
})
