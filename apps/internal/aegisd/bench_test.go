package aegisd_test

// Benchmarks of aegisd's object path over loopback, beside a bare Echo
// handler that moves the same bytes without tokens or storage:
//
//	BenchmarkPut/size=1KiB|64KiB/server=aegisd|bare|relay
//	BenchmarkGet/size=1KiB|64KiB/server=aegisd|bare|relay
//	BenchmarkTokenIssuance/batch=64
//	BenchmarkTokensFetch/type=1|2 (fetch_bench_test.go: tokens/s of each token type)
//
// Both servers are real http.Servers on 127.0.0.1:0 and both are driven by the
// same client code (one goroutine, one keep-alive connection, a fresh request
// per operation, the status and body length checked). aegisd is the Wire-built
// server with memblob and memledger, so the figures are the protocol's cost
// (routing, logging, the concurrency limit, the type 2 blind RSA token check and
// spend, the size policy) and not a disk's. The tokens are fetched from aegisd's
// issuer in batches with the timer stopped, so issuance is not in the PUT and
// GET figures; BenchmarkTokenIssuance reports it on its own.
//
// server=relay is the same aegisd reached through Oblivious HTTP: the same
// client code, but its http.Client is httpblob's relay transport
// (encapsulation to the gateway's key configuration, Binary HTTP) POSTing to
// a real aegis-relay (relaytest, no per-connection rate limit) in front of
// that aegisd's gateway, which decapsulates, serves the request and
// encapsulates the answer. Its ratio to server=aegisd within one round is the
// relay's cost (docs/performance.md: a 1 KiB PUT through the relay takes at
// most twice the time of a direct one).
//
// Type 2 issuance costs about 3 ms of RSA per token while a request costs tens
// of microseconds, so minting a fresh token for every iteration of every run
// would make one run take minutes. Tokens are therefore minted once per process
// (in the first run that needs them) and every run redeems them against a new
// aegisd with an empty memledger: each token is verified and spent exactly once
// per server, which is the same work as for a never-seen token.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// benchSizes are the object sizes of BenchmarkPut and BenchmarkGet.
var benchSizes = []struct {
	name string
	n    int
}{
	{"1KiB", domain.KiB},
	{"64KiB", 64 * domain.KiB},
}

// issueBatch is the number of tokens per issuance request.
const issueBatch = 64

// tokenCache holds type 2 tokens minted once per process (see the file comment).
var tokenCache struct {
	mu   sync.Mutex
	toks [][]byte
}

// tokens returns at least n tokens, minting more from the aegisd at url in
// batches of issueBatch (two batches at a time: the issuer signs them on
// separate cores).
func tokens(ctx context.Context, url string, n int) ([][]byte, error) {
	tokenCache.mu.Lock()
	defer tokenCache.mu.Unlock()
	for len(tokenCache.toks) < n {
		const parallel = 2
		out := make([][][]byte, parallel)
		errs := make([]error, parallel)
		var wg sync.WaitGroup
		for p := range parallel {
			wg.Go(func() {
				pool, err := httpblob.NewTokenPool(ctx, url, []byte(testSecret), &httpblob.PoolOptions{Batch: issueBatch})
				if err != nil {
					errs[p] = err
					return
				}
				pool.SetLowWater(0) // no background batch: its signing would overlap the timed requests
				for range issueBatch {
					t, err := pool.Token(ctx)
					if err != nil {
						errs[p] = err
						return
					}
					out[p] = append(out[p], t)
				}
			})
		}
		wg.Wait()
		for p := range parallel {
			if errs[p] != nil {
				return nil, errs[p]
			}
			tokenCache.toks = append(tokenCache.toks, out[p]...)
		}
	}
	return tokenCache.toks[:len(tokenCache.toks):len(tokenCache.toks)], nil
}

// benchServer is a server under benchmark: its base URL, whether its object
// requests need a token, and the client that reaches it (nil: a direct
// httpblob.NewHTTPClient()).
type benchServer struct {
	url      string
	needsTok bool
	client   *http.Client
}

// startAegisd starts the Wire-built aegisd with memblob and memledger and type
// 0x0002 tokens (blind RSA, as the figures of docs/performance.md were taken;
// not the default type).
func startAegisd(b *testing.B) benchServer {
	b.Helper()
	r, err := start(func(o *aegisd.Options) { o.Log = io.Discard; o.TokenType = "blind-rsa" })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := r.stop(); err != nil {
			b.Errorf("shutdown: %v", err)
		}
	})
	return benchServer{url: r.URL, needsTok: true}
}

// startRelay starts aegisd as startAegisd does and a real aegis-relay in
// front of its gateway, and returns that aegisd with a client whose every
// request goes through the relay: httpblob's RelayTransport encapsulating to
// the key configuration the relay passes on (taken as offered: the relay is
// the benchmark's own), over one keep-alive connection to the relay. The
// tokens are still minted directly (untimed, see tokens).
func startRelay(b *testing.B) benchServer {
	b.Helper()
	srv := startAegisd(b)
	rl, err := relaytest.Start(relay.Options{Gateway: srv.url, Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := rl.Stop(); err != nil {
			b.Errorf("relay shutdown: %v", err)
		}
	})
	hc := httpblob.NewHTTPClient()
	b.Cleanup(hc.CloseIdleConnections)
	cfgs, err := httpblob.FetchKeyConfigs(b.Context(), rl.URL, hc)
	if err != nil {
		b.Fatal(err)
	}
	t, err := httpblob.NewRelayTransport(rl.URL, cfgs[0], hc)
	if err != nil {
		b.Fatal(err)
	}
	srv.client = httpblob.NewRelayHTTPClient(t)
	return srv
}

// startBare starts a bare Echo handler on a real http.Server with aegisd's
// limits: PUT reads the body and answers 204, GET answers 200 with body.
func startBare(b *testing.B, body []byte) benchServer {
	b.Helper()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.PUT(server.ObjectsPath+"/:id", func(c echo.Context) error {
		if _, err := io.Copy(io.Discard, io.LimitReader(c.Request().Body, domain.MiB+server.BodySlack)); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.GET(server.ObjectsPath+"/:id", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEOctetStream, body)
	})
	srv := aegisd.ProvideHTTPServer(aegisd.Options{}, nil)
	srv.Handler = e
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return benchServer{url: "http://" + ln.Addr().String(), needsTok: false}
}

// benchClient sends the benchmark's requests.
type benchClient struct {
	b      *testing.B
	ctx    context.Context
	http   *http.Client
	srv    benchServer
	toks   [][]byte
	next   int
	method string
	path   string
	body   []byte // request body (PUT)
	status int    // expected status
	want   int    // expected response body length
	buf    []byte // response body, one byte longer than want
	we     string // the write-enabler header of the path's object
	timed  bool   // in run's timed loop: minting tokens stops the timer
}

func newBenchClient(b *testing.B, srv benchServer) *benchClient {
	client := srv.client
	if client == nil {
		client = httpblob.NewHTTPClient()
		b.Cleanup(client.CloseIdleConnections)
	}
	return &benchClient{b: b, ctx: b.Context(), http: client, srv: srv}
}

// set prepares the request that do sends.
func (c *benchClient) set(method, path string, body []byte, status, want int) {
	c.method, c.path, c.body, c.status, c.want = method, path, body, status, want
	c.buf = make([]byte, want+1)
	id, err := domain.ParseObjectID(path[strings.LastIndexByte(path, '/')+1:])
	if err != nil {
		c.b.Fatal(err)
	}
	c.we = enablerHeader(id)
}

// token returns the next unused token, minting more with the timer stopped
// (outside run's loop the timer is off and stays off).
func (c *benchClient) token() []byte {
	if c.next == len(c.toks) {
		if c.timed {
			c.b.StopTimer()
		}
		toks, err := tokens(c.ctx, c.srv.url, c.next+1)
		if err != nil {
			c.b.Fatal(err)
		}
		c.toks = toks
		if c.timed {
			c.b.StartTimer()
		}
	}
	c.next++
	return c.toks[c.next-1]
}

// do sends one request and checks the status and the body length; the body
// is left in c.buf[:c.want].
func (c *benchClient) do() {
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(c.ctx, c.method, c.srv.url+c.path, rd)
	if err != nil {
		c.b.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if c.method == http.MethodPut || c.method == http.MethodDelete {
		req.Header.Set(server.WriteEnablerHeader, c.we)
	}
	if c.srv.needsTok {
		req.Header.Set("Authorization", privacypass.FormatAuthorization(c.token()))
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	n, err := io.ReadFull(res.Body, c.buf) // reads to EOF: the connection is reused
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	_ = res.Body.Close()
	if err != nil || res.StatusCode != c.status || n != c.want {
		c.b.Fatalf("%s %s: status %d (want %d), %d body bytes (want %d), %v", c.method, c.path, res.StatusCode, c.status, n, c.want, err)
	}
}

// run times c.do in a b.Loop and reports bytes and requests per second.
func (c *benchClient) run(size int) {
	c.b.ReportAllocs()
	c.b.SetBytes(int64(size))
	n := 0
	c.timed = true
	for c.b.Loop() {
		c.do()
		n++
	}
	c.timed = false
	if s := c.b.Elapsed().Seconds(); s > 0 {
		c.b.ReportMetric(float64(n)/s, "req/s")
	}
}

// benchServers are the servers of BenchmarkPut and BenchmarkGet.
var benchServers = []string{"aegisd", "bare", "relay"}

// startServer starts the named server ("aegisd", "bare" or "relay"; body is
// what the bare one serves on GET).
func startServer(b *testing.B, name string, body []byte) benchServer {
	switch name {
	case "aegisd":
		return startAegisd(b)
	case "relay":
		return startRelay(b)
	}
	return startBare(b, body)
}

func BenchmarkPut(b *testing.B) {
	for _, sz := range benchSizes {
		body := randomBytes(sz.n)
		for _, name := range benchServers {
			b.Run(fmt.Sprintf("size=%s/server=%s", sz.name, name), func(b *testing.B) {
				c := newBenchClient(b, startServer(b, name, body))
				// One id for every PUT: each replaces the object, so the store
				// stays one object large however long the run.
				path := server.ObjectsPath + "/" + newID().String()
				c.set(http.MethodPut, path, body, http.StatusNoContent, 0)
				c.do() // warm the connection (and the token cache), untimed
				c.run(sz.n)
				// What the PUTs stored reads back (the bare handler stores
				// nothing and serves body).
				c.set(http.MethodGet, path, nil, http.StatusOK, sz.n)
				c.do()
				if !bytes.Equal(c.buf[:sz.n], body) {
					b.Fatal("GET returned other bytes than the PUTs stored")
				}
			})
		}
	}
}

func BenchmarkGet(b *testing.B) {
	for _, sz := range benchSizes {
		body := randomBytes(sz.n)
		for _, name := range benchServers {
			b.Run(fmt.Sprintf("size=%s/server=%s", sz.name, name), func(b *testing.B) {
				c := newBenchClient(b, startServer(b, name, body))
				path := server.ObjectsPath + "/" + newID().String()
				// Store the object (the bare handler ignores the PUT) and read
				// it back once, untimed.
				c.set(http.MethodPut, path, body, http.StatusNoContent, 0)
				c.do()
				c.set(http.MethodGet, path, nil, http.StatusOK, sz.n)
				c.do()
				if !bytes.Equal(c.buf[:sz.n], body) {
					b.Fatal("GET returned other bytes than the PUT stored")
				}
				c.run(sz.n)
				if !bytes.Equal(c.buf[:sz.n], body) {
					b.Fatal("the last timed GET returned other bytes than the PUT stored")
				}
			})
		}
	}
}

// BenchmarkTokenIssuance is the cost the PUT and GET figures leave out: one
// operation fetches a batch of 64 type 2 tokens from aegisd over loopback
// (client blinding, POST /v1/token-requests, the issuer's 64 blind RSA
// signatures, client finalization).
func BenchmarkTokenIssuance(b *testing.B) {
	b.Run(fmt.Sprintf("batch=%d", issueBatch), func(b *testing.B) {
		srv := startAegisd(b)
		ctx := b.Context()
		var last [][]byte // the last batch's tokens
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			pool, err := httpblob.NewTokenPool(ctx, srv.url, []byte(testSecret), &httpblob.PoolOptions{Batch: issueBatch})
			if err != nil {
				b.Fatal(err)
			}
			pool.SetLowWater(0) // one batch per op: no background batch overlapping the next op
			last = last[:0]
			for range issueBatch {
				t, err := pool.Token(ctx)
				if err != nil {
					b.Fatal(err)
				}
				last = append(last, t)
			}
			n++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*issueBatch), "ns/token")
		b.ReportMetric(float64(n*issueBatch)/b.Elapsed().Seconds(), "tokens/s")
		// The tokens are good: aegisd takes a PUT with the first and the
		// last of the last batch, and refuses one with a token it has spent.
		c := newBenchClient(b, srv)
		c.toks = [][]byte{last[0], last[len(last)-1]}
		path := server.ObjectsPath + "/" + newID().String()
		body := randomBytes(domain.KiB)
		c.set(http.MethodPut, path, body, http.StatusNoContent, 0)
		c.do()
		c.do()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.url+path, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(server.WriteEnablerHeader, c.we)
		req.Header.Set("Authorization", privacypass.FormatAuthorization(last[0]))
		res, err := c.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			b.Fatalf("PUT with a spent token: status %d, want %d", res.StatusCode, http.StatusUnauthorized)
		}
	})
}
