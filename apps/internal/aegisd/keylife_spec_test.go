package aegisd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/issuerkeys"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// mint issues a token of key k for the aegisd challenge, in process: a
// privacypass.Pool whose fetch is the key's own issuer.
func mint(k *privacypass.IssuerKey) []byte {
	GinkgoHelper()
	ch, err := (&privacypass.TokenChallenge{TokenType: k.Type(), IssuerName: aegisd.DefaultIssuerName}).MarshalBinary()
	Expect(err).NotTo(HaveOccurred())
	c, err := privacypass.NewClient(k.Type(), k.TokenKey())
	Expect(err).NotTo(HaveOccurred())
	issuer := privacypass.NewIssuer(k)
	reqType, _, err := privacypass.BatchMediaTypes(k.Type())
	Expect(err).NotTo(HaveOccurred())
	pool, err := privacypass.NewPool(c, ch, 1, func(_ context.Context, req []byte) ([]byte, error) {
		resp, err := issuer.Respond(reqType, req)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	})
	Expect(err).NotTo(HaveOccurred())
	tok, err := pool.Token(context.Background())
	Expect(err).NotTo(HaveOccurred())
	return tok
}

// getStatus sends GET of a random object id with token tok.
func getStatus(r *running, tok []byte) int {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, r.URL+server.ObjectsPath+"/"+newID().String(), nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
	resp, err := plainClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	return resp.StatusCode
}

var _ = Describe("issuer key lifetime (--key-lifetime)", func() {
	const lifetime = time.Hour
	var (
		dir string
		ks  *issuerkeys.KeyStore
	)
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		var err error
		ks, err = issuerkeys.OpenKeyStore(dir, &issuerkeys.KeyStoreOptions{Create: true})
		Expect(err).NotTo(HaveOccurred())
	})
	startWith := func(edit func(*aegisd.Options)) *running {
		GinkgoHelper()
		r, err := start(func(o *aegisd.Options) {
			o.IssuerDir = dir
			o.TokenType = "voprf"
			o.KeyLifetime = lifetime
			if edit != nil {
				edit(o)
			}
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(r.stop()).To(Succeed()) })
		return r
	}

	It("replaces a key past its lifetime at start and refuses its tokens", func() {
		old, err := ks.Rotate(privacypass.TypeVOPRF, time.Now().Add(-2*lifetime))
		Expect(err).NotTo(HaveOccurred())
		r := startWith(nil)
		keys, err := ks.Keys()
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).To(HaveLen(2))
		cur := keys[0] // newest first
		Expect(cur.ID()).NotTo(Equal(old.ID()))
		Expect(cur.NotBefore()).To(BeTemporally("~", time.Now(), time.Minute))

		Expect(getStatus(r, mint(old))).To(Equal(http.StatusUnauthorized))
		Expect(getStatus(r, mint(cur))).To(Equal(http.StatusNotFound)) // accepted; no such object
	})

	It("publishes a successor ahead of use once a key is past half its lifetime, once", func() {
		old, err := ks.Rotate(privacypass.TypeVOPRF, time.Now().Add(-lifetime*6/10))
		Expect(err).NotTo(HaveOccurred())
		r := startWith(nil)
		keys, err := ks.Keys()
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).To(HaveLen(2))
		next := keys[0]
		Expect(next.NotBefore()).To(BeTemporally("~", time.Now().Add(aegisd.KeyPublishDelay), 30*time.Second))
		// Until then this replica issues with the old key, and accepts both.
		Expect(getStatus(r, mint(old))).To(Equal(http.StatusNotFound))
		Expect(getStatus(r, mint(next))).To(Equal(http.StatusNotFound))

		// A second replica starting now finds the successor waiting: no third key.
		startWith(nil)
		keys, err = ks.Keys()
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).To(HaveLen(2))
	})

	It("accepts, without a restart, a key another replica added to the shared directory", func(ctx SpecContext) {
		r := startWith(func(o *aegisd.Options) { o.KeyReloadInterval = 100 * time.Millisecond })
		added, err := ks.Rotate(privacypass.TypeVOPRF, time.Now().Add(aegisd.KeyPublishDelay))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int { return getStatus(r, mint(added)) }).WithContext(ctx).
			WithTimeout(10 * time.Second).Should(Equal(http.StatusNotFound))
	})

	It("refuses a lifetime too short to publish keys ahead, and a Redis ledger without a lifetime", func() {
		_, err := start(func(o *aegisd.Options) { o.IssuerDir = dir; o.KeyLifetime = time.Minute })
		Expect(err).To(MatchError(domain.ErrInvalidInput))
		Expect(err.Error()).To(ContainSubstring("shorter than"))
		_, err = start(func(o *aegisd.Options) { o.IssuerDir = dir; o.Ledger = "redis://127.0.0.1:1/0" })
		Expect(err).To(MatchError(domain.ErrInvalidInput))
		Expect(err.Error()).To(ContainSubstring("--key-lifetime"))
	})

	It("reports unhealthy once the key it issues with has expired", func() {
		k, err := ks.Current(privacypass.TypeVOPRF)
		Expect(err).NotTo(HaveOccurred())
		ch, err := (&privacypass.TokenChallenge{TokenType: k.Type(), IssuerName: "aegisd"}).MarshalBinary()
		Expect(err).NotTo(HaveOccurred())
		now := time.Now()
		srv, err := server.New(server.Config{
			Store: memblob.Open(), Redeemer: privacypass.NewOrigin(memledger.Open()), Challenge: ch, TokenKey: k.TokenKey(),
			KeyNotAfter: now.Add(time.Minute), Now: func() time.Time { return now },
		})
		Expect(err).NotTo(HaveOccurred())
		health := func() (int, string) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, server.HealthPath, nil))
			var body map[string]string
			Expect(json.Unmarshal(rec.Body.Bytes(), &body)).To(Succeed())
			return rec.Code, body["status"]
		}
		code, status := health()
		Expect(code).To(Equal(http.StatusOK))
		Expect(status).To(Equal("ok"))
		now = now.Add(time.Minute)
		code, status = health()
		Expect(code).To(Equal(http.StatusServiceUnavailable))
		Expect(status).To(Equal("issuer_key_expired"))
	})
})
