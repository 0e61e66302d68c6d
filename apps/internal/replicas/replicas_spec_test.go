package replicas_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

var passphrase = []byte("two replicas, one vault")

// client is a vault user talking to one base URL (a replica or the balancer).
type client struct {
	base  string
	store domain.BlobStore // guarded: enablerKey
	pool  *privacypass.Pool
}

// enablerKey keys the write-enablers of the vault's objects: every client of
// the suite is the same user.
var enablerKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// enabler is HMAC-SHA256 of the id under enablerKey.
func enabler(id domain.ObjectID) domain.WriteEnabler {
	m := hmac.New(sha256.New, enablerKey)
	m.Write(id[:])
	var e domain.WriteEnabler
	copy(e[:], m.Sum(nil))
	return e
}

func newClient(ctx context.Context, base string) *client {
	GinkgoHelper()
	pool, err := httpblob.NewTokenPool(ctx, base, []byte(attestSecret), &httpblob.PoolOptions{Batch: 128})
	Expect(err).NotTo(HaveOccurred())
	store, err := httpblob.Open(base, &httpblob.Options{Tokens: pool})
	Expect(err).NotTo(HaveOccurred())
	return &client{base: base, store: store.Guarded(enabler), pool: pool}
}

// vaultKey is the replicated vault's key (vault.Config.Locator): every client of
// the suite reaches the same vault through either replica.
var vaultKey = []byte("replicas suite vault key 32bytes")

func (c *client) cfg() vault.Config {
	return vault.Config{Store: c.store, Crypto: suite.New(kdf.InsecureTestPolicy()), Name: "replicated", Locator: vaultKey}
}

// loadAll opens the vault afresh and loads every category.
func (c *client) loadAll(ctx context.Context) (map[string][]byte, error) {
	v, err := vault.Open(ctx, c.cfg(), passphrase)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.LoadAll(ctx)
}

func categories(prefix string, n, size int) map[string][]byte {
	m := make(map[string][]byte, n)
	for i := range n {
		b := make([]byte, size)
		_, _ = rand.Read(b)
		m[fmt.Sprintf("%s-%02d", prefix, i)] = b
	}
	return m
}

func merged(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sameState reports whether got equals want exactly.
func sameState(got, want map[string][]byte) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			return false
		}
	}
	return true
}

// token fetches one token from base.
func token(ctx context.Context, base string) []byte {
	GinkgoHelper()
	pool, err := httpblob.NewTokenPool(ctx, base, []byte(attestSecret), &httpblob.PoolOptions{Batch: 1})
	Expect(err).NotTo(HaveOccurred())
	t, err := pool.Token(ctx)
	Expect(err).NotTo(HaveOccurred())
	return t
}

// getWith sends GET /v1/objects/ID with tok and returns the status and body.
func getWith(ctx context.Context, base string, id domain.ObjectID, tok []byte) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/objects/"+id.String(), nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", authHeader(tok))
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

func authHeader(tok []byte) string { return privacypass.FormatAuthorization(tok) }

func randomID() domain.ObjectID {
	var id domain.ObjectID
	_, _ = rand.Read(id[:])
	return id
}

var _ = Describe("two aegisd replicas on one bucket and one Redis", func() {
	var a, b *replica

	BeforeEach(func() {
		store := freshPrefix()
		a = startReplica(store)
		b = startReplica(store)
	})

	It("serves a vault written through one replica from the other", func() {
		ctx, cancel := testCtx()
		defer cancel()
		ca, cb := newClient(ctx, a.URL), newClient(ctx, b.URL)
		v, err := vault.Create(ctx, ca.cfg(), passphrase)
		Expect(err).NotTo(HaveOccurred())
		data := categories("written-at-a", 8, 3000)
		Expect(v.StoreAll(ctx, data)).To(Succeed())
		Expect(v.Close()).To(Succeed())

		got, err := cb.loadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(sameState(got, data)).To(BeTrue())

		// And back: a write through B is read through A.
		v, err = vault.Open(ctx, cb.cfg(), passphrase)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Store(ctx, "written-at-b", []byte("hello from b"))).To(Succeed())
		Expect(v.Close()).To(Succeed())
		got, err = ca.loadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveKeyWithValue("written-at-b", []byte("hello from b")))
		Expect(got).To(HaveLen(9))
	})

	It("refuses at one replica a token redeemed at the other", func() {
		ctx, cancel := testCtx()
		defer cancel()
		tok := token(ctx, a.URL)
		id := randomID()
		code, _ := getWith(ctx, a.URL, id, tok)
		Expect(code).To(Equal(http.StatusNotFound)) // accepted, spent, and the object is absent
		code, body := getWith(ctx, b.URL, id, tok)
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(body).To(ContainSubstring("token_spent"))
		code, body = getWith(ctx, a.URL, id, tok)
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(body).To(ContainSubstring("token_spent"))

		// Tokens issued by B verify at A: the replicas share the issuer keys.
		code, _ = getWith(ctx, a.URL, id, token(ctx, b.URL))
		Expect(code).To(Equal(http.StatusNotFound))
	})

	It("loses nothing when a replica is SIGKILLed in the middle of a batch", func() {
		ctx, cancel := testCtx()
		defer cancel()
		lb := newBalancer(a.URL, b.URL)
		defer lb.Close()
		var putsAtA atomic.Int32
		killAt := int32(8)
		killed := make(chan struct{})
		var once sync.Once
		lb.onForward = func(i int, r *http.Request) {
			if i == 0 && r.Method == http.MethodPut && putsAtA.Add(1) == killAt {
				once.Do(func() {
					go func() { a.kill(); close(killed) }()
				})
			}
		}
		c := newClient(ctx, lb.URL())
		v, err := vault.Create(ctx, c.cfg(), passphrase)
		Expect(err).NotTo(HaveOccurred())
		before := categories("before", 5, 2000)
		Expect(v.StoreAll(ctx, before)).To(Succeed())
		Expect(v.Close()).To(Succeed())
		putsAtA.Store(0)

		// A reader on B watches the vault while the batch runs: it must only
		// ever see the state before or the state after, whole.
		batch := categories("batch", 40, 2500)
		after := merged(before, batch)
		readerCtx, stopReader := context.WithCancel(ctx)
		var (
			seenMu sync.Mutex
			seen   []string
		)
		saw := func() []string { seenMu.Lock(); defer seenMu.Unlock(); return append([]string(nil), seen...) }
		readerDone := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(readerDone)
			rb := newClient(readerCtx, b.URL)
			for readerCtx.Err() == nil {
				got, err := rb.loadAll(readerCtx)
				if err != nil {
					if readerCtx.Err() != nil {
						return
					}
					Fail("reader on B: " + err.Error())
				}
				state := ""
				switch {
				case sameState(got, before):
					state = "before"
				case sameState(got, after):
					state = "after"
				default:
					Fail(fmt.Sprintf("reader on B saw a half-visible state of %d categories", len(got)))
				}
				seenMu.Lock()
				seen = append(seen, state)
				seenMu.Unlock()
			}
		}()
		Eventually(saw, time.Minute).ShouldNot(BeEmpty(), "the reader on B never read the vault")

		v, err = vault.Open(ctx, c.cfg(), passphrase)
		Expect(err).NotTo(HaveOccurred())
		batchErr := v.StoreAll(ctx, batch)
		_ = v.Close()
		Eventually(killed, 30*time.Second).Should(BeClosed(), "replica A was never killed: the batch did not reach it")
		n := len(saw())
		Eventually(func() int { return len(saw()) }, time.Minute).Should(BeNumerically(">", n+1), "the reader on B stopped reading")
		stopReader()
		<-readerDone
		fmt.Fprintf(GinkgoWriter, "batch through the balancer: err=%v; served per replica %v; reader on B saw %v\n",
			batchErr, lb.Served(), saw())

		got, err := c.loadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		if batchErr != nil {
			// Refused as a whole: the state before, whole; the client finishes
			// the batch through the surviving replica.
			Expect(sameState(got, before)).To(BeTrue(), "after a failed batch the vault must hold exactly the state before it")
			v, err = vault.Open(ctx, c.cfg(), passphrase)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.StoreAll(ctx, batch)).To(Succeed())
			Expect(v.Close()).To(Succeed())
			got, err = c.loadAll(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(sameState(got, after)).To(BeTrue(), "every category of before and of the batch, exactly")
		// B alone serves it all.
		got, err = newClient(ctx, b.URL).loadAll(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(sameState(got, after)).To(BeTrue())
	})

	It("serves the CLI's --remote through either replica", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "pass"), []byte("cli passphrase\n"), 0o600)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "data.json"), []byte(`{"journal":{"day":1,"text":"ünïcode"},"settings":{"theme":"dark"}}`), 0o600)).To(Succeed())
		name := make([]byte, 8)
		_, _ = rand.Read(name)
		aegis := func(remote string, args ...string) string {
			GinkgoHelper()
			cmd := exec.Command(aegisBin, append([]string{"--remote", remote, "--vault-name", "cli-" + hex.EncodeToString(name),
				"--attest-secret-file", secretFile, "--passphrase-file", filepath.Join(dir, "pass")}, args...)...)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			out, err := cmd.Output()
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			Expect(err).NotTo(HaveOccurred(), "aegis %s: %s", strings.Join(args, " "), stderr)
			return string(out)
		}
		aegis(a.URL, "init")
		// The vault key is recorded under the URL used; behind one load balancer
		// both replicas share it, here each has its own.
		aegis(b.URL, "vault-key", "import", strings.TrimSpace(aegis(a.URL, "vault-key", "export")))
		Expect(aegis(b.URL, "store", "data.json")).To(ContainSubstring("stored 2 categories"))
		Expect(aegis(a.URL, "load")).To(MatchJSON(`{"journal":{"day":1,"text":"ünïcode"},"settings":{"theme":"dark"}}`))
		Expect(aegis(b.URL, "ls")).To(Equal("journal\nsettings\n"))
		Expect(aegis(a.URL, "verify", "data.json")).To(ContainSubstring("PASS\tjournal"))
	})
})
