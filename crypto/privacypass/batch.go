package privacypass

import (
	"encoding/binary"
	"fmt"
)

// The two batched issuance formats of draft-ietf-privacypass-batched-tokens.
//
// Privately verifiable (types 0x0001 and 0x0005, one key, one DLEQ proof for
// the whole batch), media types BatchRequestMediaType and
// BatchResponseMediaType:
//
//	BatchTokenRequest  = uint16 token_type || uint8 truncated_token_key_id || blinded_elements<V>
//	BatchTokenResponse = evaluated_elements<V> || evaluated_proof[2*Ns]
//
// Arbitrary (any type; this package uses it for type 0x0002), media types
// ArbitraryBatchRequestMediaType and ArbitraryBatchResponseMediaType:
//
//	BatchTokenRequest  = token_requests<V>    (each an RFC 9578 TokenRequest)
//	BatchTokenResponse = token_responses<V>   (each uint8 present || TokenResponse if present = 1,
//	                                           TokenResponse = uint16 token_type || the type's RFC 9578 TokenResponse)
//
// <V> is a QUIC variable-length integer (RFC 9000 section 16) giving the
// length in bytes of the vector that follows, in its shortest encoding.

// appendVarint appends v as a QUIC variable-length integer in its shortest
// encoding. v must be below 2^62 (every length here is far below).
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x8000_0000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc000_0000_0000_0000)
}

// readVarint decodes a QUIC variable-length integer at the start of b and
// returns it and its length. It refuses a truncated integer and one that is
// not in its shortest encoding (the draft requires the minimal encoding).
func readVarint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, malformed("vector length: no bytes")
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, malformed("vector length: %d-byte integer truncated to %d bytes", n, len(b))
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	if n > 1 && v < 1<<(8*n/2-2) {
		return 0, 0, malformed("vector length: %d in a %d-byte integer, not the shortest encoding", v, n)
	}
	return v, n, nil
}

// readVector decodes a <V> vector that must fill b exactly and returns its
// content.
func readVector(what string, b []byte) ([]byte, error) {
	v, n, err := readVarint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if uint64(len(b)-n) != v {
		return nil, malformed("%s: vector of %d bytes, %d bytes follow its length", what, v, len(b)-n)
	}
	return b[n:], nil
}

// BatchTokenRequest is the privately verifiable batched request of
// draft-ietf-privacypass-batched-tokens: blinded elements of one VOPRF type
// (0x0001 or 0x0005) for one issuer key.
type BatchTokenRequest struct {
	TokenType       TokenType
	TruncatedKeyID  uint8
	BlindedElements [][]byte // 1..MaxBatch elements of Ne bytes each
}

// MarshalBinary encodes the request. It fails for a type other than 0x0001
// and 0x0005, a count outside 1..MaxBatch and elements of a wrong size.
func (r *BatchTokenRequest) MarshalBinary() ([]byte, error) {
	s, err := batchSuite(r.TokenType)
	if err != nil {
		return nil, fmt.Errorf("batch token request: %w", err)
	}
	if len(r.BlindedElements) == 0 || len(r.BlindedElements) > MaxBatch {
		return nil, malformed("batch token request: %d elements, want 1 to %d", len(r.BlindedElements), MaxBatch)
	}
	size := s.ne * len(r.BlindedElements)
	b := make([]byte, 0, 3+4+size)
	b = binary.BigEndian.AppendUint16(b, uint16(r.TokenType))
	b = append(b, r.TruncatedKeyID)
	b = appendVarint(b, uint64(size))
	for i, e := range r.BlindedElements {
		if len(e) != s.ne {
			return nil, malformed("batch token request: blinded element %d of %d bytes, want %d", i, len(e), s.ne)
		}
		b = append(b, e...)
	}
	return b, nil
}

// ParseBatchTokenRequest decodes a privately verifiable BatchTokenRequest with
// its exact length: a type other than 0x0001 and 0x0005 wraps
// ErrUnsupportedType; a vector length that is not the shortest encoding, does
// not match the bytes that follow or is not a multiple of Ne, and a count
// outside 1..MaxBatch wrap ErrMalformed. The elements are not decoded here (the
// issuer decodes and checks every one before it evaluates any).
func ParseBatchTokenRequest(b []byte) (*BatchTokenRequest, error) {
	if len(b) < 3 {
		return nil, malformed("batch token request: %d bytes", len(b))
	}
	t := TokenType(binary.BigEndian.Uint16(b))
	s, err := batchSuite(t)
	if err != nil {
		return nil, fmt.Errorf("batch token request: %w", err)
	}
	body, err := readVector("batch token request: blinded_elements", b[3:])
	if err != nil {
		return nil, err
	}
	n, err := batchCount("batch token request: blinded_elements", len(body), s.ne)
	if err != nil {
		return nil, err
	}
	body = append([]byte(nil), body...)
	r := &BatchTokenRequest{TokenType: t, TruncatedKeyID: b[2], BlindedElements: make([][]byte, n)}
	for i := range n {
		r.BlindedElements[i] = body[i*s.ne : (i+1)*s.ne : (i+1)*s.ne]
	}
	return r, nil
}

// BatchTokenResponse is the privately verifiable batched response: the
// evaluated elements, in request order, and one DLEQ proof for all of them.
type BatchTokenResponse struct {
	// TokenType is the type of the request answered. It is not encoded; it
	// fixes Ne and Ns.
	TokenType         TokenType
	EvaluatedElements [][]byte // 1..MaxBatch elements of Ne bytes each
	Proof             []byte   // 2*Ns bytes
}

// MarshalBinary encodes the response.
func (r *BatchTokenResponse) MarshalBinary() ([]byte, error) {
	s, err := batchSuite(r.TokenType)
	if err != nil {
		return nil, fmt.Errorf("batch token response: %w", err)
	}
	if len(r.EvaluatedElements) == 0 || len(r.EvaluatedElements) > MaxBatch {
		return nil, malformed("batch token response: %d elements, want 1 to %d", len(r.EvaluatedElements), MaxBatch)
	}
	if len(r.Proof) != 2*s.ns {
		return nil, malformed("batch token response: proof of %d bytes, want %d", len(r.Proof), 2*s.ns)
	}
	size := s.ne * len(r.EvaluatedElements)
	b := make([]byte, 0, 4+size+len(r.Proof))
	b = appendVarint(b, uint64(size))
	for i, e := range r.EvaluatedElements {
		if len(e) != s.ne {
			return nil, malformed("batch token response: evaluated element %d of %d bytes, want %d", i, len(e), s.ne)
		}
		b = append(b, e...)
	}
	return append(b, r.Proof...), nil
}

// ParseBatchTokenResponse decodes a privately verifiable BatchTokenResponse to
// a request of type t (0x0001 or 0x0005) with its exact length. It checks the
// framing only: Client.FinalizeBatch decodes the elements and verifies the
// proof.
func ParseBatchTokenResponse(t TokenType, b []byte) (*BatchTokenResponse, error) {
	s, err := batchSuite(t)
	if err != nil {
		return nil, fmt.Errorf("batch token response: %w", err)
	}
	v, n, err := readVarint(b)
	if err != nil {
		return nil, fmt.Errorf("batch token response: evaluated_elements: %w", err)
	}
	if v > uint64(len(b)) || uint64(len(b)-n) != v+uint64(2*s.ns) {
		return nil, malformed("batch token response: %d bytes after a vector length of %d, want %d plus a proof of %d", len(b)-n, v, v, 2*s.ns)
	}
	count, err := batchCount("batch token response: evaluated_elements", int(v), s.ne)
	if err != nil {
		return nil, err
	}
	body := b[n : n+int(v)]
	r := &BatchTokenResponse{TokenType: t, EvaluatedElements: make([][]byte, count), Proof: b[n+int(v):]}
	for i := range count {
		r.EvaluatedElements[i] = body[i*s.ne : (i+1)*s.ne : (i+1)*s.ne]
	}
	return r, nil
}

// batchSuite returns the VOPRF of a type that has a privately verifiable
// batch.
func batchSuite(t TokenType) (*voprfSuite, error) {
	if s := voprfSuiteOf(t); s != nil {
		return s, nil
	}
	if t == TypeBlindRSA {
		return nil, fmt.Errorf("%w: %v has no privately verifiable batch (use the arbitrary batch)", ErrUnsupportedType, t)
	}
	return nil, unsupported(t)
}

// batchCount returns how many elements of size bytes a vector of length
// bytes holds, refusing a remainder and a count outside 1..MaxBatch.
func batchCount(what string, length, size int) (int, error) {
	if length%size != 0 {
		return 0, malformed("%s: %d bytes is not a multiple of %d", what, length, size)
	}
	n := length / size
	if n == 0 || n > MaxBatch {
		return 0, malformed("%s: %d elements, want 1 to %d", what, n, MaxBatch)
	}
	return n, nil
}

// ArbitraryBatchTokenRequest is the arbitrary batched request of
// draft-ietf-privacypass-batched-tokens: RFC 9578 TokenRequests of any
// supported type and key, in one message.
type ArbitraryBatchTokenRequest struct {
	TokenRequests []TokenRequest // 1..MaxBatch requests
}

// MarshalBinary encodes the request.
func (r *ArbitraryBatchTokenRequest) MarshalBinary() ([]byte, error) {
	if len(r.TokenRequests) == 0 || len(r.TokenRequests) > MaxBatch {
		return nil, malformed("arbitrary batch token request: %d requests, want 1 to %d", len(r.TokenRequests), MaxBatch)
	}
	var body []byte
	for i := range r.TokenRequests {
		enc, err := r.TokenRequests[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("arbitrary batch token request: request %d: %w", i, err)
		}
		body = append(body, enc...)
	}
	return append(appendVarint(make([]byte, 0, 4+len(body)), uint64(len(body))), body...), nil
}

// ParseArbitraryBatchTokenRequest decodes an arbitrary BatchTokenRequest with
// its exact length. Each TokenRequest's type fixes its length, so a type this
// package does not support wraps ErrUnsupportedType (the rest cannot be
// framed); a vector length that is not the shortest encoding or does not
// match, a truncated request and a count outside 1..MaxBatch wrap
// ErrMalformed.
func ParseArbitraryBatchTokenRequest(b []byte) (*ArbitraryBatchTokenRequest, error) {
	body, err := readVector("arbitrary batch token request: token_requests", b)
	if err != nil {
		return nil, err
	}
	body = append([]byte(nil), body...)
	r := &ArbitraryBatchTokenRequest{}
	for i := 0; len(body) > 0; i++ {
		if i == MaxBatch {
			return nil, malformed("arbitrary batch token request: more than %d requests", MaxBatch)
		}
		if len(body) < 3 {
			return nil, malformed("arbitrary batch token request: request %d truncated to %d bytes", i, len(body))
		}
		t := TokenType(binary.BigEndian.Uint16(body))
		size, _, err := sizes(t)
		if err != nil {
			return nil, fmt.Errorf("arbitrary batch token request: request %d: %w", i, err)
		}
		if len(body) < 3+size {
			return nil, malformed("arbitrary batch token request: request %d of %v truncated to %d bytes, want %d", i, t, len(body), 3+size)
		}
		r.TokenRequests = append(r.TokenRequests, TokenRequest{TokenType: t, TruncatedKeyID: body[2], BlindedMsg: body[3 : 3+size : 3+size]})
		body = body[3+size:]
	}
	if len(r.TokenRequests) == 0 {
		return nil, malformed("arbitrary batch token request: no requests")
	}
	return r, nil
}

// ArbitraryBatchTokenResponse is the arbitrary batched response: one optional
// RFC 9578 TokenResponse per request, in request order. An absent response
// (nil) means the issuer did not issue that token; this package's Issuer
// issues all of a batch or refuses it whole, but a client reads both.
type ArbitraryBatchTokenResponse struct {
	// TokenTypes are the types of the requests answered, in order. They are
	// not encoded; each fixes the length of its TokenResponse.
	TokenTypes     []TokenType
	TokenResponses [][]byte // nil: absent
}

// MarshalBinary encodes the response.
func (r *ArbitraryBatchTokenResponse) MarshalBinary() ([]byte, error) {
	if len(r.TokenResponses) != len(r.TokenTypes) || len(r.TokenResponses) == 0 || len(r.TokenResponses) > MaxBatch {
		return nil, malformed("arbitrary batch token response: %d responses for %d types, want 1 to %d", len(r.TokenResponses), len(r.TokenTypes), MaxBatch)
	}
	var body []byte
	for i, resp := range r.TokenResponses {
		if resp == nil {
			body = append(body, 0)
			continue
		}
		want, err := responseSize(r.TokenTypes[i])
		if err != nil {
			return nil, fmt.Errorf("arbitrary batch token response: response %d: %w", i, err)
		}
		if len(resp) != want {
			return nil, malformed("arbitrary batch token response: response %d of %d bytes, want %d for %v", i, len(resp), want, r.TokenTypes[i])
		}
		body = binary.BigEndian.AppendUint16(append(body, 1), uint16(r.TokenTypes[i]))
		body = append(body, resp...)
	}
	return append(appendVarint(make([]byte, 0, 4+len(body)), uint64(len(body))), body...), nil
}

// ParseArbitraryBatchTokenResponse decodes an arbitrary BatchTokenResponse to
// requests of the given types, in order, with its exact length: a presence
// octet other than 0 or 1, a count other than len(types), a truncated
// response and a vector length that is not the shortest encoding or does not
// match wrap ErrMalformed. Absent responses are nil in the result.
func ParseArbitraryBatchTokenResponse(types []TokenType, b []byte) (*ArbitraryBatchTokenResponse, error) {
	if len(types) == 0 || len(types) > MaxBatch {
		return nil, malformed("arbitrary batch token response: %d requests, want 1 to %d", len(types), MaxBatch)
	}
	body, err := readVector("arbitrary batch token response: token_responses", b)
	if err != nil {
		return nil, err
	}
	r := &ArbitraryBatchTokenResponse{TokenTypes: append([]TokenType(nil), types...), TokenResponses: make([][]byte, len(types))}
	for i, t := range types {
		if len(body) == 0 {
			return nil, malformed("arbitrary batch token response: %d responses for %d requests", i, len(types))
		}
		present := body[0]
		body = body[1:]
		switch present {
		case 0:
			continue
		case 1:
		default:
			return nil, malformed("arbitrary batch token response: response %d: presence octet %d, want 0 or 1", i, present)
		}
		size, err := responseSize(t)
		if err != nil {
			return nil, fmt.Errorf("arbitrary batch token response: response %d: %w", i, err)
		}
		if len(body) < 2 {
			return nil, malformed("arbitrary batch token response: response %d truncated before its token_type", i)
		}
		if got := TokenType(binary.BigEndian.Uint16(body)); got != t {
			return nil, malformed("arbitrary batch token response: response %d is of %v, its request of %v", i, got, t)
		}
		body = body[2:]
		if len(body) < size {
			return nil, malformed("arbitrary batch token response: response %d of %v truncated to %d bytes, want %d", i, t, len(body), size)
		}
		r.TokenResponses[i] = body[:size:size]
		body = body[size:]
	}
	if len(body) != 0 {
		return nil, malformed("arbitrary batch token response: %d bytes after %d responses", len(body), len(types))
	}
	return r, nil
}

// BatchMediaTypes returns the request and response media types of the batch
// format that Client.BatchRequest uses for type t: the privately verifiable
// batch for 0x0001 and 0x0005, the arbitrary batch for 0x0002.
func BatchMediaTypes(t TokenType) (request, response string, err error) {
	switch {
	case voprfSuiteOf(t) != nil:
		return BatchRequestMediaType, BatchResponseMediaType, nil
	case t == TypeBlindRSA:
		return ArbitraryBatchRequestMediaType, ArbitraryBatchResponseMediaType, nil
	}
	return "", "", unsupported(t)
}
