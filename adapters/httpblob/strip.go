package httpblob

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/domain"
)

// protocolHeaders are the request headers aegisd's API needs (canonical names).
var protocolHeaders = [...]string{
	"Authorization",             // the token
	"Content-Length",            // with a body
	"Content-Type",              // with a body
	"If-Match",                  // compare-and-swap of an existing object
	"If-None-Match",             // compare-and-swap that creates
	httpwire.WriteEnablerHeader, // writes
	"User-Agent",                // always the constant UserAgent
}

// ProtocolHeaders are the header names (canonical) that object requests need
// and that a view made by Stripped always keeps (Host is sent besides: it is
// not a header field of an http.Request). It is a copy: changing it changes
// nothing.
var ProtocolHeaders = slices.Clone(protocolHeaders[:])

var _ domain.MetadataStripper = (*Store)(nil)

// Stripped implements domain.MetadataStripper: a copy of s, sharing its token
// source and enablers, whose every object request leaves with the headers in
// ProtocolHeaders, User-Agent set to UserAgent, and the headers named in allow
// (in any case); every other header is deleted right before the request is
// handed to the transport, whoever added it: this package or the http.Client
// (the Cookie header of a cookie jar; the Referer of a followed redirect).
// Stripped(nil) keeps the protocol's headers only.
//
// The view sends through a copy of the store's http.Client (the caller's is
// not changed) whose Transport wraps the client's Transport (or
// http.DefaultTransport when it is nil). Headers a Transport adds inside its own
// RoundTrip cannot be seen by the wrapper: pass a plain *http.Transport, not a
// wrapper of one. A *http.Transport that would ask for compression (adding
// Accept-Encoding: gzip inside RoundTrip) is replaced, in the view only, by a
// clone with DisableCompression set, which keeps its own connections. Stripped
// does not change where requests go (a Transport's proxy) or whether redirects
// are followed.
//
// Guarded on a stripped view keeps the stripping, and Stripped on a guarded view
// keeps the enablers. Stripped on a stripped view replaces its allow-list. The
// token-issuance requests of NewTokenPool have their own client and fixed
// headers, and are not affected.
func (s *Store) Stripped(allow []string) domain.BlobStore {
	v := *s
	v.client = strippedClient(s.plain, allow)
	return &v
}

// strippedClient returns a copy of c whose Transport strips requests to the
// protocol's headers and those of allow.
func strippedClient(c *http.Client, allow []string) *http.Client {
	keep := make(map[string]bool, len(protocolHeaders)+len(allow))
	for _, h := range protocolHeaders {
		keep[h] = true
	}
	for _, h := range allow {
		keep[http.CanonicalHeaderKey(strings.TrimSpace(h))] = true
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if t, ok := base.(*http.Transport); ok && !t.DisableCompression {
		t = t.Clone()
		t.DisableCompression = true
		base = t
	}
	cc := *c
	cc.Transport = &stripTransport{base: base, keep: keep}
	return &cc
}

// stripTransport deletes from every request the headers not in keep, then
// hands it to base.
type stripTransport struct {
	base http.RoundTripper
	keep map[string]bool // canonical names
}

// RoundTrip implements http.RoundTripper. It sends a copy of req (a
// RoundTripper must not change its request) with the headers stripped and no
// trailers.
func (t *stripTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	for k := range r.Header {
		if !t.keep[http.CanonicalHeaderKey(k)] {
			delete(r.Header, k)
		}
	}
	// Without a User-Agent field net/http would send its own.
	r.Header.Set("User-Agent", UserAgent)
	r.Trailer = nil
	return t.base.RoundTrip(r)
}
