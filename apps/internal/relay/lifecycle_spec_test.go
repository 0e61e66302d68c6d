package relay_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
)

var _ = Describe("shutdown", func() {
	It("stops taking connections, lets an in-flight forward finish and returns nil", func() {
		gw := newGateway()
		release := make(chan struct{})
		free := sync.OnceFunc(func() { close(release) })
		gw.setAnswer(func(w http.ResponseWriter, _ *http.Request, body []byte) {
			<-release
			w.Header().Set("Content-Type", relay.MediaTypeResponse)
			_, _ = w.Write(reversed(body))
		})
		lg := &syncBuffer{}
		srv, err := relaytest.Start(relay.Options{Gateway: gw.srv.URL, Log: lg})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = srv.Stop() })
		DeferCleanup(free) // runs before the relay's stop: a failed spec must not leave the gateway (and so the stop) blocked

		c := newClient()
		body := randomBytes(2048)
		answered := make(chan reply, 1)
		go func() {
			defer GinkgoRecover()
			answered <- post(c, srv.URL, relay.MediaTypeRequest, body)
		}()
		Eventually(gw.requests, "10s", "5ms").Should(HaveLen(1))

		stopped := make(chan error, 1)
		go func() { stopped <- srv.Stop() }()
		addr := strings.TrimPrefix(srv.URL, "http://")
		Eventually(func() error {
			conn, err := net.Dial("tcp", addr)
			if err == nil {
				conn.Close()
			}
			return err
		}, "10s", "5ms").Should(HaveOccurred(), "the listener closes at once")
		Expect(stopped).NotTo(Receive(), "Stop waits for the in-flight request")
		Expect(answered).NotTo(Receive())

		free()
		var res reply
		Eventually(answered, "10s").Should(Receive(&res))
		Expect(res.Status).To(Equal(http.StatusOK))
		Expect(res.Body).To(Equal(reversed(body)))
		Eventually(stopped, "10s").Should(Receive(BeNil()))
		Expect(lg.String()).To(ContainSubstring("aegis-relay: stopped; 1 requests answered (2xx: 1, 4xx: 0, 5xx: 0)"))
	})
})

var _ = Describe("the log", func() {
	It("holds nothing about clients: no address, no header value, no body, no path, no query, no precise time", func() {
		gw := newGateway()
		r := startRelay(gw, func(o *relay.Options) { o.KeysCache = relay.DefaultKeysCache })
		c := newClient()

		// The client's own address, as the relay sees it.
		var local string
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { local = i.Conn.LocalAddr().String() },
		})
		secrets := map[string]string{
			"Cookie":          "session=log-cookie-5512",
			"X-Forwarded-For": "198.51.100.77",
			"X-Custom-Tag":    "log-custom-9921",
			"User-Agent":      "SpyBrowser/9.9 (log-agent-6620)",
			"Authorization":   "Bearer log-secret-4410",
		}
		body := []byte("BODY-MARKER-log-body-3141-" + string(randomBytes(16)))
		send := func(method, path string, b []byte) {
			req, err := http.NewRequestWithContext(ctx, method, r.URL+path, bytes.NewReader(b))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", relay.MediaTypeRequest)
			for k, v := range secrets {
				req.Header.Set(k, v)
			}
			do(c, req)
		}
		send(http.MethodPost, "/?q=log-query-2718", body)
		send(http.MethodPost, "/", body)
		send(http.MethodGet, relay.KeysPath, nil)
		send(http.MethodGet, "/log-secret-path-1618", nil)
		send(http.MethodPut, "/", body)
		send(http.MethodGet, "/healthz", nil)
		send("PROPFIND", "/log-secret-path-1618", nil)
		gw.srv.Close()
		send(http.MethodPost, "/", body) // 502: the gateway's error does not reach the log either
		Expect(local).To(HavePrefix("127.0.0.1:"))
		Expect(r.Stop()).To(Succeed())

		log := r.Log.String()
		Expect(log).NotTo(ContainSubstring(local), "the client's address and port")
		_, port, _ := net.SplitHostPort(local)
		Expect(log).NotTo(ContainSubstring(port))
		for k, v := range secrets {
			Expect(log).NotTo(ContainSubstring(v), "the value of %s", k)
		}
		for _, s := range []string{"log-cookie", "198.51.100", "SpyBrowser", "BODY-MARKER", "log-query", "log-secret-path", "PROPFIND"} {
			Expect(log).NotTo(ContainSubstring(s))
		}
		lines := strings.Split(strings.TrimSpace(log), "\n")
		// The gateway's error (connection refused) is not written either: only
		// the start line names the gateway.
		Expect(strings.Join(lines[1:], "\n")).NotTo(Or(ContainSubstring(strings.TrimPrefix(gw.srv.URL, "http://")), ContainSubstring("refused")))
		Expect(lines).To(HaveLen(10), "a start line, one line per request, a stop line:\n%s", log)
		Expect(lines[0]).To(MatchRegexp(`^time=\S+ level=INFO msg="aegis-relay: listening on 127\.0\.0\.1:`))
		Expect(lines[9]).To(MatchRegexp(`^time=\S+ level=INFO msg="aegis-relay: stopped; 8 requests answered \(2xx: 4, 4xx: 3, 5xx: 1\)"$`))
		request := regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d0Z level=INFO msg=request method=(GET|POST|PUT|OTHER) route=(/|/ohttp-keys|/healthz|unmatched) status=\d{3} size=(0|1KiB|4KiB)$`)
		for _, l := range lines[1:9] {
			Expect(l).To(MatchRegexp(request.String()))
		}
	})
})
