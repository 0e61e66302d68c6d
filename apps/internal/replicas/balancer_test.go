package replicas_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// balancer is the load balancer in front of the replicas, as an operator
// would run one: round robin, and a request whose connection to a replica
// cannot be opened goes to the next one (it never reached the first, so this
// is safe for every request). A request that reached a replica that then
// died gets 502, and the client decides what to retry.
type balancer struct {
	backends []string
	next     atomic.Uint64
	// onForward, when set, is called before a request is sent to backend i.
	onForward func(i int, r *http.Request)
	mu        sync.Mutex
	served    []int // requests answered by each backend
	srv       *httptest.Server
	transport *http.Transport
}

func newBalancer(backends ...string) *balancer {
	b := &balancer{backends: backends, served: make([]int, len(backends))}
	b.transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}
	b.srv = httptest.NewServer(b)
	return b
}

// URL is the balancer's address.
func (b *balancer) URL() string { return b.srv.URL }

// Close stops the balancer.
func (b *balancer) Close() {
	b.srv.Close()
	b.transport.CloseIdleConnections()
}

// Served returns how many requests each backend answered.
func (b *balancer) Served() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.served...)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "balancer: reading the request", http.StatusBadRequest)
		return
	}
	start := int(b.next.Add(1))
	for n := range b.backends {
		i := (start + n) % len(b.backends)
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme = "http"
		out.URL.Host = b.backends[i][len("http://"):]
		out.Host = out.URL.Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		if b.onForward != nil {
			b.onForward(i, out)
		}
		resp, err := b.transport.RoundTrip(out)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // never reached this replica: try the next
			}
			http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
			return
		}
		b.mu.Lock()
		b.served[i]++
		b.mu.Unlock()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		_ = resp.Body.Close()
		return
	}
	http.Error(w, "balancer: no replica reachable", http.StatusBadGateway)
}
