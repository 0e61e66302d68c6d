package bhttp

import (
	"errors"
	"net/http"
)

// MediaType is the media type of a Binary HTTP message, request or response
// (RFC 9292 section 6).
const MediaType = "message/bhttp"

// Limits of the decoder (and of the encoder, which refuses to produce what the
// decoder would refuse).
const (
	// MaxMessageSize is the largest message, padding included: 64 MiB. It
	// also bounds the content.
	MaxMessageSize = 64 << 20
	// MaxFieldSectionSize is the largest header or trailer section, the
	// encoded field lines without the section's length: 1 MiB.
	MaxFieldSectionSize = 1 << 20
	// MaxControlDataLength is the longest method, scheme, authority or path:
	// 16 KiB.
	MaxControlDataLength = 16 << 10
	// MaxInformationalResponses is the largest number of informational (1xx)
	// responses before the final response.
	MaxInformationalResponses = 16
)

// Framing indicators of the known-length forms (RFC 9292 section 3.3).
const (
	framingRequest  = 0
	framingResponse = 1
)

// ErrMalformed is wrapped by every error of ParseRequest and ParseResponse,
// and by every error of MarshalBinary (which refuses to encode a message the
// decoder would refuse).
var ErrMalformed = errors.New("bhttp: malformed message")

// Request is an HTTP request as Binary HTTP carries it.
type Request struct {
	Method    string      // e.g. "GET"; a token
	Scheme    string      // e.g. "https" or "http"
	Authority string      // host[:port]; may be empty
	Path      string      // path and query, e.g. "/v1/objects/ab12?x=1"; "*" only for OPTIONS
	Header    http.Header // header fields; names lowercased on the wire, canonicalised on decode
	Body      []byte      // content
	Trailer   http.Header // trailer fields, may be nil
}

// Response is a final HTTP response. Informational (1xx) responses are never
// encoded; on decode they are checked and skipped.
type Response struct {
	Status  int         // 200..599
	Header  http.Header // header fields; names lowercased on the wire, canonicalised on decode
	Body    []byte      // content
	Trailer http.Header // trailer fields, may be nil
}

// MarshalBinary encodes r as a known-length Binary HTTP request (framing
// indicator 0). It refuses, with an error wrapping ErrMalformed, a request
// the decoder would refuse: see the package documentation for the rules.
func (r *Request) MarshalBinary() ([]byte, error) {
	if r == nil {
		return nil, malformed("nil Request")
	}
	if err := checkRequestControl(r.Method, r.Scheme, r.Authority, r.Path); err != nil {
		return nil, malformed("%v", err)
	}
	header, trailer, err := encodeSections(r.Header, r.Trailer)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, s := range [...]string{r.Method, r.Scheme, r.Authority, r.Path} {
		n += varintLen(uint64(len(s))) + len(s)
	}
	if err := checkSize(n, header, r.Body, trailer); err != nil {
		return nil, err
	}
	b := make([]byte, 0, n+tailLen(header, r.Body, trailer))
	b = appendVarint(b, framingRequest)
	for _, s := range [...]string{r.Method, r.Scheme, r.Authority, r.Path} {
		b = appendVarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return appendTail(b, header, r.Body, trailer), nil
}

// ParseRequest decodes a known-length Binary HTTP request (framing indicator
// 0). Every error wraps ErrMalformed; see the package documentation for what
// is accepted.
func ParseRequest(b []byte) (*Request, error) {
	if len(b) > MaxMessageSize {
		return nil, malformed("message is %d bytes long, more than the limit of %d", len(b), MaxMessageSize)
	}
	r := reader{b: b}
	if err := r.framing(framingRequest); err != nil {
		return nil, err
	}
	var control [4]string
	for i, what := range [...]string{"method", "scheme", "authority", "path"} {
		v, err := r.prefixed(what, MaxControlDataLength)
		if err != nil {
			return nil, err
		}
		control[i] = string(v)
	}
	if err := checkRequestControl(control[0], control[1], control[2], control[3]); err != nil {
		return nil, malformed("%v", err)
	}
	header, body, trailer, err := r.tail()
	if err != nil {
		return nil, err
	}
	return &Request{
		Method: control[0], Scheme: control[1], Authority: control[2], Path: control[3],
		Header: header, Body: body, Trailer: trailer,
	}, nil
}

// MarshalBinary encodes r as a known-length Binary HTTP response (framing
// indicator 1). The status must be final (200..599); errors wrap
// ErrMalformed.
func (r *Response) MarshalBinary() ([]byte, error) {
	if r == nil {
		return nil, malformed("nil Response")
	}
	if r.Status < 200 || r.Status > 599 {
		return nil, malformed("status %d is not a final status (200..599); informational responses are not encoded", r.Status)
	}
	header, trailer, err := encodeSections(r.Header, r.Trailer)
	if err != nil {
		return nil, err
	}
	n := 1 + varintLen(uint64(r.Status))
	if err := checkSize(n, header, r.Body, trailer); err != nil {
		return nil, err
	}
	b := make([]byte, 0, n+tailLen(header, r.Body, trailer))
	b = appendVarint(b, framingResponse)
	b = appendVarint(b, uint64(r.Status))
	return appendTail(b, header, r.Body, trailer), nil
}

// ParseResponse decodes a known-length Binary HTTP response (framing
// indicator 1) and returns its final response; informational (1xx) responses
// before it are checked and skipped. Every error wraps ErrMalformed; see the
// package documentation for what is accepted.
func ParseResponse(b []byte) (*Response, error) {
	if len(b) > MaxMessageSize {
		return nil, malformed("message is %d bytes long, more than the limit of %d", len(b), MaxMessageSize)
	}
	r := reader{b: b}
	if err := r.framing(framingResponse); err != nil {
		return nil, err
	}
	var status uint64
	for informational := 0; ; informational++ {
		at := r.off
		s, err := r.varint("status code")
		if err != nil {
			return nil, err
		}
		if s < 100 || s > 599 {
			return nil, malformed("status code %d at byte %d is not in 100..599", s, at)
		}
		if s >= 200 {
			status = s
			break
		}
		if informational == MaxInformationalResponses {
			return nil, malformed("more than %d informational responses", MaxInformationalResponses)
		}
		if _, err := r.fieldSection("informational header"); err != nil {
			return nil, err
		}
	}
	header, body, trailer, err := r.tail()
	if err != nil {
		return nil, err
	}
	return &Response{Status: int(status), Header: header, Body: body, Trailer: trailer}, nil
}

// encodeSections encodes the header and trailer field lines.
func encodeSections(header, trailer http.Header) (h, t []byte, err error) {
	if h, err = encodeSection(header, "header"); err != nil {
		return nil, nil, err
	}
	if t, err = encodeSection(trailer, "trailer"); err != nil {
		return nil, nil, err
	}
	return h, t, nil
}

// checkSize refuses a message longer than MaxMessageSize: control data of n
// bytes (framing indicator included) and its tail.
func checkSize(n int, header, body, trailer []byte) error {
	if len(body) > MaxMessageSize {
		return malformed("content is %d bytes long, more than the limit of %d", len(body), MaxMessageSize)
	}
	if total := n + tailLen(header, body, trailer); total > MaxMessageSize {
		return malformed("message would be %d bytes long, more than the limit of %d", total, MaxMessageSize)
	}
	return nil
}
