package relay_test

import (
	"net/http"
	"strconv"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

var _ = Describe("limits", func() {
	var gw *gateway
	BeforeEach(func() { gw = newGateway() })

	It("gives every client connection its own token bucket: over --burst and --rate, 429 with Retry-After", func() {
		// One token per 1000 s: the bucket does not refill during the spec.
		r := startRelay(gw, func(o *relay.Options) { o.Rate, o.Burst = 0.001, 3 })
		a, b := newClient(), newClient() // one connection each
		for range 3 {
			Expect(post(a, r.URL, relay.MediaTypeRequest, []byte("a")).Status).To(Equal(http.StatusOK))
		}
		over := post(a, r.URL, relay.MediaTypeRequest, []byte("a"))
		expectError(over, http.StatusTooManyRequests, "rate_limited")
		wait, err := strconv.Atoi(over.Header.Get("Retry-After"))
		Expect(err).NotTo(HaveOccurred())
		Expect(wait).To(BeNumerically("~", 1000, 1), "the time until the bucket holds a token again")
		expectError(get(a, http.MethodGet, r.URL+relay.KeysPath), http.StatusTooManyRequests, "rate_limited")
		Expect(get(a, http.MethodGet, r.URL+"/healthz").Status).To(Equal(http.StatusOK), "health checks are not limited")

		// Another connection has a full bucket of its own.
		for range 3 {
			Expect(post(b, r.URL, relay.MediaTypeRequest, []byte("b")).Status).To(Equal(http.StatusOK))
		}
		expectError(post(b, r.URL, relay.MediaTypeRequest, []byte("b")), http.StatusTooManyRequests, "rate_limited")

		// A new connection of the first client starts full too: the bucket
		// belongs to the connection, nothing is kept per address.
		a2 := newClient()
		Expect(post(a2, r.URL, relay.MediaTypeRequest, []byte("a")).Status).To(Equal(http.StatusOK))

		Expect(gw.requests()).To(HaveLen(7), "refused requests are not forwarded")
	})

	It("answers 503 busy above --max-in-flight and serves the others", func() {
		release := make(chan struct{})
		free := sync.OnceFunc(func() { close(release) })
		gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, body []byte) {
			<-release
			w.Header().Set("Content-Type", relay.MediaTypeResponse)
			_, _ = w.Write(body)
		})
		r := startRelay(gw, func(o *relay.Options) { o.MaxInFlight = 2 })
		DeferCleanup(free) // runs before the relay's stop: a failed spec must not leave the gateway (and so the stop) blocked

		var wg sync.WaitGroup
		results := make([]reply, 2)
		for i := range 2 {
			cl := newClient()
			wg.Go(func() {
				defer GinkgoRecover()
				results[i] = post(cl, r.URL, relay.MediaTypeRequest, []byte("held-"+strconv.Itoa(i)))
			})
		}
		Eventually(func() int { return len(gw.requests()) }, "10s", "5ms").Should(Equal(2))

		busy := post(newClient(), r.URL, relay.MediaTypeRequest, []byte("third"))
		expectError(busy, http.StatusServiceUnavailable, "busy")
		Expect(busy.Header.Get("Retry-After")).To(Equal("1"))
		free()
		wg.Wait()
		for i, res := range results {
			Expect(res.Status).To(Equal(http.StatusOK))
			Expect(string(res.Body)).To(Equal("held-" + strconv.Itoa(i)))
		}
		Expect(gw.requests()).To(HaveLen(2))
		Expect(post(newClient(), r.URL, relay.MediaTypeRequest, []byte("after")).Status).To(Equal(http.StatusOK))
	})
})
