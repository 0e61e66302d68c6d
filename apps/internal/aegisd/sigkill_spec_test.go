package aegisd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// sigkillRounds is the number of times aegisd is killed: 3, or a twentieth of
// AEGIS_CRASH_ITERATIONS when that is larger (see docs/testing.md).
func sigkillRounds() int {
	if s := os.Getenv("AEGIS_CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		Expect(err).NotTo(HaveOccurred(), "AEGIS_CRASH_ITERATIONS=%q", s)
		return max(3, n/20)
	}
	return 3
}

// sigkillServer is the aegisd binary running on fixed directories.
type sigkillServer struct {
	cmd    *exec.Cmd
	base   string
	logs   *syncBuffer
	exited chan struct{}
}

func startSigkillServer(ctx context.Context, bin, tmp, secret string) *sigkillServer {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	p := &sigkillServer{base: "http://" + addr, logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "--listen", addr,
		"--store", "file://"+filepath.Join(tmp, "objects"), "--ledger", "file://"+filepath.Join(tmp, "ledger"),
		"--issuer-dir", filepath.Join(tmp, "issuer"), "--attest-secret-file", secret)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	Expect(p.cmd.Start()).To(Succeed())
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	DeferCleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	Eventually(func() int {
		req, err := http.NewRequestWithContext(ctx, "GET", p.base+"/healthz", nil)
		if err != nil {
			return 0
		}
		res, err := plainClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}, "10s", "20ms").Should(Equal(http.StatusOK), "aegisd did not come up; log:\n%s", p.logs)
	return p
}

// sigkillToken is a token source that has exactly one token.
func sigkillToken(t []byte) *sliceTokens { return &sliceTokens{toks: [][]byte{t}} }

// sigkillScan reads a file store's objects directory: every object file by id
// (the store-format marker checked and left out), and the number of temp files.
func sigkillScan(storeDir string) (map[domain.ObjectID][]byte, int) {
	GinkgoHelper()
	objs := map[domain.ObjectID][]byte{}
	temps := 0
	err := filepath.WalkDir(filepath.Join(storeDir, "objects"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			temps++
			return nil
		}
		id, err := domain.ParseObjectID(d.Name())
		Expect(err).NotTo(HaveOccurred(), "a file that is not an object: %s", path)
		b, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		if id == server.StoreFormatID {
			Expect(string(b)).To(Equal(server.StoreFormat))
			return nil
		}
		objs[id] = b
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return objs, 0
	}
	Expect(err).NotTo(HaveOccurred())
	return objs, temps
}

var _ = Describe("the aegisd binary on SIGKILL", Label("crash"), func() {
	It("leaves every object absent or whole, keeps acknowledged PUTs and spent tokens, and restarts", func(ctx SpecContext) {
		rounds := sigkillRounds()
		rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 3))
		GinkgoWriter.Printf("crash seed %d, %d rounds\n", GinkgoRandomSeed(), rounds)

		tmp := GinkgoT().TempDir()
		bin := aegisdBinary(ctx)
		secret := filepath.Join(tmp, "attest-secret")
		Expect(os.WriteFile(secret, []byte(testSecret+"\n"), 0o600)).To(Succeed())
		storeDir := filepath.Join(tmp, "objects")

		buckets := domain.DefaultBuckets().Sizes()
		sent := map[domain.ObjectID][]byte{} // every object ever PUT (acknowledged or not)
		acked := map[domain.ObjectID]bool{}  // acknowledged PUTs of all rounds
		var spent [][]byte                   // tokens of acknowledged requests
		var unused [][]byte                  // tokens issued before a kill and never sent
		var report strings.Builder
		const objects, workers = 64, 8

		// After a restart (aegisd opens its store), no temp file is left and the
		// store lists only whole objects (behind their enabler's hash).
		restarted := func(what string) {
			GinkgoHelper()
			onDisk, temps := sigkillScan(storeDir)
			Expect(temps).To(BeZero(), "%s: temp files survived the restart", what)
			fsStore, err := fsblob.Open(storeDir, nil)
			Expect(err).NotTo(HaveOccurred())
			n := 0
			Expect(fsStore.List(ctx, func(id domain.ObjectID) error {
				if id == server.StoreFormatID {
					return nil
				}
				n++
				b, err := fsStore.Get(ctx, id)
				Expect(err).NotTo(HaveOccurred())
				Expect(bytes.Equal(b, storedAs(id, sent[id]))).To(BeTrue(), "%s: object %s", what, id)
				return nil
			})).To(Succeed())
			Expect(n).To(Equal(len(onDisk)))
		}

		for round := range rounds {
			srv := startSigkillServer(ctx, bin, tmp, secret)
			if round > 0 {
				restarted(fmt.Sprintf("round %d", round))
			}

			// The restarted server: tokens issued by the previous process verify
			// (the key store reopened), tokens it accepted stay spent (the ledger
			// reopened), and it serves every acknowledged object whole.
			for _, t := range unused {
				s, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: sigkillToken(t), Attempts: 1})
				Expect(err).NotTo(HaveOccurred())
				_, err = s.Get(ctx, newID())
				Expect(err).To(MatchError(domain.ErrNotFound), "round %d: a token issued before the kill", round)
			}
			for _, t := range spent {
				s, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: sigkillToken(t), Attempts: 1})
				Expect(err).NotTo(HaveOccurred())
				_, err = s.Get(ctx, newID())
				Expect(err).To(MatchError(domain.ErrTokenSpent), "round %d: a token spent before the kill was accepted again", round)
			}
			unused, spent = nil, nil
			pool, err := httpblob.NewTokenPool(ctx, srv.base, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
			Expect(err).NotTo(HaveOccurred())
			reader, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: pool})
			Expect(err).NotTo(HaveOccurred())
			for id := range acked {
				b, err := reader.Get(ctx, id)
				Expect(err).NotTo(HaveOccurred())
				Expect(bytes.Equal(b, sent[id])).To(BeTrue(), "round %d: object %s", round, id)
			}

			// One PUT whose token is known: after the kill it must stay spent.
			known, err := pool.Token(ctx)
			Expect(err).NotTo(HaveOccurred())
			first := newID()
			sent[first] = randomBytes(buckets[0])
			s1, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: sigkillToken(known), Attempts: 1})
			Expect(err).NotTo(HaveOccurred())
			Expect(guarded(s1).Put(ctx, first, sent[first])).To(Succeed())
			acked[first] = true
			spent = append(spent, known)

			// Concurrent PUTs of every bucket size; SIGKILL after a random number of
			// acknowledgements. Tokens are fetched beforehand; each PUT is tried once.
			src := &sliceTokens{}
			for range objects + workers {
				t, err := pool.Token(ctx)
				Expect(err).NotTo(HaveOccurred())
				src.toks = append(src.toks, t)
			}
			plain, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: src, Attempts: 1})
			Expect(err).NotTo(HaveOccurred())
			store := guarded(plain)
			ids := make([]domain.ObjectID, objects)
			for i := range ids {
				ids[i] = newID()
				sent[ids[i]] = randomBytes(buckets[rng.IntN(len(buckets))])
			}
			killAt := int64(1 + rng.IntN(objects/2))
			var (
				next      atomic.Int64
				nAck      atomic.Int64
				nFail     atomic.Int64
				mu        sync.Mutex
				roundAcks []domain.ObjectID
				wg        sync.WaitGroup
				once      sync.Once
			)
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
						mu.Lock()
						roundAcks = append(roundAcks, ids[i])
						mu.Unlock()
						if nAck.Add(1) == killAt {
							once.Do(func() { _ = srv.cmd.Process.Signal(syscall.SIGKILL) })
						}
					}
				})
			}
			wg.Wait()
			Eventually(srv.exited, "10s").Should(BeClosed())
			ws := srv.cmd.ProcessState.Sys().(syscall.WaitStatus)
			Expect(ws.Signaled() && ws.Signal() == syscall.SIGKILL).To(BeTrue(), "aegisd was not killed: %v; log:\n%s", srv.cmd.ProcessState, srv.logs)
			Expect(nAck.Load() + nFail.Load()).To(BeEquivalentTo(objects))
			for _, id := range roundAcks {
				acked[id] = true
			}
			unused = append(unused, src.toks...)

			// The directory, as the killed process left it: every object file is a
			// sent id holding exactly the bytes sent behind the enabler's hash;
			// temp files may remain.
			onDisk, temps := sigkillScan(storeDir)
			for id, b := range onDisk {
				body, ok := sent[id]
				Expect(ok).To(BeTrue(), "round %d: an object that was never sent: %s", round, id)
				want := storedAs(id, body)
				Expect(bytes.Equal(b, want)).To(BeTrue(), "round %d: torn object %s: %d bytes, sent %d", round, id, len(b), len(want))
			}
			for id := range acked {
				Expect(onDisk).To(HaveKey(id), "round %d: an acknowledged PUT is missing", round)
			}

			inFlight := 0
			for _, id := range ids {
				if _, ok := onDisk[id]; ok && !acked[id] {
					inFlight++
				}
			}
			line := fmt.Sprintf("round %d: killed after %d acknowledged PUTs; %d failed (%d of them stored whole all the same); %d temp files left by the kill, removed by the restart\n",
				round, nAck.Load(), nFail.Load(), inFlight, temps)
			report.WriteString(line)
			GinkgoWriter.Print(line)
		}

		// A last restart serves everything acknowledged.
		srv := startSigkillServer(ctx, bin, tmp, secret)
		restarted("last restart")
		pool, err := httpblob.NewTokenPool(ctx, srv.base, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		reader, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: pool})
		Expect(err).NotTo(HaveOccurred())
		for id := range acked {
			b, err := reader.Get(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			Expect(bytes.Equal(b, sent[id])).To(BeTrue())
		}
		for _, t := range spent {
			s, err := httpblob.Open(srv.base, &httpblob.Options{Tokens: sigkillToken(t), Attempts: 1})
			Expect(err).NotTo(HaveOccurred())
			_, err = s.Get(ctx, newID())
			Expect(err).To(MatchError(domain.ErrTokenSpent))
		}
		AddReportEntry("crash tally: aegisd", fmt.Sprintf("seed %d, %d acknowledged objects kept\n%s", GinkgoRandomSeed(), len(acked), report.String()))
	})
})
