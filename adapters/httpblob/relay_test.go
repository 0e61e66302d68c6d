package httpblob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/bhttp"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/domain"
)

// unresolvable names the target inside encapsulated requests: a host that
// cannot be resolved, so a request that dialled it would fail.
const unresolvable = "http://aegisd.invalid:8080"

// testGateway is a relay and gateway in one: GET /ohttp-keys lists the
// offered configurations, POST / opens an encapsulated request with the
// gateway's keys, serves it with inner (GET /.well-known/ohttp-gateway: the
// gateway's own keys) and encapsulates the answer. It records what crossed
// the relay leg and the inner requests.
type testGateway struct {
	mu      sync.Mutex
	keys    []*ohttp.GatewayKey // the gateway's own, listed inside
	offered []*ohttp.KeyConfig  // what the relay passes on (nil: the gateway's)
	gw      *ohttp.Gateway
	inner   http.Handler
	// answer, if set, replaces the gateway's answer to POST /.
	answer func(w http.ResponseWriter)
	posts  [][]byte        // encapsulated requests, as the relay saw them
	seen   []*http.Request // the inner requests
	srv    *httptest.Server
}

func newTestGateway(t *testing.T, inner http.Handler, ids ...uint8) *testGateway {
	t.Helper()
	g := &testGateway{inner: inner, gw: ohttp.NewGateway()}
	for _, id := range ids {
		g.addKey(t, id)
	}
	g.srv = httptest.NewServer(g)
	t.Cleanup(g.srv.Close)
	return g
}

// addKey gives the gateway a key, listed first (preferred).
func (g *testGateway) addKey(t *testing.T, id uint8) *ohttp.GatewayKey {
	t.Helper()
	k, err := ohttp.GenerateGatewayKey(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys = append([]*ohttp.GatewayKey{k}, g.keys...)
	g.gw.SetKeys(g.keys...)
	return k
}

func (g *testGateway) own() []*ohttp.KeyConfig {
	var out []*ohttp.KeyConfig
	for _, k := range g.keys {
		out = append(out, k.Config())
	}
	return out
}

func (g *testGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == RelayKeysPath:
		cfgs := g.offered
		if cfgs == nil {
			cfgs = g.own()
		}
		b, _ := ohttp.MarshalKeyConfigs(cfgs...)
		w.Header().Set("Content-Type", ohttp.KeysMediaType)
		_, _ = w.Write(b)
	case r.Method == http.MethodPost && r.URL.Path == "/":
		body, _ := io.ReadAll(r.Body)
		g.posts = append(g.posts, body)
		if r.Header.Get("Content-Type") != ohttp.RequestMediaType {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		if g.answer != nil {
			g.answer(w)
			return
		}
		msg, rc, err := g.gw.DecapsulateRequest(body)
		if err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"type":"`+ohttpKeyProblem+`","error":{"code":"ohttp_unknown_key"}}`)
			return
		}
		m, err := bhttp.ParseRequest(msg)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		u, _ := url.ParseRequestURI(m.Path)
		in := httptest.NewRequest(m.Method, m.Path, bytes.NewReader(m.Body))
		in.URL, in.Host, in.Header = u, m.Authority, m.Header
		g.seen = append(g.seen, in)
		rec := httptest.NewRecorder()
		if m.Path == GatewayPath {
			b, _ := ohttp.MarshalKeyConfigs(g.own()...)
			rec.Header().Set("Content-Type", ohttp.KeysMediaType)
			_, _ = rec.Write(b)
		} else {
			g.mu.Unlock()
			g.inner.ServeHTTP(rec, in)
			g.mu.Lock()
		}
		out, err := (&bhttp.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}).MarshalBinary()
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		enc, err := rc.EncapsulateResponse(out)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ohttp.ResponseMediaType)
		_, _ = w.Write(enc)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (g *testGateway) relayed() ([][]byte, []*http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([][]byte(nil), g.posts...), append([]*http.Request(nil), g.seen...)
}

// memTrust is a KeyTrust in memory.
type memTrust struct {
	mu   sync.Mutex
	keys map[string][][]byte
}

func (m *memTrust) TrustedKeys(gw string) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys[gw], nil
}

func (m *memTrust) TrustKeys(gw string, cfgs [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string][][]byte{}
	}
	m.keys[gw] = cfgs
	return nil
}

func relayStore(t *testing.T, g *testGateway, trust KeyTrust) (*Store, *countingTokens) {
	t.Helper()
	hc, err := NewRelayClient(context.Background(), g.srv.URL, unresolvable, &RelayOptions{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	toks := &countingTokens{}
	s, err := Open(unresolvable, &Options{Tokens: toks, Client: hc, Backoff: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, toks
}

func TestRelayTransportCarriesEveryRequestEncapsulated(t *testing.T) {
	f := &fake{}
	f.setAnswers(created(`"v0"`), object(`"v1"`, "hello, relay"))
	g := newTestGateway(t, f, 7)
	s, _ := relayStore(t, g, &memTrust{})
	ctx := context.Background()
	id := domain.ObjectID{1, 2, 3}
	w := s.Guarded(testEnabler)
	if err := w.Put(ctx, id, []byte("secret plaintext")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id)
	if err != nil || string(got) != "hello, relay" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	posts, inner := g.relayed()
	if len(inner) != 2 {
		t.Fatalf("%d inner requests, want 2", len(inner))
	}
	// Inside: the target's authority and path, the token and the body.
	if inner[0].Method != http.MethodPut || inner[0].URL.Path != objectPath(id) || inner[0].Host != "aegisd.invalid:8080" {
		t.Errorf("inner request %s %s (host %s)", inner[0].Method, inner[0].URL, inner[0].Host)
	}
	if tok := f.toks(); len(tok) != 2 || tok[0] != "token-1" {
		t.Errorf("tokens seen inside: %q", tok)
	}
	if inner[0].Header.Get("User-Agent") != UserAgent {
		t.Errorf("inner User-Agent %q", inner[0].Header.Get("User-Agent"))
	}
	// On the relay leg: ciphertext only.
	for i, p := range posts {
		for _, clear := range []string{id.String(), "token-1", "token-2", "secret plaintext", "PrivateToken", "aegisd.invalid"} {
			if bytes.Contains(p, []byte(clear)) {
				t.Errorf("relay leg %d carries %q in the clear", i, clear)
			}
		}
		if p[0] != 7 {
			t.Errorf("relay leg %d: key id %d, want 7", i, p[0])
		}
	}
}

func TestRelayAnswersInTheClear(t *testing.T) {
	ctx := context.Background()
	id := domain.ObjectID{9}
	t.Run("a key problem is a RelayError, not resent", func(t *testing.T) {
		g := newTestGateway(t, &fake{}, 1)
		s, _ := relayStore(t, g, &memTrust{})
		g.mu.Lock()
		g.gw.SetKeys() // the gateway dropped its key
		g.mu.Unlock()
		_, err := s.Get(ctx, id)
		var re *RelayError
		if !errors.As(err, &re) || !re.KeyProblem() || re.Status != http.StatusBadRequest {
			t.Fatalf("Get = %v, want a key-problem RelayError", err)
		}
		if posts, _ := g.relayed(); len(posts) != 1 {
			t.Errorf("%d tries, want 1", len(posts))
		}
	})
	t.Run("busy is resent, even for a compare-and-swap", func(t *testing.T) {
		f := &fake{}
		f.setAnswers(created(`"v2"`))
		g := newTestGateway(t, f, 1)
		s, _ := relayStore(t, g, &memTrust{})
		g.mu.Lock()
		// The first try is answered busy in the clear; later ones get through.
		g.answer = func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":{"code":"busy","message":"m"}}`)
			g.answer = nil // ServeHTTP holds g.mu
		}
		g.mu.Unlock()
		v, err := s.Guarded(testEnabler).CompareAndSwap(ctx, id, "", []byte("x"))
		if err != nil || v != "v2" {
			t.Fatalf("CompareAndSwap = %q, %v", v, err)
		}
		if posts, _ := g.relayed(); len(posts) != 2 {
			t.Errorf("%d tries, want 2", len(posts))
		}
	})
	t.Run("a write's relay failure is an unknown outcome", func(t *testing.T) {
		g := newTestGateway(t, &fake{}, 1)
		s, _ := relayStore(t, g, &memTrust{})
		g.mu.Lock()
		g.answer = func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }
		g.mu.Unlock()
		_, err := s.Guarded(testEnabler).CompareAndSwap(ctx, id, "", []byte("x"))
		if !errors.Is(err, domain.ErrOutcomeUnknown) {
			t.Fatalf("CompareAndSwap = %v, want ErrOutcomeUnknown", err)
		}
	})
	for _, c := range []struct {
		name   string
		answer func(http.ResponseWriter)
		want   string
	}{
		{"garbage of another type", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "<html>hello</html>") }, "not an encapsulated response"},
		{"garbage that does not open", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", ohttp.ResponseMediaType)
			_, _ = w.Write(bytes.Repeat([]byte{0xAA}, 80))
		}, "does not open"},
	} {
		t.Run("a gateway that answers "+c.name, func(t *testing.T) {
			g := newTestGateway(t, &fake{}, 1)
			s, _ := relayStore(t, g, &memTrust{})
			g.mu.Lock()
			g.answer = c.answer
			g.mu.Unlock()
			_, err := s.Get(ctx, id)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Get = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	t.Run("an unreachable relay: nothing sent", func(t *testing.T) {
		k, err := ohttp.GenerateGatewayKey(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		rt, err := NewRelayTransport("http://127.0.0.1:1", k.Config(), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(unresolvable, &Options{Tokens: &countingTokens{}, Client: NewRelayHTTPClient(rt), Backoff: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Guarded(testEnabler).CompareAndSwap(ctx, id, "", []byte("x"))
		if err == nil || errors.Is(err, domain.ErrOutcomeUnknown) {
			t.Fatalf("CompareAndSwap = %v, want a plain failure (no connection was made)", err)
		}
	})
}

func TestRelayKeyTrust(t *testing.T) {
	ctx := context.Background()
	dial := func(g *testGateway, trust KeyTrust, onTrust func(string, []*ohttp.KeyConfig, bool)) (uint8, error) {
		t.Helper()
		hc, err := NewRelayClient(ctx, g.srv.URL, unresolvable, &RelayOptions{Trust: trust, OnTrust: onTrust})
		if err != nil {
			return 0, err
		}
		return hc.Transport.(*RelayTransport).KeyConfig().KeyID, nil
	}
	t.Run("trust on first use, then a rotation the old key vouches for", func(t *testing.T) {
		g := newTestGateway(t, &fake{}, 1)
		trust := &memTrust{}
		var firsts, rotations int
		on := func(gw string, added []*ohttp.KeyConfig, first bool) {
			if gw != unresolvable {
				t.Errorf("trust recorded for %q", gw)
			}
			if first {
				firsts++
			} else {
				rotations++
			}
		}
		if id, err := dial(g, trust, on); err != nil || id != 1 {
			t.Fatalf("first use: key %d, %v", id, err)
		}
		if id, err := dial(g, trust, on); err != nil || id != 1 {
			t.Fatalf("second use: key %d, %v", id, err)
		}
		g.addKey(t, 2)
		if id, err := dial(g, trust, on); err != nil || id != 2 {
			t.Fatalf("after the rotation: key %d, %v", id, err)
		}
		if firsts != 1 || rotations != 1 || len(trust.keys[unresolvable]) != 2 {
			t.Errorf("first uses %d, rotations %d, recorded %d", firsts, rotations, len(trust.keys[unresolvable]))
		}
		// The old key retired: the new one is trusted on its own now.
		g.mu.Lock()
		g.keys = g.keys[:1]
		g.gw.SetKeys(g.keys...)
		g.mu.Unlock()
		if id, err := dial(g, trust, on); err != nil || id != 2 {
			t.Fatalf("after the old key's retirement: key %d, %v", id, err)
		}
	})
	t.Run("a relay that substitutes its own key is refused", func(t *testing.T) {
		g := newTestGateway(t, &fake{}, 1)
		trust := &memTrust{}
		if _, err := dial(g, trust, nil); err != nil {
			t.Fatal(err)
		}
		mine, err := ohttp.GenerateGatewayKey(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		g.mu.Lock()
		g.offered = []*ohttp.KeyConfig{mine.Config()}
		g.mu.Unlock()
		if _, err := dial(g, trust, nil); !errors.Is(err, ErrGatewayKey) {
			t.Fatalf("own key only: %v, want ErrGatewayKey", err)
		}
		// Offered beside the trusted one, the gateway does not vouch for it.
		g.mu.Lock()
		g.offered = []*ohttp.KeyConfig{mine.Config(), g.keys[0].Config()}
		g.mu.Unlock()
		if _, err := dial(g, trust, nil); !errors.Is(err, ErrGatewayKey) || !strings.Contains(err.Error(), "does not list") {
			t.Fatalf("own key beside the trusted one: %v, want ErrGatewayKey", err)
		}
		if n := len(trust.keys[unresolvable]); n != 1 {
			t.Errorf("%d keys recorded, want 1", n)
		}
	})
	t.Run("pins", func(t *testing.T) {
		g := newTestGateway(t, &fake{}, 4)
		enc, _ := g.keys[0].Config().MarshalBinary()
		hc, err := NewRelayClient(ctx, g.srv.URL, unresolvable, &RelayOptions{Pins: [][sha256.Size]byte{sha256.Sum256(enc)}})
		if err != nil || hc.Transport.(*RelayTransport).KeyConfig().KeyID != 4 {
			t.Fatalf("pinned: %v", err)
		}
		_, err = NewRelayClient(ctx, g.srv.URL, unresolvable, &RelayOptions{Pins: [][sha256.Size]byte{sha256.Sum256([]byte("other"))}})
		if !errors.Is(err, ErrGatewayKey) {
			t.Fatalf("another pin: %v, want ErrGatewayKey", err)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, u := range []string{"ftp://relay", "http://", "http://u@relay", "http://relay/?q=1"} {
			if err := CheckRelayURL(u); !errors.Is(err, domain.ErrInvalidInput) {
				t.Errorf("CheckRelayURL(%q) = %v", u, err)
			}
		}
		if _, err := NewRelayClient(ctx, "http://127.0.0.1:1", unresolvable, &RelayOptions{}); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("no pins, no trust: %v", err)
		}
	})
}

func TestTokenPoolThroughRelay(t *testing.T) {
	// The challenge is fetched encapsulated: the 401 and its
	// WWW-Authenticate header come back through the relay.
	g := newTestGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
	}), 3)
	hc, err := NewRelayClient(context.Background(), g.srv.URL, unresolvable, &RelayOptions{Trust: &memTrust{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewTokenPool(context.Background(), unresolvable, []byte("secret"), &PoolOptions{Client: hc})
	if err == nil || !strings.Contains(err.Error(), "no PrivateToken challenge") {
		t.Fatalf("NewTokenPool = %v, want the challenge's refusal", err)
	}
	if _, inner := g.relayed(); len(inner) != 1 || inner[0].URL.Path != objectPath(domain.ObjectID{}) {
		t.Fatalf("inner requests %v", inner)
	}
}
