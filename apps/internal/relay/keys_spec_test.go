package relay_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

var _ = Describe("GET /ohttp-keys (the gateway's key configurations)", func() {
	var (
		gw *gateway
		c  *http.Client
	)
	BeforeEach(func() {
		gw = newGateway()
		c = newClient()
	})

	keysRequest := func(url string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, url+relay.KeysPath, nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Cookie", "session=client-cookie-5512")
		req.Header.Set("X-Forwarded-For", "198.51.100.23")
		req.Header.Set("User-Agent", "SpyBrowser/9.9")
		return req
	}

	It("passes them on unchanged and asks the gateway once for many clients within the cache time", func() {
		r := startRelay(gw, func(o *relay.Options) { o.KeysCache = relay.DefaultKeysCache })
		for range 5 {
			res := do(newClient(), keysRequest(r.URL))
			Expect(res.Status).To(Equal(http.StatusOK))
			Expect(res.Header.Get("Content-Type")).To(Equal(relay.MediaTypeKeys))
			Expect(res.Body).To(Equal(keyConfigs))
			Expect(res.Header.Get("Set-Cookie")).To(BeEmpty())
			age, ok := strings.CutPrefix(res.Header.Get("Cache-Control"), "max-age=")
			Expect(ok).To(BeTrue(), "Cache-Control %q", res.Header.Get("Cache-Control"))
			n, err := strconv.Atoi(age)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(BeNumerically(">", 0))
			Expect(n).To(BeNumerically("<=", 60), "no client keeps them longer than the relay does")
		}
		got := gw.requests()
		Expect(got).To(HaveLen(1))
		Expect(got[0].Method).To(Equal(http.MethodGet))
		Expect(got[0].Path).To(Equal(relay.GatewayPath))
		Expect(got[0].Header).To(Equal(http.Header{"Accept": {relay.MediaTypeKeys}, "User-Agent": {relay.UserAgent}}))
	})

	It("makes concurrent requests on a cold cache share one fetch", func() {
		release := make(chan struct{})
		free := sync.OnceFunc(func() { close(release) })
		gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			<-release
			w.Header().Set("Content-Type", relay.MediaTypeKeys)
			_, _ = w.Write(keyConfigs)
		})
		r := startRelay(gw, func(o *relay.Options) { o.KeysCache = relay.DefaultKeysCache })
		DeferCleanup(free) // runs before the relay's stop: a failed spec must not leave the gateway (and so the stop) blocked
		const n = 8
		clients := make([]*http.Client, n)
		for i := range clients {
			clients[i] = newClient()
		}
		results := make([]reply, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer GinkgoRecover()
				results[i] = get(clients[i], http.MethodGet, r.URL+relay.KeysPath)
			})
		}
		Eventually(func() int { return len(gw.requests()) }, "10s", "5ms").Should(Equal(1))
		free()
		wg.Wait()
		for _, res := range results {
			Expect(res.Status).To(Equal(http.StatusOK))
			Expect(res.Body).To(Equal(keyConfigs))
		}
		Expect(gw.requests()).To(HaveLen(1))
	})

	It("asks the gateway every time with --keys-cache 0, and says no-store", func() {
		r := startRelay(gw, nil)
		for range 3 {
			res := get(c, http.MethodGet, r.URL+relay.KeysPath)
			Expect(res.Status).To(Equal(http.StatusOK))
			Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
		}
		Expect(gw.requests()).To(HaveLen(3))
	})

	DescribeTable("answers 502 for a gateway failure, and does not keep it",
		func(status int, ct string, body []byte, code string) {
			gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(status)
				_, _ = w.Write(body)
			})
			r := startRelay(gw, func(o *relay.Options) { o.KeysCache = relay.DefaultKeysCache })
			expectError(get(c, http.MethodGet, r.URL+relay.KeysPath), http.StatusBadGateway, code)
			expectError(get(c, http.MethodGet, r.URL+relay.KeysPath), http.StatusBadGateway, code)
			Expect(gw.requests()).To(HaveLen(2), "a failed fetch is not cached")

			gw.setAnswer(nil)
			res := get(c, http.MethodGet, r.URL+relay.KeysPath)
			Expect(res.Status).To(Equal(http.StatusOK))
			Expect(res.Body).To(Equal(keyConfigs))
		},
		Entry("an error status", http.StatusInternalServerError, relay.MediaTypeKeys, keyConfigs, "gateway_error"),
		Entry("a 404", http.StatusNotFound, "application/json", []byte(`{}`), "gateway_error"),
		Entry("another media type", http.StatusOK, "text/html", keyConfigs, "gateway_garbage"),
		Entry("no configuration", http.StatusOK, relay.MediaTypeKeys, nil, "gateway_garbage"),
		Entry("over the size bound", http.StatusOK, relay.MediaTypeKeys, make([]byte, relay.MaxKeysSize+1), "gateway_garbage"),
	)

	It("answers 502 gateway_unreachable when nothing listens at the gateway", func() {
		r := startRelay(gw, nil)
		gw.srv.Close()
		expectError(get(c, http.MethodGet, r.URL+relay.KeysPath), http.StatusBadGateway, "gateway_unreachable")
	})
})
