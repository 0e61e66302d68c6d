package bhttp

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// control returns a known-length request's framing indicator and control
// data, with the given method, scheme, authority and path.
func control(method, scheme, authority, path string) []byte {
	b := []byte{framingRequest}
	for _, s := range []string{method, scheme, authority, path} {
		b = appendVarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// base is the control data of a GET of https://example.com/.
func base() []byte { return control("GET", "https", "example.com", "/") }

// cat concatenates byte slices and strings.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		case int:
			b = append(b, byte(p))
		case rune:
			b = append(b, byte(p))
		default:
			panic(p)
		}
	}
	return b
}

// section returns a known-length field section of the name, value pairs.
func section(kv ...string) []byte { return appendSection(nil, kv...) }

func TestParseRequestRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "before the framing indicator"},
		{"response framing", []byte{1, 0x40, 0xc8}, "known-length response, not a request"},
		{"indeterminate request", cat(2, base()[1:]), "indeterminate-length message; only known-length"},
		{"indeterminate response", []byte{3, 0x40, 0xc8}, "indeterminate-length message; only known-length"},
		{"framing 4", []byte{4}, "unknown framing indicator 4"},
		{"framing 2-byte 64", []byte{0x40, 0x40}, "unknown framing indicator 64"},
		{"cut varint", []byte{0, 0x40}, "2-byte integer cut to 1 bytes"},
		{"cut 8-byte varint", []byte{0xc0, 0, 0}, "8-byte integer cut to 3 bytes"},
		{"method past end", cat(0, 5, "GET"), "method at byte 1 is 5 bytes long, only 3 bytes are left"},
		{"no scheme", cat(0, 3, "GET"), "before the scheme length"},
		{"no path", cat(0, 3, "GET", 5, "https", 0), "before the path length"},
		{"long path", cat(0, 3, "GET", 5, "https", 0, 0x80, 0, 0x40, 1), "path at byte 12 is 16385 bytes long, more than the limit of 16384"},
		{"empty method", control("", "https", "", "/"), "empty method"},
		{"method not a token", control("GE T", "https", "", "/"), `method "GE T" is not a token`},
		{"empty scheme", control("GET", "", "", "/"), "empty scheme"},
		{"scheme with digit first", control("GET", "1ttp", "", "/"), "not an RFC 3986 scheme"},
		{"scheme with colon", control("GET", "https:", "", "/"), "not an RFC 3986 scheme"},
		{"authority userinfo", control("GET", "https", "user@example.com", "/"), "has userinfo"},
		{"authority space", control("GET", "https", "example .com", "/"), "authority \"example .com\" has byte 0x20"},
		{"authority slash", control("GET", "https", "example.com/x", "/"), "has byte 0x2f"},
		{"empty path", control("GET", "https", "", ""), "does not start with '/'"},
		{"relative path", control("GET", "https", "", "index.html"), "does not start with '/'"},
		{"absolute URI path", control("GET", "https", "", "https://example.com/"), "does not start with '/'"},
		{"asterisk for GET", control("GET", "https", "", "*"), `path "*" is only for OPTIONS`},
		{"path with space", control("GET", "https", "", "/a b"), "has byte 0x20"},
		{"path with fragment", control("GET", "https", "", "/a#b"), "has byte 0x23"},
		{"path with DEL", control("GET", "https", "", "/a\x7f"), "has byte 0x7f"},
		{"path with non-ASCII", control("GET", "https", "", "/\xc3\xa9"), "has byte 0xc3"},
		{"path with CR", control("GET", "https", "", "/\r\n"), "has byte 0x0d"},
		{"header section past end", cat(base(), 5, 1), "header section at byte 25 is 5 bytes long, only 1 bytes are left"},
		{"header section over limit", cat(base(), 0x80, 0x10, 0, 1), "header section at byte 25 is 1048577 bytes long, more than the limit of 1048576"},
		{"header section 2^62-1", cat(base(), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "is 4611686018427387903 bytes long"},
		{"empty field name", cat(base(), 2, 0, 0), "header field 1: empty field name"},
		{"uppercase field name", cat(base(), section("Host", "x")), `field name "Host" is not lowercase`},
		{"pseudo-header :path", cat(base(), section(":path", "/")), `pseudo-header field ":path" is not allowed`},
		{"pseudo-header :x", cat(base(), section("ok", "1", ":x", "1")), "header field 2: pseudo-header field"},
		{"field name with space", cat(base(), section("a b", "x")), `field name "a b" is not a token: byte 1 is 0x20`},
		{"field name with colon", cat(base(), section("a:b", "x")), "is not a token"},
		{"field name non-ASCII", cat(base(), section("caf\xc3\xa9", "x")), "byte 3 is 0xc3"},
		{"field name past section", cat(base(), 2, 5, 'a'), "header field 1 name at byte 26 is 5 bytes long, only 1 bytes are left"},
		{"no field value", cat(base(), 2, 1, 'a'), "before the header field 1 value length"},
		{"field value past section", cat(base(), 4, 1, 'a', 9, 'x'), "header field 1 value at byte 28 is 9 bytes long, only 1 bytes are left"},
		{"value NUL", cat(base(), section("a", "x\x00y")), "control character 0x00 at byte 1"},
		{"value CR", cat(base(), section("a", "x\ry")), "control character 0x0d"},
		{"value LF", cat(base(), section("a", "x\ny")), "control character 0x0a"},
		{"value CRLF injection", cat(base(), section("a", "x\r\nevil: 1")), "control character 0x0d"},
		{"value SOH", cat(base(), section("a", "\x01")), "control character 0x01"},
		{"value DEL", cat(base(), section("a", "x\x7f")), "control character 0x7f"},
		{"value leading space", cat(base(), section("a", " x")), "starts or ends with whitespace"},
		{"value trailing tab", cat(base(), section("a", "x\t")), "starts or ends with whitespace"},
		{"content past end", cat(base(), 0, 5, "ab"), "content at byte 26 is 5 bytes long, only 2 bytes are left"},
		{"content 2^62-1", cat(base(), 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "more than the limit of 67108864"},
		{"trailer past end", cat(base(), 0, 0, 3, 1), "trailer section at byte 27 is 3 bytes long, only 1 bytes are left"},
		{"trailer uppercase", cat(base(), 0, 0, section("X", "1")), `trailer field 1: field name "X" is not lowercase`},
		{"trailer pseudo", cat(base(), 0, 0, section(":status", "200")), "pseudo-header field"},
		{"non-zero padding", cat(base(), 0, 0, 0, 0, 0, 1), "byte 30 after the trailer section is 0x01; only zero padding"},
		{"trailing garbage", cat(base(), 0, 2, "hi", section("a", "b"), "x"), "is 0x78; only zero padding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRequest(c.b)
			if err == nil {
				t.Fatalf("ParseRequest(%x) = %+v, want an error", c.b, r)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ParseRequest(%x) = %v, want ErrMalformed with %q", c.b, err, c.want)
			}
		})
	}
}

func TestParseResponseRefuses(t *testing.T) {
	informational := bytes.Repeat([]byte{0x40, 0x66, 0}, MaxInformationalResponses+1)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "before the framing indicator"},
		{"request framing", base(), "known-length request, not a response"},
		{"indeterminate", []byte{3, 0x40, 0xc8, 0, 0, 0}, "only known-length"},
		{"no status", []byte{1}, "before the status code"},
		{"cut status", []byte{1, 0x40}, "status code at byte 1: 2-byte integer cut to 1 bytes"},
		{"status 0", []byte{1, 0}, "status code 0 at byte 1 is not in 100..599"},
		{"status 99", []byte{1, 0x40, 99}, "status code 99"},
		{"status 600", []byte{1, 0x42, 0x58}, "status code 600"},
		{"status 2^62-1", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "status code 4611686018427387903"},
		{"informational only", []byte{1, 0x40, 0x66, 0}, "before the status code"},
		{"informational without section", []byte{1, 0x40, 0x66}, "before the informational header section length"},
		{"informational bad field", cat(1, 0x40, 0x66, section("Link", "x"), 0x40, 0xc8), `informational header field 1: field name "Link" is not lowercase`},
		{"informational bad status after", cat(1, 0x40, 0x66, 0, 0x42, 0x58), "status code 600 at byte 4"},
		{"too many informational", cat(1, informational, 0x40, 0xc8), "more than 16 informational responses"},
		{"header bad value", cat(1, 0x40, 0xc8, section("a", "\n")), "header field 1 (a): field value \"\\n\" has control character 0x0a"},
		{"content past end", cat(1, 0x40, 0xc8, 0, 9), "content at byte 4 is 9 bytes long, only 0 bytes are left"},
		{"non-zero padding", cat(1, 0x40, 0xc8, 0, 0, 0, 0, 0, 0xff), "is 0xff; only zero padding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseResponse(c.b)
			if err == nil {
				t.Fatalf("ParseResponse(%x) = %+v, want an error", c.b, r)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ParseResponse(%x) = %v, want ErrMalformed with %q", c.b, err, c.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	b := make([]byte, MaxMessageSize+1)
	b[0] = framingResponse
	if _, err := ParseResponse(b); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "67108865 bytes long, more than the limit") {
		t.Errorf("ParseResponse of %d bytes: %v", len(b), err)
	}
	b[0] = framingRequest
	if _, err := ParseRequest(b); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "67108865 bytes long, more than the limit") {
		t.Errorf("ParseRequest of %d bytes: %v", len(b), err)
	}
}

// TestParseAllocatesNothingForClaimedLengths: a message that claims 60 MiB of
// content, or a 1 MiB header section, in a few bytes is refused before
// anything that size is allocated.
func TestParseAllocatesNothingForClaimedLengths(t *testing.T) {
	claims := [][]byte{
		cat(base(), 0, 0x83, 0xc0, 0, 0, "abc"),
		cat(base(), 0x80, 0x10, 0, 0, "abc"),
		cat(1, 0x40, 0x66, 0x80, 0x10, 0, 0, "abc"),
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		for _, b := range claims {
			if _, err := ParseRequest(b); err == nil {
				t.Fatal("accepted")
			}
			if _, err := ParseResponse(b); err == nil {
				t.Fatal("accepted")
			}
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("parsing %d short messages allocated %d bytes", 10*len(claims), n)
	}
}

func TestParseAccepts(t *testing.T) {
	plain := &Request{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/", Header: http.Header{}}
	withBody := &Request{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/", Header: http.Header{}, Body: []byte("hi")}
	for _, c := range []struct {
		name string
		b    []byte
		want *Request
	}{
		// RFC 9292 section 3.8: the message may end before each length, and
		// zero padding reads as empty parts.
		{"cut after control data", base(), plain},
		{"cut after header section", cat(base(), 0), plain},
		{"cut after content", cat(base(), 0, 0), plain},
		{"complete", cat(base(), 0, 0, 0), plain},
		{"padded", cat(base(), 0, 0, 0, make([]byte, 100)), plain},
		{"body, cut after content", cat(base(), 0, 2, "hi"), withBody},
		{"body, padded", cat(base(), 0, 2, "hi", 0, 0, 0), withBody},
		// RFC 9292 section 3: integers need not use the shortest encoding.
		{"2-byte framing indicator", cat(0x40, 0, base()[1:]), plain},
		{"8-byte framing indicator", cat(0xc0, 0, 0, 0, 0, 0, 0, 0, base()[1:]), plain},
		{"long lengths", cat(0, 0x40, 3, "GET", 0x80, 0, 0, 5, "https", 0x40, 11, "example.com", 0xc0, 0, 0, 0, 0, 0, 0, 1, "/", 0x40, 0, 0x80, 0, 0, 2, "hi", 0x40, 0), withBody},
		{"OPTIONS *", control("OPTIONS", "https", "example.com", "*"),
			&Request{Method: "OPTIONS", Scheme: "https", Authority: "example.com", Path: "*", Header: http.Header{}}},
		{"IPv6 authority, other scheme, extension method", control("PROPFIND", "coap+tcp", "[::1]:8443", "/a/b?c=d&e=%20"),
			&Request{Method: "PROPFIND", Scheme: "coap+tcp", Authority: "[::1]:8443", Path: "/a/b?c=d&e=%20", Header: http.Header{}}},
		{"fields", cat(base(), section("cookie", "a=1", "x-custom_thing", "v", "cookie", "b=2", "empty", "", "obs", "caf\xc3\xa9", "tab", "a\tb"), 0, section("checksum", "abc")),
			&Request{
				Method: "GET", Scheme: "https", Authority: "example.com", Path: "/",
				Header: http.Header{
					"Cookie":         {"a=1", "b=2"},
					"X-Custom_thing": {"v"},
					"Empty":          {""},
					"Obs":            {"caf\xc3\xa9"},
					"Tab":            {"a\tb"},
				},
				Trailer: http.Header{"Checksum": {"abc"}},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseRequest(c.b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}

	// Responses: non-minimal status, padding, 16 informational responses.
	ok := &Response{Status: 200, Header: http.Header{}}
	for name, b := range map[string][]byte{
		"4-byte status":    {1, 0x80, 0, 0, 0xc8},
		"8-byte status":    {1, 0xc0, 0, 0, 0, 0, 0, 0, 0xc8},
		"padded":           {1, 0x40, 0xc8, 0, 0, 0, 0, 0},
		"16 informational": cat(1, bytes.Repeat([]byte{0x40, 0x64, 0}, MaxInformationalResponses), 0x40, 0xc8),
		"informational with fields": cat(1, 0x40, 0x67, section("link", "</a.css>; rel=preload", "link", "</b.js>"),
			0x40, 0x64, 0, 0x40, 0xc8),
	} {
		got, err := ParseResponse(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !reflect.DeepEqual(got, ok) {
			t.Errorf("%s: got %+v, want %+v", name, got, ok)
		}
	}
}

func TestMarshalDeterministic(t *testing.T) {
	r := &Request{
		Method: "POST", Scheme: "https", Authority: "aegis.example:8443", Path: "/v1/objects/ab12?x=1",
		Header:  http.Header{"Zeta": {"2", "1"}, "alpha": {"a"}, "Content-Type": {"application/octet-stream"}},
		Body:    []byte{0, 1, 2},
		Trailer: http.Header{"X-Sum": {"s"}},
	}
	want := cat(control("POST", "https", "aegis.example:8443", "/v1/objects/ab12?x=1"),
		section("alpha", "a", "content-type", "application/octet-stream", "zeta", "2", "zeta", "1"),
		3, 0, 1, 2,
		section("x-sum", "s"))
	for range 50 {
		got, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
	back, err := ParseRequest(want)
	if err != nil {
		t.Fatal(err)
	}
	r.Header = http.Header{"Zeta": {"2", "1"}, "Alpha": {"a"}, "Content-Type": {"application/octet-stream"}}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("parsed %+v, want %+v", back, r)
	}

	// Two keys that lowercase alike: both written, ordered by key, and
	// merged on decode.
	r = &Request{Method: "GET", Scheme: "https", Path: "/", Header: http.Header{"x-a": {"2"}, "X-A": {"1"}}}
	got, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := cat(control("GET", "https", "", "/"), section("x-a", "1", "x-a", "2"), 0, 0); !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}

	// A response with content only: all three parts present.
	resp := &Response{Status: 404, Body: []byte("no")}
	got, err = resp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := cat(1, 0x41, 0x94, 0, 2, "no", 0); !bytes.Equal(got, want) {
		t.Errorf("404: got %x, want %x", got, want)
	}
	// Header only: content and trailers as zero lengths.
	resp = &Response{Status: 599, Header: http.Header{"Retry-After": {"5"}}}
	got, err = resp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := cat(1, 0x42, 0x57, section("retry-after", "5"), 0, 0); !bytes.Equal(got, want) {
		t.Errorf("599: got %x, want %x", got, want)
	}
}

func TestMarshalRefuses(t *testing.T) {
	ok := func() *Request {
		return &Request{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/"}
	}
	for _, c := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"empty method", func(r *Request) { r.Method = "" }, "empty method"},
		{"method with space", func(r *Request) { r.Method = "G T" }, "not a token"},
		{"empty scheme", func(r *Request) { r.Scheme = "" }, "empty scheme"},
		{"authority userinfo", func(r *Request) { r.Authority = "a:b@example.com" }, "userinfo"},
		{"path relative", func(r *Request) { r.Path = "x" }, "does not start with '/'"},
		{"path CRLF", func(r *Request) { r.Path = "/\r\nHost: evil" }, "has byte 0x0d"},
		{"asterisk GET", func(r *Request) { r.Path = "*" }, "only for OPTIONS"},
		{"long authority", func(r *Request) { r.Authority = strings.Repeat("a", MaxControlDataLength+1) }, "authority is 16385 bytes long"},
		{"header name with space", func(r *Request) { r.Header = http.Header{"Bad Name": {"x"}} }, `header: field name "bad name" is not a token`},
		{"header empty name", func(r *Request) { r.Header = http.Header{"": {"x"}} }, "empty field name"},
		{"header pseudo", func(r *Request) { r.Header = http.Header{":path": {"/"}} }, "pseudo-header field"},
		{"header Kelvin sign", func(r *Request) { r.Header = http.Header{"\u212a": {"x"}} }, "not a token"},
		{"header value CRLF", func(r *Request) { r.Header = http.Header{"A": {"ok", "x\r\nB: y"}} }, "header field a: field value"},
		{"header value leading space", func(r *Request) { r.Header = http.Header{"A": {" x"}} }, "starts or ends with whitespace"},
		{"trailer value NUL", func(r *Request) { r.Trailer = http.Header{"A": {"\x00"}} }, "trailer field a: field value"},
		{"header section too large", func(r *Request) {
			r.Header = http.Header{"A": {strings.Repeat("x", MaxFieldSectionSize)}}
		}, "header section is more than the limit of 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ok()
			c.edit(r)
			b, err := r.MarshalBinary()
			if err == nil {
				t.Fatalf("MarshalBinary() = %x, want an error", b)
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("MarshalBinary() = %v, want ErrMalformed with %q", err, c.want)
			}
		})
	}

	for _, status := range []int{-1, 0, 100, 103, 199, 600, 1 << 40} {
		b, err := (&Response{Status: status}).MarshalBinary()
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "not a final status") {
			t.Errorf("status %d: %x, %v", status, b, err)
		}
	}
	if _, err := (&Response{Status: 200, Trailer: http.Header{"Bad\tName": {"x"}}}).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Errorf("response with bad trailer name: %v", err)
	}
	if _, err := (*Request)(nil).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil Request: %v", err)
	}
	if _, err := (*Response)(nil).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil Response: %v", err)
	}
	big := &Response{Status: 200, Body: make([]byte, MaxMessageSize-5)}
	if _, err := big.MarshalBinary(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "message would be 67108868 bytes long") {
		t.Errorf("response over MaxMessageSize: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	reqs := []*Request{
		{Method: "GET", Scheme: "https", Authority: "example.com", Path: "/", Header: http.Header{}},
		{Method: "PUT", Scheme: "http", Path: "/v1/objects/ab12?x=1", Header: http.Header{"Content-Type": {"application/octet-stream"}, "Authorization": {"PrivateToken token=abc"}}, Body: bytes.Repeat([]byte{0xa5}, 70000)},
		{Method: "POST", Scheme: "https", Authority: "h:1", Path: "/t", Header: http.Header{}, Trailer: http.Header{"Digest": {"sha-256=abc", "x"}}},
	}
	for _, r := range reqs {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRequest(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %s %s: got %+v", r.Method, r.Path, got)
		}
	}
	resps := []*Response{
		{Status: 200, Header: http.Header{}},
		{Status: 204, Header: http.Header{"Etag": {`"x"`}}},
		{Status: 500, Header: http.Header{}, Body: []byte("boom"), Trailer: http.Header{"Grpc-Status": {"13"}}},
	}
	for _, r := range resps {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %d: got %+v", r.Status, got)
		}
	}
}

func TestVarint(t *testing.T) {
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, maxVarint} {
		b := appendVarint(nil, v)
		if len(b) != varintLen(v) {
			t.Errorf("%d: %d bytes, varintLen %d", v, len(b), varintLen(v))
		}
		r := reader{b: b}
		got, err := r.varint("v")
		if err != nil || got != v || !r.done() {
			t.Errorf("%d: read back %d, %v, %d bytes left", v, got, err, len(r.b))
		}
	}
	// RFC 9000 section A.1 examples.
	for _, c := range []struct {
		hex string
		v   uint64
	}{{"c2197c5eff14e88c", 151288809941952652}, {"9d7f3e7d", 494878333}, {"7bbd", 15293}, {"25", 37}, {"4025", 37}} {
		r := reader{b: unhex(t, c.hex)}
		if got, err := r.varint("v"); err != nil || got != c.v {
			t.Errorf("%s: %d, %v, want %d", c.hex, got, err, c.v)
		}
	}
	if MediaType != "message/bhttp" {
		t.Errorf("MediaType = %q", MediaType)
	}
}

// TestParseCopies: the parsed message does not share memory with the input,
// which the caller may reuse.
func TestParseCopies(t *testing.T) {
	b := cat(base(), 0, 2, "hi", 0)
	r, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'x'
	}
	if string(r.Body) != "hi" || r.Method != "GET" {
		t.Errorf("parsed request changed with its input: %+v", r)
	}
}
