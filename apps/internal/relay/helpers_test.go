package relay_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ai-pantheon/aegis/apps/internal/relay"
	"github.com/ai-pantheon/aegis/apps/internal/relay/relaytest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// received is one request as the fake gateway got it.
type received struct {
	Method, Path, RawQuery, Host, Proto string
	Header                              http.Header
	Body                                []byte
}

// gateway is a fake Oblivious Gateway Resource that records exactly what it
// receives. By default it answers a POST with its body reversed, as
// message/ohttp-res, and a GET with keyConfigs, as application/ohttp-keys;
// both answers carry headers of the gateway's own that must not reach
// clients. answer replaces that behaviour.
type gateway struct {
	srv *httptest.Server

	mu     sync.Mutex
	got    []received
	conns  int // connections the gateway accepted
	answer func(w http.ResponseWriter, r *http.Request, body []byte)
	// arrived gets a value when a request has been recorded (never blocks).
	arrived chan struct{}
}

// keyConfigs stands for the gateway's key configurations: the relay passes
// them on without parsing them.
var keyConfigs = []byte("\x00\x29\x01\x00\x20" + "fake-x25519-public-key-32-bytes!" + "\x00\x04\x00\x01\x00\x01")

// newGateway starts a fake gateway, closed when the spec ends.
func newGateway() *gateway {
	GinkgoHelper()
	g := &gateway{arrived: make(chan struct{}, 1024)}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			g.mu.Lock()
			g.conns++
			g.mu.Unlock()
		}
	}
	g.srv.Start()
	DeferCleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.got = append(g.got, received{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
		Proto: r.Proto, Header: r.Header.Clone(), Body: body})
	answer := g.answer
	g.mu.Unlock()
	select {
	case g.arrived <- struct{}{}:
	default:
	}
	if answer != nil {
		answer(w, r, body)
		return
	}
	w.Header().Set("Set-Cookie", "gateway-session=abc")
	w.Header().Set("X-Gateway-Internal", "gateway-internal-value")
	switch r.Method {
	case http.MethodPost:
		w.Header().Set("Content-Type", relay.MediaTypeResponse)
		_, _ = w.Write(reversed(body))
	default:
		w.Header().Set("Content-Type", relay.MediaTypeKeys)
		_, _ = w.Write(keyConfigs)
	}
}

// setAnswer replaces the gateway's behaviour.
func (g *gateway) setAnswer(f func(w http.ResponseWriter, r *http.Request, body []byte)) {
	g.mu.Lock()
	g.answer = f
	g.mu.Unlock()
}

// requests returns what the gateway received so far.
func (g *gateway) requests() []received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]received(nil), g.got...)
}

// connections returns the number of connections the gateway accepted.
func (g *gateway) connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns
}

// running is an aegis-relay served on a loopback port with its log.
type running struct {
	*relaytest.Server
	Log *syncBuffer
}

// startRelay assembles an aegis-relay in front of g (relay.Initialize) and
// serves it on 127.0.0.1:0 until the spec ends. The per-connection limit is
// off unless edit sets it.
func startRelay(g *gateway, edit func(*relay.Options)) *running {
	GinkgoHelper()
	lg := &syncBuffer{}
	o := relay.Options{Gateway: g.srv.URL, Log: lg}
	if edit != nil {
		edit(&o)
	}
	srv, err := relaytest.Start(o)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(srv.Stop()).To(Succeed()) })
	return &running{Server: srv, Log: lg}
}

// newClient returns an HTTP client with its own connections.
func newClient() *http.Client {
	t := &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}
	DeferCleanup(t.CloseIdleConnections)
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// reply is a relay answer read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends req with c and reads the answer.
func do(c *http.Client, req *http.Request) reply {
	GinkgoHelper()
	res, err := c.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return reply{Status: res.StatusCode, Header: res.Header, Body: b}
}

// post sends body to the relay's POST / with Content-Type ct.
func post(c *http.Client, base, ct string, body []byte) reply {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, base+relay.RelayPath, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return do(c, req)
}

// get sends a GET (or another body-less method) to base+path.
func get(c *http.Client, method, url string) reply {
	GinkgoHelper()
	req, err := http.NewRequest(method, url, nil)
	Expect(err).NotTo(HaveOccurred())
	return do(c, req)
}

// errorCode returns the code of a JSON error body.
func errorCode(r reply) string {
	GinkgoHelper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	Expect(json.Unmarshal(r.Body, &body)).To(Succeed(), "error body %q", r.Body)
	Expect(body.Error.Message).NotTo(BeEmpty())
	return body.Error.Code
}

// expectError checks a relay error answer: status, code, JSON, no-store.
func expectError(r reply, status int, code string) {
	GinkgoHelper()
	Expect(r.Status).To(Equal(status), "body %s", r.Body)
	Expect(r.Header.Get("Content-Type")).To(HavePrefix("application/json"))
	Expect(r.Header.Get("Cache-Control")).To(Equal("no-store"))
	Expect(errorCode(r)).To(Equal(code))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func reversed(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}
