// Package bhttp encodes and decodes HTTP requests and responses in Binary HTTP
// (RFC 9292), the "message/bhttp" format that Oblivious HTTP (RFC 9458) carries
// inside its encapsulation. Only the known-length form is supported: framing
// indicator 0 for a request and 1 for a response.
//
// A Request or Response is encoded with MarshalBinary and decoded with
// ParseRequest or ParseResponse. Every length and the status code are QUIC
// variable-length integers (RFC 9000 section 16).
//
// # Decoding
//
// The decoder accepts what RFC 9292 lets an encoder vary and refuses
// everything else. Every error it returns wraps ErrMalformed and says what was
// wrong.
//
//   - Integers may use any of the four varint sizes, not only the shortest
//     (RFC 9292 section 3).
//   - The message may end before the length of the header section, of the
//     content or of the trailer section (RFC 9292 sections 3.1 and 3.8); the
//     missing parts are empty. A message that ends anywhere else is refused.
//   - Zero bytes may follow the trailer section as padding (RFC 9292 section
//     3.8); a non-zero byte there is refused. Since a zero byte reads as an
//     empty section, padding may also follow a truncated message.
//   - Informational (1xx) responses before the final response are checked
//     (status 100..199, valid header fields) and skipped: ParseResponse
//     returns the final response only. The final status must be 200..599.
//   - The indeterminate-length forms (framing indicators 2 and 3) are refused
//     with an error saying only the known-length form is supported; other
//     framing indicators, and a request's indicator given to ParseResponse or
//     the reverse, are refused too.
//
// Field names must be non-empty lowercase tokens (RFC 9110 section 5.1, RFC
// 9113 section 8.2.1); a name starting with ':' (a pseudo-header field) is
// refused. Field values must not hold control characters (0x00-0x1F except
// HTAB, and 0x7F), in particular NUL, CR and LF, and must not start or end
// with SP or HTAB (RFC 9110 section 5.5, RFC 9113 section 8.2.1). The method
// must be a token; the scheme must follow RFC 3986 section 3.1; the authority
// may be empty or hold only the characters of RFC 3986 host[:port] (no
// userinfo); the path must start with '/' and hold visible ASCII other than
// '#', or be "*" for OPTIONS. CONNECT requests (which have no path) are
// therefore not supported.
//
// Decoded names are canonicalised with http.CanonicalHeaderKey; the values of
// a name keep their order on the wire. Header is never nil; Trailer is nil,
// and Body is nil, when the message has none.
//
// # Limits
//
// A message longer than MaxMessageSize (64 MiB) is refused, as is a header or
// trailer section longer than MaxFieldSectionSize (1 MiB), a method, scheme,
// authority or path longer than MaxControlDataLength (16 KiB), and a response
// with more than MaxInformationalResponses informational responses. Every
// length is checked against the bytes left before anything is allocated for
// it, so no allocation is larger than the input.
//
// # Encoding
//
// MarshalBinary refuses what the decoder would refuse (its errors wrap
// ErrMalformed as well), so what it returns always parses back to an equal
// message. Field names are lowercased; field lines are written sorted by
// name, the values of a name in their order in the http.Header. A Response
// must have a final status (200..599): informational responses are never
// produced. No padding is added.
//
// A message with header fields, content or trailer fields carries all three
// parts, an empty one as a zero length. A message with none of them ends after
// its control data, which is how RFC 9458 Appendix A encodes its example
// request (a GET of https://example.com/, 00 03 "GET" 05 "https" 0b
// "example.com" 01 "/") and response (01 40c8, status 200).
package bhttp
