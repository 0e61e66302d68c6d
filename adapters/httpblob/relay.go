package httpblob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/crypto/bhttp"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/domain"
)

// Oblivious HTTP (RFC 9458). With a relay, every request of a Store and of a
// token pool leaves as an Encapsulated Request POSTed to the relay: the relay
// sees the client's address but only ciphertext, aegisd (the gateway) sees
// the request but only the relay's address. The request's own URL only names
// the target inside the encapsulation: its host is never dialled (nor
// resolved). NewRelayClient builds such an *http.Client after checking the
// gateway's key configuration; give it to Options.Client and
// PoolOptions.Client.

// Paths of the relay (aegis-relay) and of the gateway (aegisd).
const (
	// RelayKeysPath is where the relay passes on the gateway's key
	// configurations: GET <relay>/ohttp-keys.
	RelayKeysPath = "/ohttp-keys"
	// GatewayPath is aegisd's gateway resource (RFC 9540's well-known
	// location), asked for its key configurations inside an encapsulated
	// request when a new key must be confirmed.
	GatewayPath = "/.well-known/ohttp-gateway"
)

// maxRelayMessage bounds what RelayTransport reads: a request body and an
// encapsulated response (the largest object plus room for the Binary HTTP
// framing, header fields and the encapsulation).
const maxRelayMessage = domain.MaxObjectSize + 1<<20

// maxKeyConfigs bounds a key configuration collection.
const maxKeyConfigs = 64 << 10

// ErrGatewayKey means the gateway key configuration offered through the relay
// is not one this client accepts: none matches a pin, or none is trusted and
// none is vouched for by a trusted key. A relay that substitutes its own key,
// to read the requests, looks like this.
var ErrGatewayKey = errors.New("gateway key configuration not trusted")

// RelayError is an answer of the relay or gateway in the clear, not an
// encapsulated response: the relay's own refusal (its gateway unreachable,
// over its limits), or the gateway's refusal of an encapsulated request it
// could not open. Nobody authenticates it: a relay can forge one.
type RelayError struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the error code of a JSON error body ({"error":{"code":…}}), if
	// any.
	Code string
	// Problem is the RFC 9457 problem type, if the body is a problem (RFC
	// 9458's ohttp-key: the gateway does not take the key configuration).
	Problem string
}

// ohttpKeyProblem is RFC 9458 section 5.3's problem type.
const ohttpKeyProblem = "https://iana.org/assignments/http-problem-types#ohttp-key"

// Error implements error.
func (e *RelayError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "relay answered %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.KeyProblem() {
		b.WriteString(": the gateway does not take this key configuration (it rotated its keys, or the key is not its own)")
	}
	return b.String()
}

// KeyProblem reports whether the gateway refused the key configuration (RFC
// 9458 section 5.3).
func (e *RelayError) KeyProblem() bool { return e.Problem == ohttpKeyProblem }

// nothingDone reports whether the answer says that the request was not
// served: 429 or 503 with aegisd's code busy or unavailable, as for a direct
// request (nothingDone of a reply).
func (e *RelayError) nothingDone() bool {
	return (e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests) &&
		(e.Code == "busy" || e.Code == "unavailable")
}

func relayError(status int, body []byte) *RelayError {
	var p struct {
		Type  string `json:"type"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &p)
	return &RelayError{Status: status, Code: p.Error.Code, Problem: p.Type}
}

// RelayTransport is an http.RoundTripper that sends every request through an
// Oblivious HTTP relay: it reads the request whole (at most the largest
// object and 1 MiB), encodes it as a known-length Binary HTTP request (RFC
// 9292) with the scheme, authority and path of its URL, encapsulates it to
// the gateway's key configuration and POSTs it to the relay as
// message/ohttp-req. The relay's message/ohttp-res answer is decapsulated and
// decoded into the *http.Response. The request's host is never dialled.
//
// An answer of the relay that is not an encapsulated response is a
// *RelayError; one that does not open (not the gateway's, or altered) is an
// error too, never a response.
type RelayTransport struct {
	post   string // the relay URL requests are POSTed to
	cfg    *ohttp.KeyConfig
	client *ohttp.Client
	hc     *http.Client // reaches the relay
}

// CheckRelayURL checks a relay URL: http or https, a host, no user, query or
// fragment. Errors wrap domain.ErrInvalidInput.
func CheckRelayURL(relayURL string) error {
	_, err := relayBase(relayURL)
	return err
}

// relayBase checks a relay URL and returns it without a trailing slash.
func relayBase(relayURL string) (string, error) {
	u, err := url.Parse(relayURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("aegis/httpblob: relay %q is not an http(s) URL without user, query or fragment: %w", relayURL, domain.ErrInvalidInput)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// NewRelayTransport returns a transport that encapsulates to cfg and POSTs to
// relayURL (with a trailing slash: "/" if it has no path) through client (nil: NewHTTPClient()). It
// sends nothing. cfg is not checked against anything: NewRelayClient does
// that.
func NewRelayTransport(relayURL string, cfg *ohttp.KeyConfig, client *http.Client) (*RelayTransport, error) {
	base, err := relayBase(relayURL)
	if err != nil {
		return nil, err
	}
	c, err := ohttp.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay transport: %w", err)
	}
	if client == nil {
		client = NewHTTPClient()
	}
	return &RelayTransport{post: base + "/", cfg: cfg, client: c, hc: client}, nil
}

// KeyConfig returns the key configuration requests are encapsulated to.
func (t *RelayTransport) KeyConfig() *ohttp.KeyConfig { return t.cfg }

// hopByHop are connection fields, never encapsulated.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host"}

// RoundTrip implements http.RoundTripper.
func (t *RelayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxRelayMessage+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("aegis/httpblob: relay: reading the request body: %w", err)
		}
		if len(b) > maxRelayMessage {
			return nil, fmt.Errorf("aegis/httpblob: relay: request body over %d bytes: %w", maxRelayMessage, domain.ErrInvalidInput)
		}
		body = b
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	authority := req.Host
	if authority == "" {
		authority = req.URL.Host
	}
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
	msg, err := (&bhttp.Request{Method: method, Scheme: req.URL.Scheme, Authority: authority, Path: req.URL.RequestURI(), Header: h, Body: body}).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: %w", err)
	}
	enc, cc, err := t.client.EncapsulateRequest(msg)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: %w", err)
	}
	out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, t.post, bytes.NewReader(enc))
	if err != nil {
		return nil, err
	}
	out.Header.Set("Content-Type", ohttp.RequestMediaType)
	out.Header.Set("User-Agent", UserAgent)
	res, err := t.hc.Do(out)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxRelayMessage+1))
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: reading the answer: %w", err)
	}
	if len(b) > maxRelayMessage {
		return nil, fmt.Errorf("aegis/httpblob: relay: answer over %d bytes", maxRelayMessage)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("aegis/httpblob: relay: %w", relayError(res.StatusCode, b))
	}
	if ct, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || ct != ohttp.ResponseMediaType {
		return nil, fmt.Errorf("aegis/httpblob: relay: answer of type %q, not an encapsulated response (%s)", res.Header.Get("Content-Type"), ohttp.ResponseMediaType)
	}
	plain, err := cc.DecapsulateResponse(b)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: the answer does not open (not the gateway's response, or altered): %w", err)
	}
	m, err := bhttp.ParseResponse(plain)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: the gateway's response: %w", err)
	}
	if m.Header == nil {
		m.Header = http.Header{}
	}
	if m.Status == http.StatusNoContent || m.Status == http.StatusNotModified || method == http.MethodHead {
		m.Body = nil // as net/http reads such a response: without content
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", m.Status, http.StatusText(m.Status)),
		StatusCode: m.Status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        m.Header,
		Trailer:       m.Trailer,
		Body:          io.NopCloser(bytes.NewReader(m.Body)),
		ContentLength: int64(len(m.Body)),
		Request:       req,
	}, nil
}

// NewRelayHTTPClient returns the client of a transport: no redirects
// followed, bounded time, as NewHTTPClient.
func NewRelayHTTPClient(t *RelayTransport) *http.Client {
	return &http.Client{
		Transport: t,
		Timeout:   2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// KeyTrust records, per gateway, the key configurations a client trusts
// (trust on first use). The encodings are RFC 9458 section 3.1 key
// configurations.
type KeyTrust interface {
	// TrustedKeys returns the configurations recorded for gateway (none: the
	// first use).
	TrustedKeys(gateway string) ([][]byte, error)
	// TrustKeys replaces those recorded for gateway with configs.
	TrustKeys(gateway string, configs [][]byte) error
}

// MaxTrustedKeys bounds the key configurations recorded per gateway: the
// newest are kept.
const MaxTrustedKeys = 16

// RelayOptions configure NewRelayClient.
type RelayOptions struct {
	// Client reaches the relay; nil means NewHTTPClient().
	Client *http.Client
	// Pins are SHA-256 digests of key configurations (their RFC 9458
	// encoding, as aegisd logs them at start). If any is given, a
	// configuration with one of these digests is used and nothing else is
	// trusted; Trust is not consulted.
	Pins [][sha256.Size]byte
	// Trust records trusted configurations per gateway. Required without
	// Pins.
	Trust KeyTrust
	// OnTrust, if set, is told of configurations Trust now records: on first
	// use (first true) or confirmed through a trusted one (a rotation).
	OnTrust func(gateway string, added []*ohttp.KeyConfig, first bool)
}

// FetchKeyConfigs asks the relay for the gateway's key configurations (GET
// <relay>/ohttp-keys) and returns those this client can use (DHKEM X25519,
// HKDF-SHA256, AES-128-GCM) in the gateway's order of preference. Nothing
// authenticates them: check them (NewRelayClient does).
func FetchKeyConfigs(ctx context.Context, relayURL string, client *http.Client) ([]*ohttp.KeyConfig, error) {
	base, err := relayBase(relayURL)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = NewHTTPClient()
	}
	r, err := send(ctx, client, http.MethodGet, base+RelayKeysPath, nil, nil, maxKeyConfigs)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay key configurations: %w", err)
	}
	return usableConfigs("relay key configurations", r)
}

// usableConfigs reads a 200 application/ohttp-keys reply.
func usableConfigs(what string, r *reply) ([]*ohttp.KeyConfig, error) {
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("aegis/httpblob: %s: %w", what, relayError(r.status, r.body))
	}
	if ct, _, err := mime.ParseMediaType(r.header.Get("Content-Type")); err != nil || ct != ohttp.KeysMediaType {
		return nil, fmt.Errorf("aegis/httpblob: %s: answer of type %q, want %s", what, r.header.Get("Content-Type"), ohttp.KeysMediaType)
	}
	all, err := ohttp.ParseKeyConfigs(r.body)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: %s: %w", what, err)
	}
	var out []*ohttp.KeyConfig
	for _, c := range all {
		if _, err := ohttp.NewClient(c); err == nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("aegis/httpblob: %s: none of the %d configurations is for DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM", what, len(all))
	}
	return out, nil
}

func encoding(c *ohttp.KeyConfig) string {
	b, _ := c.MarshalBinary() // usable configurations encode
	return string(b)
}

func describe(c *ohttp.KeyConfig) string {
	return fmt.Sprintf("id %d sha256:%x", c.KeyID, sha256.Sum256([]byte(encoding(c))))
}

// NewRelayClient returns an *http.Client whose every request goes through
// the relay at relayURL, encapsulated to a checked key configuration of the
// gateway at target (aegisd's base URL: it names the trust record and the
// target of the requests, and is never dialled).
//
// The configurations are fetched through the relay (FetchKeyConfigs), so the
// relay could substitute its own. They are checked:
//   - with opts.Pins, one must have a pinned digest;
//   - otherwise against opts.Trust: on first use every offered configuration
//     is recorded (trust on first use). Later, one the record holds must be
//     offered. A configuration offered that the record does not hold (the
//     gateway rotated its key) is trusted only if the gateway vouches for it:
//     the client asks it for its key configurations (GET GatewayPath) in a
//     request encapsulated to a trusted one, which only the gateway can
//     answer. An offered configuration the gateway does not list fails with
//     ErrGatewayKey, as does an offer without any trusted configuration (the
//     client was away longer than the gateway keeps keys, or the relay
//     substitutes a key).
//
// The configuration used is the first offered (the gateway's preferred) that
// passed.
func NewRelayClient(ctx context.Context, relayURL, target string, opts *RelayOptions) (*http.Client, error) {
	if opts == nil {
		opts = &RelayOptions{}
	}
	gateway, err := checkBase(target)
	if err != nil {
		return nil, err
	}
	if len(opts.Pins) == 0 && opts.Trust == nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: pins or a trust record are required to check the gateway's key: %w", domain.ErrInvalidInput)
	}
	hc := opts.Client
	if hc == nil {
		hc = NewHTTPClient()
	}
	offered, err := FetchKeyConfigs(ctx, relayURL, hc)
	if err != nil {
		return nil, err
	}
	var use *ohttp.KeyConfig
	if len(opts.Pins) > 0 {
		use, err = pinned(offered, opts.Pins)
	} else {
		use, err = trusted(ctx, relayURL, gateway, hc, offered, opts)
	}
	if err != nil {
		return nil, err
	}
	t, err := NewRelayTransport(relayURL, use, hc)
	if err != nil {
		return nil, err
	}
	return NewRelayHTTPClient(t), nil
}

func pinned(offered []*ohttp.KeyConfig, pins [][sha256.Size]byte) (*ohttp.KeyConfig, error) {
	var seen []string
	for _, c := range offered {
		if slices.Contains(pins, sha256.Sum256([]byte(encoding(c)))) {
			return c, nil
		}
		seen = append(seen, describe(c))
	}
	return nil, fmt.Errorf("aegis/httpblob: relay: no key configuration offered matches a pinned SHA-256 (offered: %s): the relay may be substituting its own key, or the gateway rotated its keys (pin the new one, as aegisd logs it): %w",
		strings.Join(seen, ", "), ErrGatewayKey)
}

func trusted(ctx context.Context, relayURL, gateway string, hc *http.Client, offered []*ohttp.KeyConfig, opts *RelayOptions) (*ohttp.KeyConfig, error) {
	rec, err := opts.Trust.TrustedKeys(gateway)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: trusted keys: %w", err)
	}
	if len(rec) == 0 {
		var encs [][]byte
		for _, c := range offered {
			encs = append(encs, []byte(encoding(c)))
		}
		if err := opts.Trust.TrustKeys(gateway, encs); err != nil {
			return nil, fmt.Errorf("aegis/httpblob: relay: recording the gateway's keys: %w", err)
		}
		if opts.OnTrust != nil {
			opts.OnTrust(gateway, offered, true)
		}
		return offered[0], nil
	}
	known := map[string]bool{}
	for _, e := range rec {
		known[string(e)] = true
	}
	var voucher *ohttp.KeyConfig
	var fresh []*ohttp.KeyConfig
	for _, c := range offered {
		if known[encoding(c)] {
			if voucher == nil {
				voucher = c
			}
		} else {
			fresh = append(fresh, c)
		}
	}
	if voucher == nil {
		var seen []string
		for _, c := range offered {
			seen = append(seen, describe(c))
		}
		return nil, fmt.Errorf("aegis/httpblob: relay: none of the gateway key configurations offered through the relay (%s) is one trusted for %s, and no trusted one can vouch for them: "+
			"the relay may be substituting its own key, or the gateway replaced all the keys this client knew (it was not used for longer than the gateway keeps a key): %w",
			strings.Join(seen, ", "), gateway, ErrGatewayKey)
	}
	if len(fresh) == 0 {
		return offered[0], nil
	}
	// Ask the gateway, through a trusted key, which keys are its own.
	t, err := NewRelayTransport(relayURL, voucher, hc)
	if err != nil {
		return nil, err
	}
	r, err := send(ctx, NewRelayHTTPClient(t), http.MethodGet, gateway+GatewayPath, nil, nil, maxKeyConfigs)
	if err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: asking the gateway, through trusted key %s, to confirm its new keys: %w", describe(voucher), err)
	}
	listed, err := usableConfigs("the gateway's key configurations (through a trusted key)", r)
	if err != nil {
		return nil, err
	}
	vouched := map[string]bool{}
	for _, c := range listed {
		vouched[encoding(c)] = true
	}
	for _, c := range fresh {
		if !vouched[encoding(c)] {
			return nil, fmt.Errorf("aegis/httpblob: relay: the relay offers key configuration %s, which the gateway, asked through trusted key %s, does not list: the relay may be substituting its own key: %w",
				describe(c), describe(voucher), ErrGatewayKey)
		}
		rec = append(rec, []byte(encoding(c)))
	}
	if len(rec) > MaxTrustedKeys {
		rec = rec[len(rec)-MaxTrustedKeys:]
	}
	if err := opts.Trust.TrustKeys(gateway, rec); err != nil {
		return nil, fmt.Errorf("aegis/httpblob: relay: recording the gateway's new keys: %w", err)
	}
	if opts.OnTrust != nil {
		opts.OnTrust(gateway, fresh, false)
	}
	return offered[0], nil
}
