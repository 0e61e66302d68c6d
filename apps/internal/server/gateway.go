package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ai-pantheon/aegis/crypto/bhttp"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
)

// GatewayPath is the Oblivious HTTP gateway resource (RFC 9458), at the
// well-known location of RFC 9540 section 4: GET answers the key
// configurations (application/ohttp-keys), POST takes an Encapsulated Request
// (message/ohttp-req) and answers its Encapsulated Response (message/ohttp-res).
const GatewayPath = "/.well-known/ohttp-gateway"

// OHTTPKeyProblem is the RFC 9458 section 5.3 problem type of an encapsulated
// request whose key configuration the gateway does not accept.
const OHTTPKeyProblem = "https://iana.org/assignments/http-problem-types#ohttp-key"

// DefaultOHTTPReplayEntries is the default bound of the gateway's replay cache:
// the enc values remembered per gateway key (32 bytes each; with the map, about
// 12 MiB per key when full). Past the bound the oldest are forgotten.
const DefaultOHTTPReplayEntries = 1 << 17

// DefaultOHTTPKeysMaxAge is the default Cache-Control max-age of the key
// configurations.
const DefaultOHTTPKeysMaxAge = time.Hour

// ohttpSlack is added to the request body limit to bound an encapsulated
// request and an inner response: the Binary HTTP framing, control data and
// header fields, the encapsulation header, enc, response nonce and AEAD tag.
const ohttpSlack = 64 << 10

// encSize is Nenc of DHKEM(X25519, HKDF-SHA256), the one KEM of package ohttp;
// the replay cache keys on the enc that follows the 7-byte header.
const (
	encapHeaderSize = 7
	encSize         = 32
)

// innerKey marks the context of an inner request, one the gateway
// decapsulated: the limit middleware lets it through (its encapsulating
// request holds the slot) and the gateway refuses to nest.
type innerKey struct{}

func isInner(c echo.Context) bool { return c.Request().Context().Value(innerKey{}) != nil }

// gatewayKeys serves GET GatewayPath: the key configurations, preferred first.
func (s *Server) gatewayKeys(c echo.Context) error {
	cfgs := s.cfg.OHTTPKeys()
	if len(cfgs) == 0 {
		return NewError(http.StatusServiceUnavailable, CodeUnavailable, "the gateway holds no keys")
	}
	b, err := ohttp.MarshalKeyConfigs(cfgs...)
	if err != nil {
		return fmt.Errorf("ohttp key configurations: %w", err)
	}
	// The same for every client: caching it is fine, for less than a key's
	// lifetime (OHTTPKeysMaxAge).
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(s.cfg.OHTTPKeysMaxAge/time.Second)))
	return c.Blob(http.StatusOK, ohttp.KeysMediaType, b)
}

// gatewayRequest serves POST GatewayPath: it opens the Encapsulated Request,
// refuses a replay of it, runs the Binary HTTP request it carries through the
// server's own handler (token checks, limits and logging as for a direct
// request; never to another host) and answers its response, encapsulated.
// An encapsulated request that does not open is answered in the clear (4xx);
// once it opened, every answer (the inner request's errors included) is
// encapsulated.
func (s *Server) gatewayRequest(c echo.Context) error {
	setNoStore(c)
	if isInner(c) {
		return NewError(http.StatusBadRequest, CodeOHTTPNested, "an encapsulated request cannot be for the gateway itself")
	}
	ct, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || ct != ohttp.RequestMediaType {
		return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be "+ohttp.RequestMediaType)
	}
	enc, err := readBody(c.Request(), s.maxBody+ohttpSlack)
	if err != nil {
		return err
	}
	keyID, hasEnc := byte(0), len(enc) >= encapHeaderSize+encSize
	var encValue [encSize]byte
	if hasEnc {
		keyID = enc[0]
		copy(encValue[:], enc[encapHeaderSize:])
		if s.replay.seen(s.replayKey(keyID), encValue) {
			s.metrics.ohttpRefused("replayed")
			return NewError(http.StatusBadRequest, CodeOHTTPReplayed, "this encapsulated request was already received")
		}
	}
	inner, rc, err := s.cfg.OHTTP.DecapsulateRequest(enc)
	if err != nil {
		return s.decapsulateError(err)
	}
	if !hasEnc || !s.replay.add(s.replayKey(keyID), encValue, s.liveReplayKeys) {
		s.metrics.ohttpRefused("replayed")
		return NewError(http.StatusBadRequest, CodeOHTTPReplayed, "this encapsulated request was already received")
	}
	s.metrics.ohttpOpened()
	resp := s.serveInner(c.Request().Context(), inner)
	msg, err := resp.MarshalBinary()
	if err != nil {
		// A header the handler wrote that Binary HTTP cannot carry: answer
		// 500 rather than a response the client would refuse.
		msg, err = innerError(http.StatusInternalServerError, CodeInternal, "internal error").MarshalBinary()
		if err != nil {
			return fmt.Errorf("ohttp: encode an inner error: %w", err)
		}
	}
	out, err := rc.EncapsulateResponse(msg)
	if err != nil {
		return fmt.Errorf("ohttp: encapsulate the response: %w", err)
	}
	return c.Blob(http.StatusOK, ohttp.ResponseMediaType, out)
}

// decapsulateError maps an error of Gateway.DecapsulateRequest to its answer:
// key problems are RFC 9458 section 5.3's 400 with the ohttp-key problem type.
func (s *Server) decapsulateError(err error) error {
	var e *APIError
	switch {
	case errors.Is(err, ohttp.ErrUnknownKey):
		s.metrics.ohttpRefused("unknown_key")
		e = NewError(http.StatusBadRequest, CodeOHTTPUnknownKey, "the gateway holds no key of this key id: fetch its key configurations again")
	case errors.Is(err, ohttp.ErrUnsupported):
		s.metrics.ohttpRefused("unsupported")
		e = NewError(http.StatusBadRequest, CodeOHTTPUnsupported, "the gateway takes only DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM")
	case errors.Is(err, ohttp.ErrDecrypt):
		s.metrics.ohttpRefused("decrypt")
		e = NewError(http.StatusBadRequest, CodeOHTTPDecrypt, "the encapsulated request does not open with the gateway's key of its key id")
	default:
		s.metrics.ohttpRefused("malformed")
		return NewError(http.StatusBadRequest, CodeOHTTPMalformed, "the encapsulated request is malformed (RFC 9458 section 4.3)")
	}
	e.problem = OHTTPKeyProblem
	return e
}

// serveInner decodes the Binary HTTP request and runs it through the server's
// handler, in process, into a bounded recorder.
func (s *Server) serveInner(ctx context.Context, msg []byte) *bhttp.Response {
	m, err := bhttp.ParseRequest(msg)
	if err != nil {
		return innerError(http.StatusBadRequest, CodeMalformedMessage, "the encapsulated request is not a known-length Binary HTTP request (RFC 9292)")
	}
	req, err := innerRequest(context.WithValue(ctx, innerKey{}, true), m)
	if err != nil {
		return innerError(http.StatusBadRequest, CodeMalformedMessage, err.Error())
	}
	rec := &recorder{header: http.Header{}, limit: int(s.maxBody) + ohttpSlack}
	s.echo.ServeHTTP(rec, req)
	if rec.over {
		return innerError(http.StatusInternalServerError, CodeInternal, "the response is over the gateway's limit")
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	h := rec.header.Clone()
	for _, k := range hopByHop {
		h.Del(k)
	}
	return &bhttp.Response{Status: rec.status, Header: h, Body: rec.body.Bytes()}
}

// hopByHop are the fields that describe a connection, not a message: they
// are dropped from inner requests and responses (RFC 9110 section 7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host"}

// innerRequest builds the *http.Request of a decapsulated request. Its
// authority is informational: the request is served by this server whatever
// host it names. Only origin-form paths are served.
func innerRequest(ctx context.Context, m *bhttp.Request) (*http.Request, error) {
	if m.Path == "" || m.Path[0] != '/' {
		return nil, fmt.Errorf("the encapsulated request's path %q is not an origin-form path", m.Path)
	}
	u, err := url.ParseRequestURI(m.Path)
	if err != nil {
		return nil, fmt.Errorf("the encapsulated request's path does not parse")
	}
	h := m.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
	var body io.ReadCloser = http.NoBody
	if len(m.Body) > 0 {
		body = io.NopCloser(bytes.NewReader(m.Body))
	}
	r := &http.Request{
		Method: m.Method, URL: u, RequestURI: m.Path, Host: m.Authority,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: body, ContentLength: int64(len(m.Body)),
	}
	return r.WithContext(ctx), nil
}

// innerError is an encapsulated error answer in the server's JSON error form.
func innerError(status int, code, message string) *bhttp.Response {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	var buf bytes.Buffer
	_ = writeJSON(&buf, b)
	return &bhttp.Response{Status: status, Header: http.Header{
		echo.HeaderContentType:  {echo.MIMEApplicationJSON},
		echo.HeaderCacheControl: {"no-store"},
	}, Body: buf.Bytes()}
}

// recorder is the http.ResponseWriter of an inner request: it keeps the
// status, header and body, refusing a body over limit.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	limit  int
	over   bool
}

var errResponseTooLarge = errors.New("ohttp: inner response over the gateway's limit")

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len()+len(p) > r.limit {
		r.over = true
		return 0, errResponseTooLarge
	}
	return r.body.Write(p)
}

// replayKey names the gateway key of key id id in the replay cache: its
// public key, as the key configurations list it, so that a key id reused by a
// later key starts afresh.
func (s *Server) replayKey(id byte) string {
	for _, c := range s.cfg.OHTTPKeys() {
		if c.KeyID == id {
			return string([]byte{id}) + string(c.PublicKey)
		}
	}
	return string([]byte{id})
}

// liveReplayKeys reports which replay-cache keys belong to keys the gateway
// still lists; the others are dropped.
func (s *Server) liveReplayKeys() map[string]bool {
	live := map[string]bool{}
	for _, c := range s.cfg.OHTTPKeys() {
		live[string([]byte{c.KeyID})+string(c.PublicKey)] = true
	}
	return live
}

// replayCache remembers, per gateway key, the enc values of the encapsulated
// requests it opened: the last max of them (a ring), for as long as the key
// is listed. A replay of an older one falls to the inner request's own
// checks (every object request spends a single-use token).
type replayCache struct {
	mu   sync.Mutex
	max  int
	sets map[string]*replaySet
}

type replaySet struct {
	seen map[[encSize]byte]struct{}
	ring [][encSize]byte
	next int
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, sets: map[string]*replaySet{}}
}

// seen reports whether enc was recorded for key.
func (c *replayCache) seen(key string, enc [encSize]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sets[key]; s != nil {
		_, ok := s.seen[enc]
		return ok
	}
	return false
}

// add records enc for key and reports whether it was new. A new key's set
// drops the sets of keys live no longer lists.
func (c *replayCache) add(key string, enc [encSize]byte, live func() map[string]bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sets[key]
	if s == nil {
		l := live()
		for k := range c.sets {
			if !l[k] {
				delete(c.sets, k)
			}
		}
		s = &replaySet{seen: map[[encSize]byte]struct{}{}}
		c.sets[key] = s
	}
	if _, ok := s.seen[enc]; ok {
		return false
	}
	if len(s.ring) < c.max {
		s.ring = append(s.ring, enc)
	} else {
		delete(s.seen, s.ring[s.next])
		s.ring[s.next] = enc
		s.next = (s.next + 1) % c.max
	}
	s.seen[enc] = struct{}{}
	return true
}
