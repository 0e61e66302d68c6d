package server_test

// The fail-closed tests of aegisd's request pipeline: every path on which a
// request must not be served (its object neither stored, returned, nor
// deleted, no token issued) is exercised through a real HTTP server
// (httptest.NewServer) over a memory store the tests inspect before and after
// each request. TestFailClosedControl shows that the same requests, without
// the fault, are served: each refusal below is caused by its fault alone.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// The store of every test holds the format marker and one object, fcID,
// created with fcEnabler and holding fcBody. fcOtherID is absent.
var (
	fcID       = domain.ObjectID{0xfc, 1}
	fcOtherID  = domain.ObjectID{0xfc, 2}
	fcEnabler  = domain.WriteEnabler{0xfc, 1}
	fcWrong    = domain.WriteEnabler{0xba, 0xd}
	fcBody     = fcPattern("the object aegisd holds, never to be served on a refusal; ", domain.KiB)
	fcNewBody  = fcPattern("a body aegisd must not store; ", domain.KiB)
	errFCStore = errors.New("injected store failure: s3: 500 internal error")
)

const fcSecret = "fail-closed-attestation-secret"

func fcPattern(s string, n int) []byte { return bytes.Repeat([]byte(s), n/len(s)+1)[:n] }

// fcStore is a memory store that counts its operations and runs a hook
// before each: an error from the hook is returned without touching the store.
type fcStore struct {
	*memblob.Store
	ops atomic.Int64

	mu         sync.Mutex
	hook       func(ctx context.Context, op string, id domain.ObjectID) error
	badVersion bool // GetVersioned returns a version that is no entity tag
}

// The operations fcStore hooks.
const (
	fcGet          = "get"
	fcGetVersioned = "get-versioned"
	fcCAS          = "compare-and-swap"
	fcDelete       = "delete"
	fcPut          = "put"
	fcList         = "list"
)

func (s *fcStore) setHook(h func(ctx context.Context, op string, id domain.ObjectID) error) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// failOn makes the store fail every operation op with err.
func (s *fcStore) failOn(op string, err error) {
	s.setHook(func(_ context.Context, o string, _ domain.ObjectID) error {
		if o == op {
			return err
		}
		return nil
	})
}

func (s *fcStore) before(ctx context.Context, op string, id domain.ObjectID) error {
	s.ops.Add(1)
	s.mu.Lock()
	h := s.hook
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(ctx, op, id)
}

func (s *fcStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := s.before(ctx, fcPut, id); err != nil {
		return err
	}
	return s.Store.Put(ctx, id, data)
}

func (s *fcStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	if err := s.before(ctx, fcGet, id); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s *fcStore) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := s.before(ctx, fcGetVersioned, id); err != nil {
		return nil, "", err
	}
	b, v, err := s.Store.GetVersioned(ctx, id)
	s.mu.Lock()
	bad := s.badVersion
	s.mu.Unlock()
	if err == nil && bad {
		v = "not an entity tag"
	}
	return b, v, err
}

func (s *fcStore) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := s.before(ctx, fcDelete, id); err != nil {
		return err
	}
	return s.Store.Delete(ctx, id)
}

func (s *fcStore) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if err := s.before(ctx, fcList, domain.ObjectID{}); err != nil {
		return err
	}
	return s.Store.List(ctx, fn)
}

func (s *fcStore) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := s.before(ctx, fcCAS, id); err != nil {
		return "", err
	}
	return s.Store.CompareAndSwap(ctx, id, expected, data)
}

// fcLedger is a memory spent-token ledger that counts its calls and fails
// them while a failure is set (without marking anything).
type fcLedger struct {
	*memledger.Ledger
	calls atomic.Int64

	mu   sync.Mutex
	fail func(ctx context.Context) error
}

func (l *fcLedger) setFailure(f func(ctx context.Context) error) {
	l.mu.Lock()
	l.fail = f
	l.mu.Unlock()
}

func (l *fcLedger) MarkSpent(ctx context.Context, partition string, nonce []byte) (bool, error) {
	l.calls.Add(1)
	l.mu.Lock()
	f := l.fail
	l.mu.Unlock()
	if f != nil {
		if err := f(ctx); err != nil {
			return false, err
		}
	}
	return l.Ledger.MarkSpent(ctx, partition, nonce)
}

// fcServed is what the handler answered, as seen on the server side (for
// requests whose client is gone before the answer).
type fcServed struct {
	status int
	body   []byte
}

// fcRecorder passes the response through and keeps its status and body.
type fcRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *fcRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *fcRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *fcRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fcEnv is an aegisd handler served by a real HTTP server on loopback, over
// an fcStore and an fcLedger, with a pool of valid tokens.
type fcEnv struct {
	url       string
	client    *http.Client // bounds every request: a server that hangs fails the test
	store     *fcStore
	ledger    *fcLedger
	origin    *privacypass.Origin
	key       *privacypass.IssuerKey
	challenge []byte
	tokens    *privacypass.Pool
	metrics   *server.Metrics
	served    chan fcServed // every answer, when the handler has returned
}

func newFCEnv(t *testing.T, edit func(*server.Config)) *fcEnv {
	t.Helper()
	key, err := privacypass.GenerateIssuerKey(privacypass.TypeVOPRF, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ch := fcChallenge(t, key, "aegisd")
	ledger := &fcLedger{Ledger: memledger.Open()}
	origin := privacypass.NewOrigin(ledger)
	origin.AddIssuerKey(key)
	if err := origin.AcceptChallenge(ch); err != nil {
		t.Fatal(err)
	}
	store := &fcStore{Store: memblob.Open()}
	if err := server.PrepareStore(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(fcEnabler[:])
	if err := store.Store.Put(t.Context(), fcID, append(h[:], fcBody...)); err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Store: store, Redeemer: origin, Challenge: ch, TokenKey: key.TokenKey(),
		Issuer: privacypass.NewIssuer(key), AttestSecret: []byte(fcSecret),
		Metrics: server.NewMetrics(),
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &fcEnv{
		client: &http.Client{Timeout: time.Minute},
		store:  store, ledger: ledger, origin: origin, key: key, challenge: ch,
		tokens: fcPool(t, key, ch), metrics: cfg.Metrics, served: make(chan fcServed, 256),
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &fcRecorder{ResponseWriter: w}
		srv.ServeHTTP(rec, r)
		select {
		case e.served <- fcServed{rec.status, rec.body.Bytes()}:
		default:
		}
	}))
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

func fcChallenge(t *testing.T, key *privacypass.IssuerKey, issuer string) []byte {
	t.Helper()
	ch, err := (&privacypass.TokenChallenge{TokenType: key.Type(), IssuerName: issuer}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// fcPool returns a pool of tokens of key for challenge ch, issued in process.
func fcPool(t *testing.T, key *privacypass.IssuerKey, ch []byte) *privacypass.Pool {
	t.Helper()
	client, err := privacypass.NewClient(key.Type(), key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	issuer := privacypass.NewIssuer(key)
	p, err := privacypass.NewPool(client, ch, 8, func(_ context.Context, req []byte) ([]byte, error) { return issuer.IssueBatch(req) })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fcToken(t *testing.T, p *privacypass.Pool) []byte {
	t.Helper()
	tok, err := p.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func fcPath(id domain.ObjectID) string { return server.ObjectsPath + "/" + id.String() }

// fcResp is an answer as the client read it.
type fcResp struct {
	status int
	code   string // of the JSON error body
	header http.Header
	body   []byte
}

func fcParse(t *testing.T, res *http.Response) fcResp {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fcResp{status: res.StatusCode, code: fcCode(b), header: res.Header, body: b}
}

func fcCode(body []byte) string {
	var eb struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &eb)
	return eb.Error.Code
}

// request returns a request for path with body and, unless hdr says otherwise
// (a key with no values removes the header), a fresh valid token and, on PUT
// and DELETE, the write-enabler fcID was created with.
func (e *fcEnv) request(ctx context.Context, t *testing.T, method, path string, body io.Reader, hdr http.Header) *http.Request {
	t.Helper()
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := hdr["Authorization"]; !ok {
		req.Header.Set("Authorization", privacypass.FormatAuthorization(fcToken(t, e.tokens)))
	}
	if _, ok := hdr[server.WriteEnablerHeader]; !ok && (method == http.MethodPut || method == http.MethodDelete) {
		req.Header.Set(server.WriteEnablerHeader, httpwire.FormatWriteEnabler(fcEnabler))
	}
	for k, v := range hdr {
		if len(v) == 0 {
			req.Header.Del(k)
			continue
		}
		req.Header[k] = v
	}
	return req
}

func (e *fcEnv) do(t *testing.T, method, path string, body []byte, hdr http.Header) fcResp {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	res, err := e.client.Do(e.request(t.Context(), t, method, path, r, hdr))
	if err != nil {
		t.Fatal(err)
	}
	return fcParse(t, res)
}

// fcCall is an object request that the server serves unless a fault is armed.
type fcCall struct {
	name   string
	method string
	id     domain.ObjectID
	body   []byte
	hdr    http.Header
}

func (e *fcEnv) call(t *testing.T, c fcCall) fcResp {
	t.Helper()
	return e.do(t, c.method, fcPath(c.id), c.body, c.hdr)
}

// etag returns the entity tag of fcID's current version.
func (e *fcEnv) etag(t *testing.T) string {
	t.Helper()
	_, v, err := e.store.Store.GetVersioned(t.Context(), fcID)
	if err != nil {
		t.Fatal(err)
	}
	tag, ok := httpwire.FormatETag(v)
	if !ok {
		t.Fatalf("version %q", v)
	}
	return tag
}

// calls returns one request of each kind on object routes: replace fcID,
// create fcOtherID, swap fcID at its version, create fcOtherID only if absent,
// read fcID, delete fcID.
func (e *fcEnv) calls(t *testing.T) []fcCall {
	t.Helper()
	return []fcCall{
		{"PUT replace", http.MethodPut, fcID, fcNewBody, nil},
		{"PUT create", http.MethodPut, fcOtherID, fcNewBody, nil},
		{"PUT If-Match", http.MethodPut, fcID, fcNewBody, http.Header{"If-Match": {e.etag(t)}}},
		{"PUT If-None-Match", http.MethodPut, fcOtherID, fcNewBody, http.Header{"If-None-Match": {"*"}}},
		{"GET", http.MethodGet, fcID, nil, nil},
		{"DELETE", http.MethodDelete, fcID, nil, nil},
	}
}

// snapshot returns every stored object with its version.
func (e *fcEnv) snapshot(t *testing.T) map[domain.ObjectID]string {
	t.Helper()
	m := map[domain.ObjectID]string{}
	err := e.store.Store.List(t.Context(), func(id domain.ObjectID) error {
		b, v, err := e.store.Store.GetVersioned(t.Context(), id)
		m[id] = string(v) + "|" + string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// unchanged fails t unless the store holds exactly before.
func (e *fcEnv) unchanged(t *testing.T, before map[domain.ObjectID]string) {
	t.Helper()
	after := e.snapshot(t)
	if maps.Equal(before, after) {
		return
	}
	for id, b := range before {
		if a, ok := after[id]; !ok {
			t.Errorf("object %.8s… was deleted", id)
		} else if a != b {
			t.Errorf("object %.8s… was changed", id)
		}
	}
	for id := range after {
		if _, ok := before[id]; !ok {
			t.Errorf("object %.8s… was stored", id)
		}
	}
}

// fcRefused fails t unless r is the JSON error status/code and carries
// nothing of the stored object: no body bytes, no entity tag.
func fcRefused(t *testing.T, r fcResp, status int, code string) {
	t.Helper()
	if r.status != status || r.code != code {
		t.Errorf("answer %d %q, want %d %q: %.200s", r.status, r.code, status, code, r.body)
	}
	fcNothingServed(t, r.status, r.body)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want a JSON error", ct)
	}
	if et := r.header.Get("ETag"); et != "" {
		t.Errorf("a refusal carries the entity tag %s", et)
	}
}

func fcNothingServed(t *testing.T, status int, body []byte) {
	t.Helper()
	if bytes.Contains(body, fcBody[:32]) || bytes.Contains(body, []byte(server.StoreFormat[:20])) {
		t.Errorf("status %d served stored bytes: %.200q", status, body)
	}
	if bytes.Contains(body, []byte("injected")) || bytes.Contains(body, []byte("s3:")) {
		t.Errorf("status %d tells the client an internal error: %.200q", status, body)
	}
}

// TestFailClosedControl: the requests of fcEnv.calls are served when nothing
// is wrong, so that the refusals of the other tests come from their faults.
func TestFailClosedControl(t *testing.T) {
	h := sha256.Sum256(fcEnabler[:])
	stored := string(h[:]) + string(fcNewBody)
	for i := range 6 {
		e := newFCEnv(t, nil)
		c := e.calls(t)[i]
		t.Run(c.name, func(t *testing.T) {
			r := e.call(t, c)
			after := e.snapshot(t)
			switch c.method {
			case http.MethodGet:
				if r.status != http.StatusOK || !bytes.Equal(r.body, fcBody) {
					t.Fatalf("answer %d %.100q, want 200 and the object", r.status, r.body)
				}
			case http.MethodDelete:
				if _, ok := after[c.id]; r.status != http.StatusNoContent || ok {
					t.Fatalf("answer %d %s, object still stored: %v", r.status, r.body, ok)
				}
			default:
				if a := after[c.id]; r.status != http.StatusNoContent || !strings.HasSuffix(a, "|"+stored) {
					t.Fatalf("answer %d %s; the object was not stored", r.status, r.body)
				}
			}
		})
	}
}

// TestFailClosedLedgerError: when the spent-token ledger fails (an
// infrastructure error: neither "spent" nor "invalid"), the token could not be
// marked spent, so the request is refused with 503 unavailable before the
// handler runs: nothing is stored, served or deleted, the store is not used.
func TestFailClosedLedgerError(t *testing.T) {
	for _, le := range []struct {
		name string
		err  error
	}{
		{"ledger down", errors.New("redis: dial tcp 127.0.0.1:6379: connect: connection refused")},
		{"ledger timeout", context.DeadlineExceeded},
		{"ledger refuses its arguments", fmt.Errorf("ledger: %w", domain.ErrInvalidInput)},
	} {
		t.Run(le.name, func(t *testing.T) {
			e := newFCEnv(t, nil)
			e.ledger.setFailure(func(context.Context) error { return le.err })
			for _, c := range e.calls(t) {
				t.Run(c.name, func(t *testing.T) {
					before, ops, calls := e.snapshot(t), e.store.ops.Load(), e.ledger.calls.Load()
					r := e.call(t, c)
					fcRefused(t, r, http.StatusServiceUnavailable, server.CodeUnavailable)
					e.unchanged(t, before)
					if n := e.store.ops.Load() - ops; n != 0 {
						t.Errorf("the store was used %d times", n)
					}
					if n := e.ledger.calls.Load() - calls; n != 1 {
						t.Errorf("the ledger was asked %d times, want 1", n)
					}
				})
			}
		})
	}
}

// TestFailClosedToken: an object request without exactly one PrivateToken
// that verifies and was not spent before is refused with 401 and the
// challenge, before the handler runs: the store is not used.
func TestFailClosedToken(t *testing.T) {
	e := newFCEnv(t, nil)

	other, err := privacypass.GenerateIssuerKey(privacypass.TypeVOPRF, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := privacypass.GenerateIssuerKey(privacypass.TypeVOPRF, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.origin.AddIssuerKeyUntil(expired, time.Now().Add(-time.Hour))
	tampered := fcToken(t, e.tokens)
	tampered[len(tampered)-1] ^= 1
	spent := fcToken(t, e.tokens)
	if r := e.do(t, http.MethodGet, fcPath(fcOtherID), nil, http.Header{"Authorization": {privacypass.FormatAuthorization(spent)}}); r.status != http.StatusNotFound {
		t.Fatalf("spending a token: %d %s", r.status, r.body)
	}
	auth := func(tok []byte) []string { return []string{privacypass.FormatAuthorization(tok)} }

	for _, tc := range []struct {
		name string
		auth []string // nil: no Authorization header
		code string
	}{
		{"no Authorization", nil, server.CodeTokenRequired},
		{"two Authorization headers", append(auth(fcToken(t, e.tokens)), auth(fcToken(t, e.tokens))...), server.CodeTokenInvalid},
		{"Bearer scheme", []string{"Bearer " + fcSecret}, server.CodeTokenInvalid},
		{"PrivateToken without a token", []string{`PrivateToken challenge="AAAA"`}, server.CodeTokenInvalid},
		{"malformed token", []string{`PrivateToken token="AAAA"`}, server.CodeTokenInvalid},
		{"tampered authenticator", auth(tampered), server.CodeTokenInvalid},
		{"token of an unknown key", auth(fcToken(t, fcPool(t, other, e.challenge))), server.CodeTokenInvalid},
		{"token of an expired key", auth(fcToken(t, fcPool(t, expired, e.challenge))), server.CodeTokenInvalid},
		{"token for another challenge", auth(fcToken(t, fcPool(t, e.key, fcChallenge(t, e.key, "elsewhere")))), server.CodeTokenInvalid},
		{"spent token", auth(spent), server.CodeTokenSpent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range e.calls(t) {
				t.Run(c.name, func(t *testing.T) {
					c.hdr = maps.Clone(c.hdr)
					if c.hdr == nil {
						c.hdr = http.Header{}
					}
					c.hdr["Authorization"] = tc.auth
					before, ops := e.snapshot(t), e.store.ops.Load()
					r := e.call(t, c)
					fcRefused(t, r, http.StatusUnauthorized, tc.code)
					if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "PrivateToken ") {
						t.Errorf("no PrivateToken challenge: %q", r.header.Get("WWW-Authenticate"))
					}
					e.unchanged(t, before)
					if n := e.store.ops.Load() - ops; n != 0 {
						t.Errorf("the store was used %d times", n)
					}
				})
			}
		})
	}
}

// TestFailClosedBusy: a request over the concurrency limit is refused with
// 503 busy before anything is looked at: its token is not spent (it serves
// later), the ledger and the store are not asked.
func TestFailClosedBusy(t *testing.T) {
	e := newFCEnv(t, func(c *server.Config) { c.MaxInFlight = 1 })
	e.client.Timeout = 10 * time.Second // a request over the limit must not wait
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.store.setHook(func(ctx context.Context, op string, id domain.ObjectID) error {
		once.Do(func() {
			close(entered)
			<-release
		})
		return nil
	})
	type answer struct {
		status int
		err    error
	}
	holder := make(chan answer, 1)
	hold := e.request(context.Background(), t, http.MethodGet, fcPath(fcOtherID), nil, nil)
	go func() {
		res, err := e.client.Do(hold)
		if err != nil {
			holder <- answer{err: err}
			return
		}
		res.Body.Close()
		holder <- answer{status: res.StatusCode}
	}()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	select {
	case <-entered:
	case a := <-holder:
		t.Fatalf("the request meant to hold the limit did not reach the store: %d %v", a.status, a.err)
	}
	tokens := map[string]string{}
	for _, c := range e.calls(t) {
		t.Run(c.name, func(t *testing.T) {
			tok := privacypass.FormatAuthorization(fcToken(t, e.tokens))
			tokens[c.name] = tok
			c.hdr = maps.Clone(c.hdr)
			if c.hdr == nil {
				c.hdr = http.Header{}
			}
			c.hdr["Authorization"] = []string{tok}
			before, ops, calls := e.snapshot(t), e.store.ops.Load(), e.ledger.calls.Load()
			r := e.call(t, c)
			fcRefused(t, r, http.StatusServiceUnavailable, server.CodeBusy)
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			e.unchanged(t, before)
			if n := e.store.ops.Load() - ops; n != 0 {
				t.Errorf("the store was used %d times", n)
			}
			if n := e.ledger.calls.Load() - calls; n != 0 {
				t.Errorf("the ledger was asked %d times", n)
			}
		})
	}
	close(release)
	released = true
	if a := <-holder; a.status != http.StatusNotFound {
		t.Fatalf("the request holding the limit: %d %v", a.status, a.err)
	}
	e.store.setHook(nil)
	// The refused request's token was not spent: it serves now.
	tok := tokens["GET"]
	if r := e.do(t, http.MethodGet, fcPath(fcID), nil, http.Header{"Authorization": {tok}}); r.status != http.StatusOK || !bytes.Equal(r.body, fcBody) {
		t.Fatalf("the token of a request refused as busy does not serve: %d %s", r.status, r.code)
	}
}

// TestFailClosedPanic: a panic in the handler (here in the store) is a 500
// internal error; nothing is served, the store is unchanged.
func TestFailClosedPanic(t *testing.T) {
	e := newFCEnv(t, nil)
	for _, c := range e.calls(t) {
		for _, op := range []string{fcGetVersioned, fcCAS, fcDelete} {
			if op == fcDelete && c.method != http.MethodDelete || op == fcCAS && c.method != http.MethodPut {
				continue
			}
			if op == fcGetVersioned && c.hdr.Get("If-None-Match") != "" {
				continue // creates without reading
			}
			t.Run(c.name+"/panic in "+op, func(t *testing.T) {
				e.store.setHook(func(_ context.Context, o string, _ domain.ObjectID) error {
					if o == op {
						panic("store bug")
					}
					return nil
				})
				defer e.store.setHook(nil)
				before := e.snapshot(t)
				r := e.call(t, c)
				fcRefused(t, r, http.StatusInternalServerError, server.CodeInternal)
				e.unchanged(t, before)
			})
		}
	}
}

// TestFailClosedRoute: paths and methods without a route answer 404 or 405
// whatever token they carry: no listing, no other verb on objects.
func TestFailClosedRoute(t *testing.T) {
	e := newFCEnv(t, nil)
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"list objects", http.MethodGet, server.ObjectsPath, nil, http.StatusNotFound, server.CodeRouteNotFound},
		{"list objects with a query", http.MethodGet, server.ObjectsPath + "?limit=10", nil, http.StatusNotFound, server.CodeRouteNotFound},
		{"list objects with a slash", http.MethodGet, server.ObjectsPath + "/", nil, http.StatusNotFound, server.CodeRouteNotFound},
		{"POST an object", http.MethodPost, fcPath(fcID), fcNewBody, http.StatusMethodNotAllowed, server.CodeMethodNotAllowed},
		{"PATCH an object", http.MethodPatch, fcPath(fcID), fcNewBody, http.StatusMethodNotAllowed, server.CodeMethodNotAllowed},
		{"POST to the listing", http.MethodPost, server.ObjectsPath, fcNewBody, http.StatusNotFound, server.CodeRouteNotFound},
		{"PROPFIND an object", "PROPFIND", fcPath(fcID), nil, http.StatusMethodNotAllowed, server.CodeMethodNotAllowed},
		{"POST overriding the method", http.MethodPost, fcPath(fcID), fcNewBody, http.StatusMethodNotAllowed, server.CodeMethodNotAllowed},
		{"double slash after the version", http.MethodGet, "/v1//objects/" + fcID.String(), nil, http.StatusNotFound, server.CodeRouteNotFound},
		{"double slash in front", http.MethodGet, "/" + fcPath(fcID), nil, http.StatusNotFound, server.CodeRouteNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, ops := e.snapshot(t), e.store.ops.Load()
			r := e.do(t, tc.method, tc.path, tc.body, http.Header{
				server.WriteEnablerHeader: {httpwire.FormatWriteEnabler(fcEnabler)},
				"X-Http-Method-Override":  {http.MethodPut},
			})
			fcRefused(t, r, tc.status, tc.code)
			if bytes.Contains(r.body, []byte(fcID.String())) {
				t.Errorf("the answer names a stored object: %s", r.body)
			}
			e.unchanged(t, before)
			if n := e.store.ops.Load() - ops; n != 0 {
				t.Errorf("the store was used %d times", n)
			}
		})
	}
	// HEAD and OPTIONS answer without a body (Echo answers OPTIONS itself,
	// with the allowed methods): neither looks at the store.
	for _, m := range []struct {
		method string
		status int
	}{{http.MethodHead, http.StatusMethodNotAllowed}, {http.MethodOptions, http.StatusNoContent}} {
		t.Run(m.method+" an object", func(t *testing.T) {
			ops := e.store.ops.Load()
			r := e.do(t, m.method, fcPath(fcID), nil, nil)
			if r.status != m.status || r.header.Get("ETag") != "" || len(r.body) != 0 {
				t.Errorf("answer %d, ETag %q, body %q; want %d without either", r.status, r.header.Get("ETag"), r.body, m.status)
			}
			if n := e.store.ops.Load() - ops; n != 0 {
				t.Errorf("the store was used %d times", n)
			}
		})
	}
}

// TestFailClosedObjectID: object ids that are not 64 lowercase hex digits,
// and the reserved id of the store-format marker, are refused with 400
// invalid_object_id: the marker is neither served, replaced nor deleted.
func TestFailClosedObjectID(t *testing.T) {
	e := newFCEnv(t, nil)
	hexID := fcID.String()
	for _, id := range []struct{ name, path string }{
		{"uppercase id of a stored object", strings.ToUpper(hexID)},
		{"short id", hexID[:62]},
		{"long id", hexID + "00"},
		{"not hex", "g" + hexID[1:]},
		{"escaped id", "%66" + hexID[2:]},
		{"id with a trailing slash", hexID + "/"},
		{"id with a suffix", hexID + "/x"},
		{"id behind a dot segment", "./" + hexID},
	} {
		for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
			t.Run(id.name+"/"+m, func(t *testing.T) {
				var body []byte
				if m == http.MethodPut {
					body = fcNewBody
				}
				before := e.snapshot(t)
				r := e.do(t, m, server.ObjectsPath+"/"+id.path, body, nil)
				fcRefused(t, r, http.StatusBadRequest, server.CodeInvalidObjectID)
				e.unchanged(t, before)
			})
		}
	}
	for _, c := range e.calls(t) {
		t.Run("store-format marker/"+c.name, func(t *testing.T) {
			c.id = server.StoreFormatID
			if c.hdr.Get("If-Match") != "" {
				_, v, err := e.store.Store.GetVersioned(t.Context(), server.StoreFormatID)
				if err != nil {
					t.Fatal(err)
				}
				tag, _ := httpwire.FormatETag(v)
				c.hdr = http.Header{"If-Match": {tag}}
			}
			before := e.snapshot(t)
			r := e.call(t, c)
			fcRefused(t, r, http.StatusBadRequest, server.CodeInvalidObjectID)
			e.unchanged(t, before)
		})
	}
}

// TestFailClosedCondition: conditional headers the API does not support are
// refused with 400 unsupported_condition; the object is unchanged.
func TestFailClosedCondition(t *testing.T) {
	e := newFCEnv(t, nil)
	tag := e.etag(t)
	for _, tc := range []struct {
		name, method string
		hdr          http.Header
	}{
		{"PUT with If-Match and If-None-Match", http.MethodPut, http.Header{"If-Match": {tag}, "If-None-Match": {"*"}}},
		{"PUT with a weak If-Match", http.MethodPut, http.Header{"If-Match": {"W/" + tag}}},
		{"PUT with If-Match *", http.MethodPut, http.Header{"If-Match": {"*"}}},
		{"PUT with an If-Match list", http.MethodPut, http.Header{"If-Match": {tag + `, "other"`}}},
		{"PUT with two If-Match headers", http.MethodPut, http.Header{"If-Match": {tag, tag}}},
		{"PUT with an unquoted If-Match", http.MethodPut, http.Header{"If-Match": {strings.Trim(tag, `"`)}}},
		{"PUT with an If-None-Match tag", http.MethodPut, http.Header{"If-None-Match": {tag}}},
		{"PUT with two If-None-Match headers", http.MethodPut, http.Header{"If-None-Match": {"*", "*"}}},
		{"DELETE with If-Match", http.MethodDelete, http.Header{"If-Match": {tag}}},
		{"DELETE with If-None-Match", http.MethodDelete, http.Header{"If-None-Match": {"*"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.method == http.MethodPut {
				body = fcNewBody
			}
			before := e.snapshot(t)
			r := e.do(t, tc.method, fcPath(fcID), body, tc.hdr)
			fcRefused(t, r, http.StatusBadRequest, server.CodeUnsupportedPrecond)
			e.unchanged(t, before)
		})
	}
}

// TestFailClosedWriteEnablerMalformed: a PUT or DELETE without exactly one
// well-formed write-enabler is refused with 400 write_enabler_required.
func TestFailClosedWriteEnablerMalformed(t *testing.T) {
	e := newFCEnv(t, nil)
	right, wrong := httpwire.FormatWriteEnabler(fcEnabler), httpwire.FormatWriteEnabler(fcWrong)
	if !strings.HasSuffix(right, "A") {
		t.Fatalf("enabler %s", right)
	}
	for _, en := range []struct {
		name string
		vals []string // nil: no header
	}{
		{"no enabler", nil},
		{"empty enabler", []string{""}},
		{"two enablers", []string{right, right}},
		{"the right and a wrong enabler", []string{right, wrong}},
		{"short enabler", []string{right[:42]}},
		{"padded enabler", []string{right + "="}},
		{"non-canonical enabler", []string{right[:42] + "B"}},
		{"standard base64 alphabet", []string{"+" + right[1:]}},
		{"enabler with white space", []string{" " + right[1:]}},
	} {
		t.Run(en.name, func(t *testing.T) {
			for _, c := range e.calls(t) {
				if c.method == http.MethodGet {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					c.hdr = maps.Clone(c.hdr)
					if c.hdr == nil {
						c.hdr = http.Header{}
					}
					c.hdr[server.WriteEnablerHeader] = en.vals
					before := e.snapshot(t)
					r := e.call(t, c)
					fcRefused(t, r, http.StatusBadRequest, server.CodeWriteEnablerRequired)
					e.unchanged(t, before)
				})
			}
		})
	}
}

// TestFailClosedWriteRefused: a write whose enabler or version does not hold
// is refused as a failed precondition (PUT) or an absent object (DELETE),
// and changes nothing.
func TestFailClosedWriteRefused(t *testing.T) {
	e := newFCEnv(t, nil)
	wrong := []string{httpwire.FormatWriteEnabler(fcWrong)}
	tag := e.etag(t)
	for _, tc := range []struct {
		name, method string
		id           domain.ObjectID
		hdr          http.Header
		status       int
		code         string
	}{
		{"PUT with another enabler", http.MethodPut, fcID, http.Header{server.WriteEnablerHeader: wrong}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"PUT If-Match with another enabler", http.MethodPut, fcID, http.Header{server.WriteEnablerHeader: wrong, "If-Match": {tag}}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"PUT If-Match at another version", http.MethodPut, fcID, http.Header{"If-Match": {`"0"`}}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"PUT If-Match on an absent object", http.MethodPut, fcOtherID, http.Header{"If-Match": {tag}}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"PUT If-None-Match on a stored object", http.MethodPut, fcID, http.Header{"If-None-Match": {"*"}}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"PUT If-None-Match on a stored object with another enabler", http.MethodPut, fcID, http.Header{server.WriteEnablerHeader: wrong, "If-None-Match": {"*"}}, http.StatusPreconditionFailed, server.CodePreconditionFailed},
		{"DELETE with another enabler", http.MethodDelete, fcID, http.Header{server.WriteEnablerHeader: wrong}, http.StatusNotFound, server.CodeObjectNotFound},
		{"DELETE an absent object", http.MethodDelete, fcOtherID, nil, http.StatusNotFound, server.CodeObjectNotFound},
		{"GET an absent object", http.MethodGet, fcOtherID, nil, http.StatusNotFound, server.CodeObjectNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.method == http.MethodPut {
				body = fcNewBody
			}
			before := e.snapshot(t)
			r := e.do(t, tc.method, fcPath(tc.id), body, tc.hdr)
			fcRefused(t, r, tc.status, tc.code)
			e.unchanged(t, before)
		})
	}
	t.Run("PUT losing every compare-and-swap", func(t *testing.T) {
		var cas atomic.Int64
		e.store.setHook(func(_ context.Context, op string, _ domain.ObjectID) error {
			if op == fcCAS {
				cas.Add(1)
				return fmt.Errorf("raced: %w", domain.ErrConflict)
			}
			return nil
		})
		defer e.store.setHook(nil)
		before := e.snapshot(t)
		r := e.do(t, http.MethodPut, fcPath(fcID), fcNewBody, nil)
		fcRefused(t, r, http.StatusPreconditionFailed, server.CodePreconditionFailed)
		e.unchanged(t, before)
		if n := cas.Load(); n < 2 {
			t.Errorf("%d compare-and-swaps, want retries", n)
		}
	})
}

// fcRaw sends a request by hand on a TCP connection, half-closes it after
// body and returns the answer.
func fcRaw(t *testing.T, e *fcEnv, head string, body []byte) fcResp {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return fcParse(t, res)
}

// TestFailClosedBody: a PUT body over the limit is refused with 413, one of
// a size the policy does not allow with 400 invalid_size, one cut short with
// 400 bad_request; nothing is stored.
func TestFailClosedBody(t *testing.T) {
	e := newFCEnv(t, nil)
	max := domain.DefaultBuckets().Max()
	limit := max + server.BodySlack
	head := func(id domain.ObjectID, length int) string {
		return fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: aegisd\r\nAuthorization: %s\r\n%s: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			fcPath(id), privacypass.FormatAuthorization(fcToken(t, e.tokens)), server.WriteEnablerHeader, httpwire.FormatWriteEnabler(fcEnabler), length)
	}
	for _, id := range []struct {
		name string
		id   domain.ObjectID
	}{{"replace", fcID}, {"create", fcOtherID}} {
		for _, tc := range []struct {
			name   string
			send   func(t *testing.T) fcResp
			status int
			code   string
		}{
			{"Content-Length over the limit", func(t *testing.T) fcResp {
				return fcRaw(t, e, head(id.id, limit+1), nil)
			}, http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge},
			{"chunked body over the limit", func(t *testing.T) fcResp {
				body := io.MultiReader(bytes.NewReader(fcPattern("x", limit+1))) // no length: sent chunked
				res, err := e.client.Do(e.request(t.Context(), t, http.MethodPut, fcPath(id.id), body, nil))
				if err != nil {
					t.Fatal(err)
				}
				return fcParse(t, res)
			}, http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge},
			{"empty body", func(t *testing.T) fcResp {
				return e.do(t, http.MethodPut, fcPath(id.id), []byte{}, nil)
			}, http.StatusBadRequest, server.CodeInvalidSize},
			{"3-byte body", func(t *testing.T) fcResp {
				return e.do(t, http.MethodPut, fcPath(id.id), []byte("abc"), nil)
			}, http.StatusBadRequest, server.CodeInvalidSize},
			{"body one byte over a bucket", func(t *testing.T) fcResp {
				return e.do(t, http.MethodPut, fcPath(id.id), fcPattern("y", domain.KiB+1), nil)
			}, http.StatusBadRequest, server.CodeInvalidSize},
			{"body over the largest size within the slack", func(t *testing.T) fcResp {
				return e.do(t, http.MethodPut, fcPath(id.id), fcPattern("z", limit), nil)
			}, http.StatusBadRequest, server.CodeInvalidSize},
			{"body cut short at an allowed size", func(t *testing.T) fcResp {
				return fcRaw(t, e, head(id.id, 4*domain.KiB), fcNewBody) // 1 KiB of 4
			}, http.StatusBadRequest, server.CodeBadRequest},
		} {
			t.Run(id.name+"/"+tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				fcRefused(t, tc.send(t), tc.status, tc.code)
				e.unchanged(t, before)
			})
		}
	}
}

// TestFailClosedStoreError: a store error is never taken for success: the
// request is refused (500 internal for a failure, 400 for a refused
// argument, 404 for an object gone meanwhile), nothing is served, and the
// failed operation changed nothing.
func TestFailClosedStoreError(t *testing.T) {
	e := newFCEnv(t, nil)
	invalid := fmt.Errorf("injected: %w", domain.ErrInvalidInput)
	for _, c := range e.calls(t) {
		var ops []string
		switch {
		case c.method == http.MethodGet:
			ops = []string{fcGetVersioned}
		case c.method == http.MethodDelete:
			ops = []string{fcGetVersioned, fcDelete}
		case c.hdr.Get("If-None-Match") != "":
			ops = []string{fcCAS}
		default:
			ops = []string{fcGetVersioned, fcCAS}
		}
		for _, op := range ops {
			for _, fe := range []struct {
				name   string
				err    error
				status int
				code   string
			}{
				{"fails", errFCStore, http.StatusInternalServerError, server.CodeInternal},
				{"refuses", invalid, http.StatusBadRequest, server.CodeBadRequest},
			} {
				t.Run(c.name+"/"+op+" "+fe.name, func(t *testing.T) {
					e.store.failOn(op, fe.err)
					defer e.store.setHook(nil)
					before := e.snapshot(t)
					r := e.call(t, c)
					fcRefused(t, r, fe.status, fe.code)
					e.unchanged(t, before)
				})
			}
		}
	}
	t.Run("DELETE/object gone before the delete", func(t *testing.T) {
		e.store.failOn(fcDelete, fmt.Errorf("injected: %w", domain.ErrNotFound))
		defer e.store.setHook(nil)
		before := e.snapshot(t)
		fcRefused(t, e.do(t, http.MethodDelete, fcPath(fcID), nil, nil), http.StatusNotFound, server.CodeObjectNotFound)
		e.unchanged(t, before)
	})
	t.Run("GET/stored object shorter than the enabler hash", func(t *testing.T) {
		short := domain.ObjectID{0xfc, 3}
		if err := e.store.Store.Put(t.Context(), short, fcBody[:server.EnablerHashSize-1]); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.store.Store.Delete(t.Context(), short) }()
		r := e.do(t, http.MethodGet, fcPath(short), nil, nil)
		fcRefused(t, r, http.StatusInternalServerError, server.CodeInternal)
	})
	t.Run("GET/store version that is no entity tag", func(t *testing.T) {
		e.store.mu.Lock()
		e.store.badVersion = true
		e.store.mu.Unlock()
		defer func() {
			e.store.mu.Lock()
			e.store.badVersion = false
			e.store.mu.Unlock()
		}()
		r := e.do(t, http.MethodGet, fcPath(fcID), nil, nil)
		fcRefused(t, r, http.StatusInternalServerError, server.CodeInternal)
	})
}

// TestFailClosedCancelled: a client gone while its request waits on the
// ledger or on the store (before the store applied anything) gets nothing
// done: the handler answers 503 (unavailable at the ledger, request_cancelled
// at the store) and the store is unchanged.
func TestFailClosedCancelled(t *testing.T) {
	e := newFCEnv(t, nil)
	// wait blocks until the request's context ends, or fails the test.
	wait := func(ctx context.Context, entered chan<- struct{}) error {
		entered <- struct{}{}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Second):
			return errors.New("the request's context did not end when its client went away")
		}
	}
	send := func(t *testing.T, c fcCall, entered <-chan struct{}) fcServed {
		t.Helper()
		for len(e.served) > 0 {
			<-e.served
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var r io.Reader
		if c.body != nil {
			r = bytes.NewReader(c.body)
		}
		req := e.request(ctx, t, c.method, fcPath(c.id), r, c.hdr)
		done := make(chan error, 1)
		go func() {
			res, err := e.client.Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		select {
		case <-entered:
		case err := <-done:
			t.Fatalf("answered before the fault: %v", err)
		}
		cancel()
		if err := <-done; err == nil {
			t.Error("the client got an answer")
		}
		select {
		case s := <-e.served:
			return s
		case <-time.After(30 * time.Second):
			t.Fatal("the handler did not return")
		}
		return fcServed{}
	}
	for _, c := range e.calls(t) {
		if c.method == http.MethodPut {
			continue // the server sees a client go only once the body is read, after the token
		}
		t.Run("at the ledger/"+c.name, func(t *testing.T) {
			entered := make(chan struct{}, 1)
			e.ledger.setFailure(func(ctx context.Context) error { return wait(ctx, entered) })
			defer e.ledger.setFailure(nil)
			before, ops := e.snapshot(t), e.store.ops.Load()
			s := send(t, c, entered)
			if s.status != http.StatusServiceUnavailable || fcCode(s.body) != server.CodeUnavailable {
				t.Errorf("handler answered %d %s, want 503 %s", s.status, s.body, server.CodeUnavailable)
			}
			fcNothingServed(t, s.status, s.body)
			e.unchanged(t, before)
			if n := e.store.ops.Load() - ops; n != 0 {
				t.Errorf("the store was used %d times", n)
			}
		})
	}
	for _, c := range e.calls(t) {
		var ops []string
		switch {
		case c.method == http.MethodGet:
			ops = []string{fcGetVersioned}
		case c.method == http.MethodDelete:
			ops = []string{fcGetVersioned, fcDelete}
		case c.hdr.Get("If-None-Match") != "":
			ops = []string{fcCAS}
		default:
			ops = []string{fcGetVersioned, fcCAS}
		}
		for _, op := range ops {
			t.Run("at the store/"+c.name+"/"+op, func(t *testing.T) {
				entered := make(chan struct{}, 1)
				e.store.setHook(func(ctx context.Context, o string, _ domain.ObjectID) error {
					if o == op {
						return wait(ctx, entered)
					}
					return nil
				})
				defer e.store.setHook(nil)
				before := e.snapshot(t)
				s := send(t, c, entered)
				if s.status != http.StatusServiceUnavailable || fcCode(s.body) != server.CodeRequestCancelled {
					t.Errorf("handler answered %d %s, want 503 %s", s.status, s.body, server.CodeRequestCancelled)
				}
				fcNothingServed(t, s.status, s.body)
				e.unchanged(t, before)
			})
		}
	}
}

// fcParseTokenRequest decodes an RFC 9578 TokenRequest.
func fcParseTokenRequest(t *testing.T, b []byte) *privacypass.TokenRequest {
	t.Helper()
	r, err := privacypass.ParseTokenRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFailClosedIssuance: POST /v1/token-requests issues tokens only with the
// bearer attestation secret, on a server configured to issue, for a
// well-formed request of a supported media type; otherwise nothing is issued.
func TestFailClosedIssuance(t *testing.T) {
	e := newFCEnv(t, nil)
	client, err := privacypass.NewClient(e.key.Type(), e.key.TokenKey())
	if err != nil {
		t.Fatal(err)
	}
	batch, _, err := client.BatchRequest(e.challenge, 4)
	if err != nil {
		t.Fatal(err)
	}
	single, _, err := client.Request(e.challenge)
	if err != nil {
		t.Fatal(err)
	}
	// An arbitrary batch of three single requests of the key.
	arbitrary, err := (&privacypass.ArbitraryBatchTokenRequest{TokenRequests: []privacypass.TokenRequest{
		*fcParseTokenRequest(t, single), *fcParseTokenRequest(t, single), *fcParseTokenRequest(t, single),
	}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// otherKey changes the truncated key id of a privately verifiable batch;
	// otherKeyArbitrary that of the last request of an arbitrary batch.
	otherKey := func(b []byte) []byte { b = bytes.Clone(b); b[2] ^= 0xff; return b }
	otherKeyArbitrary := func(b []byte) []byte {
		b = bytes.Clone(b)
		b[len(b)-len(single)+2] ^= 0xff
		return b
	}
	post := func(t *testing.T, url string, auth []string, ct string, body []byte) fcResp {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+server.TokenRequestsPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header["Authorization"] = auth
		req.Header.Set("Content-Type", ct)
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return fcParse(t, res)
	}
	issued := func(t *testing.T, m *server.Metrics) int {
		t.Helper()
		var b strings.Builder
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if n, ok := strings.CutPrefix(l, "aegisd_tokens_issued_total "); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
		t.Fatal("no aegisd_tokens_issued_total")
		return 0
	}
	bearer := []string{"Bearer " + fcSecret}
	for _, tc := range []struct {
		name   string
		auth   []string
		ct     string
		body   []byte
		status int
		code   string
	}{
		{"no Authorization", nil, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"wrong secret", []string{"Bearer not-" + fcSecret}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"secret prefix", []string{"Bearer " + fcSecret[:len(fcSecret)-1]}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"secret with a suffix", []string{"Bearer " + fcSecret + "x"}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"empty bearer", []string{"Bearer "}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"secret in another scheme", []string{"Basic " + fcSecret}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"a PrivateToken", []string{privacypass.FormatAuthorization(fcToken(t, e.tokens))}, privacypass.BatchRequestMediaType, batch, http.StatusUnauthorized, server.CodeAttestationRequired},
		{"wrong media type", bearer, "application/octet-stream", batch, http.StatusUnsupportedMediaType, server.CodeUnsupportedMedia},
		{"batch as a single request", bearer, privacypass.RequestMediaType, batch, http.StatusBadRequest, server.CodeBadRequest},
		{"truncated single request", bearer, privacypass.RequestMediaType, single[:len(single)-1], http.StatusBadRequest, server.CodeBadRequest},
		{"single as a batch request", bearer, privacypass.BatchRequestMediaType, single, http.StatusUnprocessableEntity, server.CodeUnprocessableBatch},
		{"truncated batch request", bearer, privacypass.BatchRequestMediaType, batch[:len(batch)-1], http.StatusUnprocessableEntity, server.CodeUnprocessableBatch},
		{"batch for an unknown key", bearer, privacypass.BatchRequestMediaType, otherKey(batch), http.StatusUnprocessableEntity, server.CodeUnprocessableBatch},
		{"batch as an arbitrary batch", bearer, privacypass.ArbitraryBatchRequestMediaType, batch, http.StatusUnprocessableEntity, server.CodeUnprocessableBatch},
		{"arbitrary batch for an unknown key", bearer, privacypass.ArbitraryBatchRequestMediaType, otherKeyArbitrary(arbitrary), http.StatusUnprocessableEntity, server.CodeUnprocessableBatch},
		// The largest request is an arbitrary batch of MaxBatch type 2 TokenRequests behind an 8-byte length.
		{"request over the limit", bearer, privacypass.ArbitraryBatchRequestMediaType, make([]byte, 8+privacypass.MaxBatch*(3+256)+1), http.StatusRequestEntityTooLarge, server.CodeBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := issued(t, e.metrics)
			r := post(t, e.url, tc.auth, tc.ct, tc.body)
			fcRefused(t, r, tc.status, tc.code)
			if n := issued(t, e.metrics) - before; n != 0 {
				t.Errorf("%d tokens issued", n)
			}
		})
	}
	t.Run("issuance not configured", func(t *testing.T) {
		for _, cfg := range []struct {
			name string
			edit func(*server.Config)
		}{
			{"no secret", func(c *server.Config) { c.AttestSecret = nil }},
			{"no issuer", func(c *server.Config) { c.Issuer = nil }},
		} {
			t.Run(cfg.name, func(t *testing.T) {
				d := newFCEnv(t, cfg.edit)
				for _, auth := range [][]string{bearer, {"Bearer "}, nil} {
					r := post(t, d.url, auth, privacypass.BatchRequestMediaType, batch)
					fcRefused(t, r, http.StatusForbidden, server.CodeIssuanceDisabled)
				}
				if n := issued(t, d.metrics); n != 0 {
					t.Errorf("%d tokens issued", n)
				}
			})
		}
	})
	t.Run("control", func(t *testing.T) {
		before := issued(t, e.metrics)
		for _, req := range []struct {
			ct   string
			body []byte
		}{{privacypass.BatchRequestMediaType, batch}, {privacypass.RequestMediaType, single}, {privacypass.ArbitraryBatchRequestMediaType, arbitrary}} {
			if r := post(t, e.url, bearer, req.ct, req.body); r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", req.ct, r.status, r.body)
			}
		}
		if n := issued(t, e.metrics) - before; n != 8 {
			t.Errorf("%d tokens issued, want 8", n)
		}
	})
	t.Run("media types in any case, with parameters", func(t *testing.T) {
		for _, ct := range []string{strings.ToUpper(privacypass.RequestMediaType), privacypass.RequestMediaType + "; charset=binary", " " + privacypass.RequestMediaType + " ;x=1"} {
			if r := post(t, e.url, bearer, ct, single); r.status != http.StatusOK {
				t.Errorf("Content-Type %q: %d %s", ct, r.status, r.body)
			}
		}
		for _, ct := range []string{privacypass.RequestMediaType + "x", privacypass.RequestMediaType + "; x", "application/private-token"} {
			before := issued(t, e.metrics)
			fcRefused(t, post(t, e.url, bearer, ct, single), http.StatusUnsupportedMediaType, server.CodeUnsupportedMedia)
			if n := issued(t, e.metrics) - before; n != 0 {
				t.Errorf("Content-Type %q: %d tokens issued", ct, n)
			}
		}
	})
}
