package aegisd_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// proxy is a reverse proxy in front of an aegisd that forwards every request
// and, for writes (PUT, DELETE) while a fault is set, replaces aegisd's answer:
// a 502, 503 or 504 of its own, or a connection dropped without an answer.
type proxy struct {
	*httptest.Server
	fault   atomic.Value // string: "", "502", "503", "504", "drop"
	mu      sync.Mutex
	writes  int // PUT and DELETE requests forwarded to aegisd
	answers []int
	onReply func(status int)
}

var errDrop = errors.New("proxy: drop the connection")

func newProxy(target string) *proxy {
	GinkgoHelper()
	u, err := url.Parse(target)
	Expect(err).NotTo(HaveOccurred())
	p := &proxy{}
	p.fault.Store("")
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			if r.In.Method == http.MethodPut || r.In.Method == http.MethodDelete {
				p.mu.Lock()
				p.writes++
				p.mu.Unlock()
			}
		},
		ModifyResponse: func(res *http.Response) error {
			f := p.fault.Load().(string) // before the hook, which may change it
			p.mu.Lock()
			p.answers = append(p.answers, res.StatusCode)
			hook := p.onReply
			p.mu.Unlock()
			if hook != nil {
				hook(res.StatusCode)
			}
			m := res.Request.Method
			if f == "" || (m != http.MethodPut && m != http.MethodDelete) {
				return nil
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if f == "drop" {
				return errDrop
			}
			code := map[string]int{"502": 502, "503": 503, "504": 504}[f]
			res.StatusCode, res.Status = code, http.StatusText(code)
			res.Header = http.Header{"Content-Type": {"text/html"}}
			body := "<html>" + http.StatusText(code) + "</html>"
			res.Body, res.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, errDrop) {
				if c, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
					_ = c.Close()
					return
				}
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.Server = httptest.NewServer(rp)
	DeferCleanup(p.Close)
	return p
}

func (p *proxy) forwardedWrites() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes
}

var _ = Describe("httpblob through a proxy in front of aegisd", func() {
	var (
		srv   *running
		px    *proxy
		store domain.BlobStore // through the proxy
		check domain.BlobStore // straight to aegisd
	)
	BeforeEach(func(ctx SpecContext) {
		var err error
		srv, err = start(nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(srv.stop()).To(Succeed()) })
		px = newProxy(srv.URL)
		pool, err := httpblob.NewTokenPool(ctx, srv.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		plain, err := httpblob.Open(px.URL, &httpblob.Options{Tokens: pool, Backoff: 100 * time.Millisecond})
		Expect(err).NotTo(HaveOccurred())
		store = guarded(plain)
		direct, err := httpblob.Open(srv.URL, &httpblob.Options{Tokens: pool})
		Expect(err).NotTo(HaveOccurred())
		check = guarded(direct)
	})

	for _, fault := range []string{"503", "502", "504", "drop"} {
		It("reports a compare-and-swap that the proxy forwarded and then answered with "+fault+" as ErrOutcomeUnknown, and does not resend it", func(ctx SpecContext) {
			header := newID()
			v1, err := store.CompareAndSwap(ctx, header, "", randomBytes(domain.KiB))
			Expect(err).NotTo(HaveOccurred())
			sent := px.forwardedWrites()

			px.fault.Store(fault)
			next := randomBytes(domain.KiB)
			_, err = store.CompareAndSwap(ctx, header, v1, next)
			px.fault.Store("")
			Expect(err).To(MatchError(domain.ErrOutcomeUnknown))
			Expect(errors.Is(err, domain.ErrConflict)).To(BeFalse(), "%v", err)
			Expect(px.forwardedWrites()-sent).To(Equal(1), "the compare-and-swap was resent")
			// aegisd applied it: a resend would have got 412 for its own write.
			Expect(check.Get(ctx, header)).To(Equal(next))
			_, err = check.CompareAndSwap(ctx, header, v1, randomBytes(domain.KiB))
			Expect(err).To(MatchError(domain.ErrConflict))
		})

		It("reports a delete that the proxy forwarded and then answered with "+fault+" as ErrOutcomeUnknown, and does not resend it", func(ctx SpecContext) {
			id := newID()
			Expect(store.Put(ctx, id, randomBytes(domain.KiB))).To(Succeed())
			sent := px.forwardedWrites()
			px.fault.Store(fault)
			err := store.Delete(ctx, id)
			px.fault.Store("")
			Expect(err).To(MatchError(domain.ErrOutcomeUnknown))
			Expect(errors.Is(err, domain.ErrNotFound)).To(BeFalse(), "%v", err)
			Expect(px.forwardedWrites()-sent).To(Equal(1), "the delete was resent")
			_, err = check.Get(ctx, id)
			Expect(err).To(MatchError(domain.ErrNotFound))
		})
	}

	It("resends a plain Put the proxy answered with 503 after forwarding (idempotent: same bytes, same enabler)", func(ctx SpecContext) {
		id, data := newID(), randomBytes(domain.KiB)
		sent := px.forwardedWrites()
		var once sync.Once
		px.fault.Store("503")
		px.mu.Lock()
		px.onReply = func(int) { once.Do(func() { px.fault.Store("") }) }
		px.mu.Unlock()
		Expect(store.Put(ctx, id, data)).To(Succeed())
		Expect(px.forwardedWrites() - sent).To(Equal(2))
		Expect(check.Get(ctx, id)).To(Equal(data))
	})

	It("resends a compare-and-swap that aegisd itself refused with 503 busy", func(ctx SpecContext) {
		// An aegisd that serves one request at a time, behind its own proxy.
		one, err := start(func(o *aegisd.Options) { o.MaxInFlight = 1 })
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(one.stop()).To(Succeed()) })
		px := newProxy(one.URL)
		pool, err := httpblob.NewTokenPool(ctx, one.URL, []byte(testSecret), &httpblob.PoolOptions{Batch: 64})
		Expect(err).NotTo(HaveOccurred())
		plain, err := httpblob.Open(px.URL, &httpblob.Options{Tokens: pool, Backoff: 100 * time.Millisecond})
		Expect(err).NotTo(HaveOccurred())
		store := guarded(plain)
		header := newID()
		v1, err := store.CompareAndSwap(ctx, header, "", randomBytes(domain.KiB))
		Expect(err).NotTo(HaveOccurred())

		// Hold the only request slot with a PUT whose body arrives later.
		tok, err := pool.Token(ctx)
		Expect(err).NotTo(HaveOccurred())
		pr, pw := io.Pipe()
		slowID := newID()
		req, err := http.NewRequest(http.MethodPut, one.URL+server.ObjectsPath+"/"+slowID.String(), pr)
		Expect(err).NotTo(HaveOccurred())
		req.ContentLength = domain.KiB
		req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
		req.Header.Set(server.WriteEnablerHeader, enablerHeader(slowID))
		slow := make(chan int, 1)
		go func() {
			res, err := plainClient.Do(req)
			if err != nil {
				slow <- -1
				return
			}
			_ = res.Body.Close()
			slow <- res.StatusCode
		}()
		_, err = pw.Write(make([]byte, 10))
		Expect(err).NotTo(HaveOccurred())
		Eventually(one.App.Handler.Metrics().InFlight, "10s").Should(BeEquivalentTo(1))

		// The first try is answered busy by aegisd; that answer frees the slot.
		var once sync.Once
		px.mu.Lock()
		px.onReply = func(status int) {
			if status == http.StatusServiceUnavailable {
				once.Do(func() {
					_, _ = pw.Write(make([]byte, domain.KiB-10))
					_ = pw.Close()
				})
			}
		}
		px.mu.Unlock()
		sent := px.forwardedWrites()
		next := randomBytes(domain.KiB)
		_, err = store.CompareAndSwap(ctx, header, v1, next)
		Expect(err).NotTo(HaveOccurred())
		Eventually(slow, "10s").Should(Receive(Equal(204)))
		Expect(px.forwardedWrites()-sent).To(BeNumerically(">=", 2), "the busy try was not resent")
		px.mu.Lock()
		Expect(px.answers).To(ContainElement(http.StatusServiceUnavailable))
		px.mu.Unlock()
		Expect(store.Get(ctx, header)).To(Equal(next))
	})
})
