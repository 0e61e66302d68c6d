package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/cli"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Helpers of the fault specs (proxy_spec_test.go, garbage_spec_test.go,
// guard_spec_test.go): an aegisd of the spec's own, whose object count belongs
// to the spec's vaults alone and which can be stopped and started again; a
// reverse proxy that loses aegisd's answers; a vault handle straight at aegisd.

// ownServer is an aegisd of one spec, in process on 127.0.0.1, with a file
// store and a file ledger in a temporary directory. stop does what SIGTERM does
// to the aegisd binary (its signal handler cancels the context of App.Run):
// in-flight requests finish, then the listener is closed and new connections
// are refused. restart serves the same directories on the same address.
type ownServer struct {
	URL   string
	Store string // the file store's directory (fsblob)
	addr  string
	opts  aegisd.Options

	// hook, when set, runs every request: serve hands it to aegisd.
	hook atomic.Pointer[func(r *http.Request, serve func())]
	// watch, when set, sees every request once it is answered: when it reached
	// the handler (its header read) and the status of the answer (0: none
	// written).
	watch atomic.Pointer[func(r *http.Request, arrived time.Time, status int)]
	// busy is the number of requests being served (watch included).
	busy atomic.Int64

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
}

func startOwnServer() *ownServer {
	GinkgoHelper()
	base := GinkgoT().TempDir()
	s := &ownServer{Store: filepath.Join(base, "objects"), opts: aegisd.Options{
		Store:            "file://" + filepath.Join(base, "objects"),
		Ledger:           "file://" + filepath.Join(base, "ledger"),
		IssuerDir:        filepath.Join(base, "issuer"),
		AttestSecretFile: secretFile,
		MaxInFlight:      256,
		Log:              GinkgoWriter,
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	s.serve(ln)
	DeferCleanup(func() { Expect(s.stop()).To(Succeed()) })
	return s
}

func (s *ownServer) serve(ln net.Listener) {
	GinkgoHelper()
	app, err := aegisd.Initialize(s.opts)
	Expect(err).NotTo(HaveOccurred())
	next := app.HTTP.Handler
	app.HTTP.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.busy.Add(1)
		defer s.busy.Add(-1)
		if watch := s.watch.Load(); watch != nil {
			sw := &statusWriter{ResponseWriter: w}
			arrived := time.Now()
			defer func() { (*watch)(r, arrived, sw.status) }()
			w = sw
		}
		if h := s.hook.Load(); h != nil {
			(*h)(r, func() { next.ServeHTTP(w, r) })
			return
		}
		next.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	s.mu.Lock()
	s.cancel, s.done = cancel, done
	s.mu.Unlock()
}

// stop shuts the server down gracefully, as SIGTERM does, and returns what
// Serve returned; a later call returns nil. From a request it must run in a
// goroutine of its own: the shutdown waits for that request.
func (s *ownServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	err := <-s.done
	s.cancel, s.done = nil, nil
	return err
}

// restart serves the same store, ledger and issuer keys on the same address.
func (s *ownServer) restart() {
	GinkgoHelper()
	Expect(s.stop()).To(Succeed())
	var ln net.Listener
	Eventually(func() error {
		var err error
		ln, err = net.Listen("tcp", s.addr)
		return err
	}, "5s", "20ms").Should(Succeed())
	s.serve(ln)
}

func (s *ownServer) setHook(h func(r *http.Request, serve func())) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}

func (s *ownServer) setWatch(f func(r *http.Request, arrived time.Time, status int)) {
	if f == nil {
		s.watch.Store(nil)
		return
	}
	s.watch.Store(&f)
}

// settle waits until aegisd serves no request: watch has seen every request
// answered so far (a client may read an answer before its handler returns).
func (s *ownServer) settle() {
	GinkgoHelper()
	Eventually(s.busy.Load, "10s", "5ms").Should(BeZero())
}

// statusWriter remembers the status of the answer it writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serverObjectIDs lists the objects of clients that an aegisd keeps in its file
// store directory (fsblob: objects/<first 2 hex>/<64 hex>): temp files and the
// server's own store-format marker (server.StoreFormatID) left out. The fault
// specs count server objects through this function only.
func serverObjectIDs(storeDir string) []string {
	GinkgoHelper()
	var ids []string
	root := filepath.Join(storeDir, "objects")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		name, shard := d.Name(), filepath.Base(filepath.Dir(p))
		if _, herr := hex.DecodeString(name); herr != nil || len(name) != 64 || shard != name[:2] {
			return nil // a temp file
		}
		if name == server.StoreFormatID.String() {
			return nil
		}
		ids = append(ids, name)
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return ids
}

// serverFiles maps every object file of storeDir (as serverObjectIDs lists
// them) to the SHA-256 of its content.
func serverFiles(storeDir string) map[string][32]byte {
	GinkgoHelper()
	out := map[string][32]byte{}
	for _, id := range serverObjectIDs(storeDir) {
		b, err := os.ReadFile(filepath.Join(storeDir, "objects", id[:2], id))
		Expect(err).NotTo(HaveOccurred())
		out[id] = sha256.Sum256(b)
	}
	return out
}

// remoteUser is a runner for vault name at url, with HOME (so the
// configuration directory: vault keys, host id) in dir.
func remoteUser(dir, url, name, passphrase string) runner {
	GinkgoHelper()
	pass := writeFile(dir, "pass-"+name, passphrase+"\n")
	return runner{Dir: dir, Env: []string{
		"AEGIS_REMOTE=" + url,
		"AEGIS_ATTEST_SECRET_FILE=" + secretFile,
		"AEGIS_VAULT_NAME=" + name,
		"AEGIS_PASSPHRASE_FILE=" + pass,
	}}
}

func randomName(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// at returns a runner for the same vault reached at url, the vault key
// recorded for url in the same configuration directory.
func (r runner) at(url string) runner {
	GinkgoHelper()
	key := r.ok("vault-key", "export")
	other := r.with("AEGIS_REMOTE=" + url)
	other.input([]byte(key)).ok("vault-key", "import")
	return other
}

func vaultKey(r runner) []byte {
	GinkgoHelper()
	k, err := cli.ParseVaultKey(r.ok("vault-key", "export"))
	Expect(err).NotTo(HaveOccurred())
	return k
}

// openDirect opens vault name in process over httpblob straight at aegisd
// (url), with the vault key key. The specs only read through it.
func openDirect(ctx context.Context, url, name string, key []byte, passphrase string) *vault.Vault {
	GinkgoHelper()
	pool, err := httpblob.NewTokenPool(ctx, url, []byte(attestSecret), &httpblob.PoolOptions{Batch: 64})
	Expect(err).NotTo(HaveOccurred())
	store, err := httpblob.Open(url, &httpblob.Options{Tokens: pool})
	Expect(err).NotTo(HaveOccurred())
	v, err := vault.Open(ctx, vault.Config{Store: store, Crypto: suite.Default(), Name: name, Locator: key, SharedStore: true}, []byte(passphrase))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(v.Close)
	return v
}

// unreferenced returns the objects on the server that vault name does not
// reference: it opens the vault afresh through a proxy and reads every
// category, and what it fetches is what the vault references.
func unreferenced(ctx context.Context, srv *ownServer, name string, key []byte, passphrase string) []string {
	GinkgoHelper()
	p := newFaultProxy(srv.URL)
	v := openDirect(ctx, p.URL, name, key, passphrase)
	_, err := v.LoadAll(ctx)
	Expect(err).NotTo(HaveOccurred())
	p.mu.Lock()
	fetched := map[string]bool{}
	for _, e := range p.log {
		if e.method == http.MethodGet && e.status == http.StatusOK {
			fetched[e.id] = true
		}
	}
	p.mu.Unlock()
	var out []string
	for _, id := range serverObjectIDs(srv.Store) {
		if !fetched[id] {
			out = append(out, id)
		}
	}
	return out
}

// statsObjects is `aegis --json stats`'s "objects": what the vault references.
func statsObjects(r runner) int {
	GinkgoHelper()
	var st struct{ Objects int }
	Expect(json.Unmarshal([]byte(r.ok("--json", "stats")), &st)).To(Succeed())
	Expect(st.Objects).To(BeNumerically(">", 0))
	return st.Objects
}

// fault is what the proxy does with one object request.
type fault int

const (
	pass      fault = iota
	after503        // forwarded; aegisd's answer replaced by the proxy's 503 page
	after502        // forwarded; 502 page
	after504        // forwarded; 504 page
	afterDrop       // forwarded; the client's connection closed without an answer
	before503       // not forwarded: the proxy's 503 page
)

func (f fault) String() string {
	return [...]string{"pass", "503 after forwarding", "502 after forwarding", "504 after forwarding", "dropped after forwarding", "503 without forwarding"}[f]
}

// proxyPages are what a proxy (not aegisd, whose errors are JSON) answers.
var proxyPages = map[int]string{
	http.StatusBadGateway:         "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n",
	http.StatusServiceUnavailable: "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
	http.StatusGatewayTimeout:     "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>\n",
}

// faultProxy is a reverse proxy in front of an aegisd. It counts the object
// requests (GET, PUT, DELETE /v1/objects/ID) and lets decide turn any of them
// into a fault; everything else (the token pool's challenge, directory and
// token requests) passes untouched and uncounted.
type faultProxy struct {
	URL      string
	target   string
	client   *http.Client
	headerID string // labels the header in the trace

	mu     sync.Mutex
	n      int
	log    []*proxyEntry
	decide func(n int, r *http.Request) fault
}

// proxyEntry is one object request through the proxy.
type proxyEntry struct {
	n            int
	method, cond string
	id           string
	header       bool
	fault        fault
	status       int // aegisd's answer; 0: not forwarded (or no answer)
}

func (e *proxyEntry) String() string {
	what := "object " + e.id[:min(8, len(e.id))]
	if e.header {
		what = "header"
	}
	s := fmt.Sprintf("%d %s%s %s", e.n, e.method, e.cond, what)
	if e.fault != pass {
		s += ": " + e.fault.String()
	}
	if e.status != 0 && e.status/100 != 2 {
		s += fmt.Sprintf(" (aegisd %d)", e.status)
	}
	return s
}

func newFaultProxy(target string) *faultProxy {
	GinkgoHelper()
	p := &faultProxy{target: target, client: &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
	srv := httptest.NewServer(p)
	p.URL = srv.URL
	DeferCleanup(srv.Close)
	return p
}

// arm sets the fault policy and starts counting from zero; nil passes all.
func (p *faultProxy) arm(decide func(n int, r *http.Request) fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.log, p.decide = 0, nil, decide
}

// requests returns the number of object requests since arm, and their trace.
func (p *faultProxy) requests() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	trace := make([]string, len(p.log))
	for i, e := range p.log {
		trace[i] = e.String()
	}
	return p.n, trace
}

// about returns the requests since arm that concern objects whose id starts
// with prefix.
func (p *faultProxy) about(prefix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.log {
		if strings.HasPrefix(e.id, prefix) {
			out = append(out, e.String())
		}
	}
	return out
}

// faultAt is a policy: fault f at the k-th object request.
func faultAt(k int, f fault) func(int, *http.Request) fault {
	return func(n int, _ *http.Request) fault {
		if n == k {
			return f
		}
		return pass
	}
}

var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f := pass
	var entry *proxyEntry
	// Object requests carry a token; the token pool's challenge does not.
	if strings.HasPrefix(r.URL.Path, "/v1/objects/") && r.Header.Get("Authorization") != "" {
		p.mu.Lock()
		p.n++
		n, decide := p.n, p.decide
		if decide != nil {
			f = decide(n, r)
		}
		entry = &proxyEntry{n: n, method: r.Method, id: strings.TrimPrefix(r.URL.Path, "/v1/objects/"), fault: f}
		if r.Header.Get("If-Match") != "" {
			entry.cond = " If-Match"
		} else if r.Header.Get("If-None-Match") != "" {
			entry.cond = " If-None-Match"
		}
		entry.header = p.headerID != "" && entry.id == p.headerID
		p.log = append(p.log, entry)
		p.mu.Unlock()
	}
	answered := func(status int) {
		if entry != nil {
			p.mu.Lock()
			entry.status = status
			p.mu.Unlock()
		}
	}
	if f == before503 {
		proxyPage(w, http.StatusServiceUnavailable)
		return
	}
	// The request reaches aegisd whole, whatever the client does meanwhile.
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		proxyPage(w, http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	for _, h := range hopByHop {
		req.Header.Del(h)
	}
	req.ContentLength = int64(len(body))
	resp, err := p.client.Do(req)
	if err != nil {
		proxyPage(w, http.StatusBadGateway)
		return
	}
	answered(resp.StatusCode)
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		proxyPage(w, http.StatusBadGateway)
		return
	}
	switch f {
	case after503:
		proxyPage(w, http.StatusServiceUnavailable)
		return
	case after502:
		proxyPage(w, http.StatusBadGateway)
		return
	case after504:
		proxyPage(w, http.StatusGatewayTimeout)
		return
	case afterDrop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopByHop {
		w.Header().Del(h)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

func proxyPage(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Connection", "close")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, proxyPages[code])
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	ca, err1 := vault.CanonicalJSON(a)
	cb, err2 := vault.CanonicalJSON(b)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}

// lastLine is the last line of s, trimmed.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// envInt is the integer in environment variable name, else def.
func envInt(name string, def int) int {
	GinkgoHelper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	Expect(err).NotTo(HaveOccurred(), "%s=%q", name, s)
	return n
}
