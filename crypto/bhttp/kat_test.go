package bhttp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// unhex decodes hex with spaces and newlines in it.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known answers of RFC 9458 Appendix A: the binary request (a GET of
// https://example.com/) and response (200) that the example encapsulates.
const (
	rfc9458Request  = "00034745540568747470730b6578616d706c652e636f6d012f"
	rfc9458Response = "0140c8"
)

// RFC 9292 section 5.1, "Known-Length Binary Encoding of Request".
const rfc9292Request = `
00034745 54056874 74707300 0a2f6865
6c6c6f2e 74787440 6c0a7573 65722d61
67656e74 34637572 6c2f372e 31362e33
206c6962 6375726c 2f372e31 362e3320
4f70656e 53534c2f 302e392e 376c207a
6c69622f 312e322e 3304686f 73740f77
77772e65 78616d70 6c652e63 6f6d0f61
63636570 742d6c61 6e677561 67650665
6e2c206d 690000`

// rfc9292RequestSorted is rfc9292Request as MarshalBinary writes it: the same
// bytes with the three field lines sorted by name (accept-language, host,
// user-agent).
const rfc9292RequestSorted = `
00 03 474554 05 6874747073 00 0a 2f68656c6c6f2e747874 406c
0f 6163636570742d6c616e6775616765 06 656e2c206d69
04 686f7374 0f 7777772e6578616d706c652e636f6d
0a 757365722d6167656e74 34 6375726c2f372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f312e322e33
00 00`

// RFC 9292 section 5.1, "Indeterminate-Length Binary Encoding of Request".
const rfc9292RequestIndeterminate = `
02034745 54056874 74707300 0a2f6865
6c6c6f2e 7478740a 75736572 2d616765
6e743463 75726c2f 372e3136 2e33206c
69626375 726c2f37 2e31362e 33204f70
656e5353 4c2f302e 392e376c 207a6c69
622f312e 322e3304 686f7374 0f777777
2e657861 6d706c65 2e636f6d 0f616363
6570742d 6c616e67 75616765 06656e2c
206d6900 00000000 00000000 00000000`

// RFC 9292 section 5.2, "Known-Length Encoding of Response".
const rfc9292Response = `
0140c800 1d546869 7320636f 6e74656e
7420636f 6e746169 6e732043 524c462e
0d0a0d07 74726169 6c657204 74657874`

// RFC 9292 section 5.2, "Binary Response including Interim Responses"
// (indeterminate length), first line.
const rfc9292ResponseIndeterminate = `03406607 72756e6e 696e670a 22736c65 65702031 35220040 67046c69`

func TestRFC9458AppendixA(t *testing.T) {
	req := &Request{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/"}
	got, err := req.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, rfc9458Request); !bytes.Equal(got, want) {
		t.Errorf("request: got %x, want %x", got, want)
	}
	parsed, err := ParseRequest(unhex(t, rfc9458Request))
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/", Header: http.Header{}}
	if !reflect.DeepEqual(parsed, want) {
		t.Errorf("parsed request %+v, want %+v", parsed, want)
	}

	resp := &Response{Status: 200}
	got, err = resp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, rfc9458Response); !bytes.Equal(got, want) {
		t.Errorf("response: got %x, want %x", got, want)
	}
	parsedResp, err := ParseResponse(unhex(t, rfc9458Response))
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Response{Status: 200, Header: http.Header{}}); !reflect.DeepEqual(parsedResp, want) {
		t.Errorf("parsed response %+v, want %+v", parsedResp, want)
	}

	// An empty Header, Trailer or Body encodes the same as a nil one.
	req.Header, req.Trailer, req.Body = http.Header{}, http.Header{"X-Empty": nil}, []byte{}
	if got, err := req.MarshalBinary(); err != nil || !bytes.Equal(got, unhex(t, rfc9458Request)) {
		t.Errorf("request with empty parts: got %x, %v", got, err)
	}
}

func TestRFC9292Request(t *testing.T) {
	want := &Request{
		Method: "GET", Scheme: "https", Path: "/hello.txt",
		Header: http.Header{
			"User-Agent":      {"curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"},
			"Host":            {"www.example.com"},
			"Accept-Language": {"en, mi"},
		},
	}
	full := unhex(t, rfc9292Request)
	// The RFC's message, cut by one and two bytes (empty trailers, then empty
	// content: section 5.1), padded with zeros, and in canonical order.
	for name, b := range map[string][]byte{
		"rfc":              full,
		"without trailers": full[:len(full)-1],
		"without content":  full[:len(full)-2],
		"padded":           append(append([]byte(nil), full...), make([]byte, 10)...),
		"sorted":           unhex(t, rfc9292RequestSorted),
	} {
		got, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// The encoder sorts the field lines, so it writes the RFC's bytes with
	// the lines reordered.
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if sorted := unhex(t, rfc9292RequestSorted); !bytes.Equal(enc, sorted) {
		t.Errorf("encoding: got %x, want %x", enc, sorted)
	}
	if len(enc) != len(full) {
		t.Errorf("encoding is %d bytes, the RFC's %d", len(enc), len(full))
	}

	_, err = ParseRequest(unhex(t, rfc9292RequestIndeterminate))
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "only known-length") {
		t.Errorf("indeterminate-length request: %v", err)
	}
}

func TestRFC9292Response(t *testing.T) {
	want := &Response{
		Status:  200,
		Header:  http.Header{},
		Body:    []byte("This content contains CRLF.\r\n"),
		Trailer: http.Header{"Trailer": {"text"}},
	}
	b := unhex(t, rfc9292Response)
	got, err := ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, b) {
		t.Errorf("encoding: got %x, want %x", enc, b)
	}

	_, err = ParseResponse(unhex(t, rfc9292ResponseIndeterminate))
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "only known-length") {
		t.Errorf("indeterminate-length response: %v", err)
	}
}

// TestRFC9292InterimResponses parses the response of RFC 9292 section 5.2
// with its 102 and 103 informational responses, in the known-length form
// (the RFC shows it in the indeterminate-length form only): they are
// skipped, and the final response is returned.
func TestRFC9292InterimResponses(t *testing.T) {
	content := "Hello World! My content includes a trailing CRLF.\r\n"
	b := []byte{framingResponse}
	b = appendVarint(b, 102)
	b = appendSection(b, "running", `"sleep 15"`)
	b = appendVarint(b, 103)
	b = appendSection(b, "link", "</style.css>; rel=preload; as=style", "link", "</script.js>; rel=preload; as=script")
	b = appendVarint(b, 200)
	b = appendSection(b,
		"date", "Mon, 27 Jul 2009 12:28:53 GMT",
		"server", "Apache",
		"last-modified", "Wed, 22 Jul 2009 19:15:56 GMT",
		"etag", `"34aa387-d-1568eb00"`,
		"accept-ranges", "bytes",
		"content-length", "51",
		"vary", "Accept-Encoding",
		"content-type", "text/plain")
	b = appendVarint(b, uint64(len(content)))
	b = append(b, content...)
	b = append(b, 0)

	got, err := ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Response{
		Status: 200,
		Header: http.Header{
			"Date":           {"Mon, 27 Jul 2009 12:28:53 GMT"},
			"Server":         {"Apache"},
			"Last-Modified":  {"Wed, 22 Jul 2009 19:15:56 GMT"},
			"Etag":           {`"34aa387-d-1568eb00"`},
			"Accept-Ranges":  {"bytes"},
			"Content-Length": {"51"},
			"Vary":           {"Accept-Encoding"},
			"Content-Type":   {"text/plain"},
		},
		Body: []byte(content),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// appendSection appends a known-length field section of the name, value
// pairs, written as given.
func appendSection(b []byte, kv ...string) []byte {
	var sec []byte
	for _, s := range kv {
		sec = appendVarint(sec, uint64(len(s)))
		sec = append(sec, s...)
	}
	b = appendVarint(b, uint64(len(sec)))
	return append(b, sec...)
}
