package relay_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
)

var _ = Describe("POST / (forwarding an encapsulated request)", func() {
	var (
		gw *gateway
		r  *running
		c  *http.Client
	)
	BeforeEach(func() {
		gw = newGateway()
		r = startRelay(gw, nil)
		c = newClient()
	})

	It("sends the gateway the body unchanged with only Content-Type, Content-Length and User-Agent, and returns its answer unchanged", func() {
		body := randomBytes(1024)
		req, err := http.NewRequest(http.MethodPost, r.URL+"/?trace=client-query-7781", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		// What a careless or hostile client might send: none of it may reach the gateway.
		clientHeaders := map[string]string{
			"Content-Type":    "Message/OHTTP-Req; charset=whatever", // case and parameters ignored
			"Cookie":          "session=client-cookie-5512",
			"X-Forwarded-For": "198.51.100.23",
			"Forwarded":       "for=198.51.100.23;proto=https",
			"Via":             "1.1 client-proxy-3390",
			"X-Real-Ip":       "198.51.100.24",
			"X-Custom-Tag":    "client-custom-9921",
			"Authorization":   "Bearer client-secret-4410",
			"User-Agent":      "SpyBrowser/9.9 (client-agent-6620)",
			"Accept-Language": "tlh-client-lang",
			"Referer":         "https://client-referer.example/page",
			"Date":            "Mon, 07 Feb 2022 00:28:05 GMT",
		}
		for k, v := range clientHeaders {
			req.Header.Set(k, v)
		}
		res := do(c, req)

		Expect(res.Status).To(Equal(http.StatusOK))
		Expect(res.Header.Get("Content-Type")).To(Equal(relay.MediaTypeResponse))
		Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
		Expect(res.Body).To(Equal(reversed(body)), "the gateway's answer passes back byte for byte")
		Expect(res.Header.Get("Set-Cookie")).To(BeEmpty(), "no header of the gateway's reaches the client")
		Expect(res.Header.Get("X-Gateway-Internal")).To(BeEmpty())

		got := gw.requests()
		Expect(got).To(HaveLen(1))
		g := got[0]
		Expect(g.Method).To(Equal(http.MethodPost))
		Expect(g.Path).To(Equal(relay.GatewayPath))
		Expect(g.RawQuery).To(BeEmpty(), "the client's query is not forwarded")
		Expect(g.Body).To(Equal(body))
		Expect(g.Header).To(Equal(http.Header{
			"Content-Type":   {relay.MediaTypeRequest},
			"Content-Length": {strconv.Itoa(len(body))},
			"User-Agent":     {relay.UserAgent},
		}), "exactly these fields, nothing of the client's")
		Expect(g.Host).To(Equal(strings.TrimPrefix(gw.srv.URL, "http://")))
		for _, v := range clientHeaders {
			for k, vs := range g.Header {
				Expect(strings.Join(vs, ",")).NotTo(ContainSubstring(strings.Split(v, ";")[0]), "client value in gateway header %s", k)
			}
		}
	})

	It("keeps its connections to the gateway alive across requests", func() {
		for i := range 5 {
			Expect(post(c, r.URL, relay.MediaTypeRequest, []byte("request-"+strconv.Itoa(i))).Status).To(Equal(http.StatusOK))
		}
		Expect(gw.requests()).To(HaveLen(5))
		Expect(gw.connections()).To(Equal(1))
	})

	It("forwards to the well-known path under a --gateway path prefix", func() {
		prefixed := startRelay(gw, func(o *relay.Options) { o.Gateway = gw.srv.URL + "/aegis/" })
		Expect(post(c, prefixed.URL, relay.MediaTypeRequest, []byte("x")).Status).To(Equal(http.StatusOK))
		Expect(gw.requests()[0].Path).To(Equal("/aegis" + relay.GatewayPath))
	})

	It("relays a body of exactly --max-body bytes and refuses one byte more", func() {
		limited := startRelay(gw, func(o *relay.Options) { o.MaxBody = 4096 })
		Expect(post(c, limited.URL, relay.MediaTypeRequest, randomBytes(4096)).Status).To(Equal(http.StatusOK))
		expectError(post(c, limited.URL, relay.MediaTypeRequest, randomBytes(4097)), http.StatusRequestEntityTooLarge, "body_too_large")
		Expect(gw.requests()).To(HaveLen(1))
	})

	It("relays by default a body as large as aegisd's largest request plus the encapsulation", func() {
		Expect(post(c, r.URL, relay.MediaTypeRequest, randomBytes(relay.DefaultMaxBody)).Status).To(Equal(http.StatusOK))
		expectError(post(c, r.URL, relay.MediaTypeRequest, randomBytes(relay.DefaultMaxBody+1)), http.StatusRequestEntityTooLarge, "body_too_large")
		Expect(gw.requests()).To(HaveLen(1))
	})

	Describe("the gateway's answers", func() {
		answer := func(status int, ct string, body []byte) {
			gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("X-Gateway-Internal", "gateway-internal-value")
				if ct != "" {
					w.Header().Set("Content-Type", ct)
				}
				w.Header().Set("Location", "http://elsewhere.invalid/")
				w.WriteHeader(status)
				_, _ = w.Write(body)
			})
		}

		It("passes a 4xx problem+json (RFC 9458 section 5.3) on unchanged, with the gateway's Date", func() {
			problem := []byte(`{"type":"https://iana.org/assignments/http-problem-types#ohttp-key","title":"key identifier unknown"}`)
			gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.Header().Set("Date", "Mon, 07 Feb 2022 00:28:05 GMT")
				w.Header().Set("X-Gateway-Internal", "gateway-internal-value")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(problem)
			})
			res := post(c, r.URL, relay.MediaTypeRequest, []byte("stale-key-request"))
			Expect(res.Status).To(Equal(http.StatusBadRequest))
			Expect(res.Header.Get("Content-Type")).To(Equal("application/problem+json"))
			Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
			Expect(res.Header.Get("Date")).To(Equal("Mon, 07 Feb 2022 00:28:05 GMT"))
			Expect(res.Header.Get("X-Gateway-Internal")).To(BeEmpty())
			Expect(res.Body).To(Equal(problem))
		})

		It("passes a 4xx aegisd JSON error on unchanged", func() {
			body := []byte(`{"error":{"code":"bad_request","message":"the encapsulated request is malformed"}}`)
			answer(http.StatusUnprocessableEntity, "application/json; charset=utf-8", body)
			res := post(c, r.URL, relay.MediaTypeRequest, []byte("x"))
			Expect(res.Status).To(Equal(http.StatusUnprocessableEntity))
			Expect(res.Header.Get("Content-Type")).To(Equal("application/json; charset=utf-8"))
			Expect(res.Body).To(Equal(body))
		})

		It("passes aegisd's 503 busy on unchanged, with its Retry-After, so that the client resends", func() {
			body := []byte(`{"error":{"code":"busy","message":"too many requests in flight"}}`)
			gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write(body)
			})
			res := post(c, r.URL, relay.MediaTypeRequest, []byte("x"))
			Expect(res.Status).To(Equal(http.StatusServiceUnavailable))
			Expect(res.Header.Get("Retry-After")).To(Equal("1"))
			Expect(res.Header.Get("Cache-Control")).To(Equal("no-store"))
			Expect(res.Body).To(Equal(body))
			Expect(gw.requests()).To(HaveLen(1), "no retry at the relay")
		})

		DescribeTable("turns every other failure into a 502 without the gateway's body",
			func(status int, ct string, size int, code, inMessage string) {
				body := bytes.Repeat([]byte("G"), size)
				answer(status, ct, body)
				res := post(c, r.URL, relay.MediaTypeRequest, []byte("x"))
				expectError(res, http.StatusBadGateway, code)
				Expect(string(res.Body)).To(ContainSubstring(inMessage))
				Expect(string(res.Body)).NotTo(ContainSubstring("GGGG"))
				Expect(res.Header.Get("X-Gateway-Internal")).To(BeEmpty())
				Expect(res.Header.Get("Location")).To(BeEmpty())
				Expect(gw.requests()).To(HaveLen(1), "no retry, no redirect followed")
			},
			Entry("a 5xx, even in JSON", http.StatusInternalServerError, "application/json", 40, "gateway_error", "5xx"),
			Entry("a 503 that is not JSON", http.StatusServiceUnavailable, "text/plain", 40, "gateway_error", "5xx"),
			Entry("a 4xx that is not JSON", http.StatusBadRequest, "text/html", 40, "gateway_error", "4xx"),
			Entry("a redirect", http.StatusFound, "text/html", 40, "gateway_error", "3xx"),
			Entry("a 4xx JSON body over the bound", http.StatusBadRequest, "application/problem+json", relay.MaxErrorSize+1, "gateway_garbage", "over"),
			Entry("a 200 of another media type", http.StatusOK, "text/html", 40, "gateway_garbage", relay.MediaTypeResponse),
			Entry("a 200 without a media type", http.StatusOK, "", 40, "gateway_garbage", relay.MediaTypeResponse),
			Entry("a 204", http.StatusNoContent, relay.MediaTypeResponse, 0, "gateway_garbage", "2xx"),
		)

		It("refuses an encapsulated response over --max-body as gateway_garbage", func() {
			limited := startRelay(gw, func(o *relay.Options) { o.MaxBody = 4096 })
			answer(http.StatusOK, relay.MediaTypeResponse, bytes.Repeat([]byte("G"), 4097))
			res := post(c, limited.URL, relay.MediaTypeRequest, []byte("x"))
			expectError(res, http.StatusBadGateway, "gateway_garbage")
		})

		It("answers 502 gateway_unreachable when nothing listens at the gateway", func() {
			gw.srv.Close()
			expectError(post(c, r.URL, relay.MediaTypeRequest, []byte("x")), http.StatusBadGateway, "gateway_unreachable")
		})

		It("answers 502 gateway_unreachable when the gateway does not answer within --gateway-timeout", func() {
			release := make(chan struct{})
			DeferCleanup(func() { close(release) })
			gw.setAnswer(func(http.ResponseWriter, *http.Request, []byte) { <-release })
			slow := startRelay(gw, func(o *relay.Options) { o.GatewayTimeout = 200 * time.Millisecond })
			expectError(post(c, slow.URL, relay.MediaTypeRequest, []byte("x")), http.StatusBadGateway, "gateway_unreachable")
		})
	})
})
