package bhttp

import (
	"fmt"
	"net/http"
)

// maxVarint is the largest value a QUIC variable-length integer holds.
const maxVarint = 1<<62 - 1

// appendVarint appends v (at most maxVarint) in the shortest QUIC
// variable-length encoding (RFC 9000 section 16).
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// varintLen is the length of the shortest encoding of v.
func varintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	default:
		return 8
	}
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// reader reads a message from the front of b; off is the offset of b in the
// whole message, for error messages.
type reader struct {
	b   []byte
	off int
}

// done reports whether no byte is left.
func (r *reader) done() bool { return len(r.b) == 0 }

// varint reads a variable-length integer of any of the four sizes; what names
// it in errors.
func (r *reader) varint(what string) (uint64, error) {
	if len(r.b) == 0 {
		return 0, malformed("message ends at byte %d, before the %s", r.off, what)
	}
	n := 1 << (r.b[0] >> 6)
	if len(r.b) < n {
		return 0, malformed("%s at byte %d: %d-byte integer cut to %d bytes", what, r.off, n, len(r.b))
	}
	v := uint64(r.b[0] & 0x3f)
	for _, c := range r.b[1:n] {
		v = v<<8 | uint64(c)
	}
	r.b, r.off = r.b[n:], r.off+n
	return v, nil
}

// prefixed reads a length and that many bytes; a length above limit, or
// above the bytes left, is refused. Errors give the offset of the length.
func (r *reader) prefixed(what string, limit uint64) ([]byte, error) {
	at := r.off
	n, err := r.varint(what + " length")
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, malformed("%s at byte %d is %d bytes long, more than the limit of %d", what, at, n, limit)
	}
	// Checked against the bytes left before anything is allocated for it.
	if n > uint64(len(r.b)) {
		return nil, malformed("%s at byte %d is %d bytes long, only %d bytes are left", what, at, n, len(r.b))
	}
	out := r.b[:n:n]
	r.b, r.off = r.b[n:], r.off+int(n)
	return out, nil
}

// framing reads the framing indicator and checks that it is want (0 for a
// request, 1 for a response).
func (r *reader) framing(want uint64) error {
	f, err := r.varint("framing indicator")
	if err != nil {
		return err
	}
	switch f {
	case want:
		return nil
	case framingRequest, framingResponse:
		kinds := [...]string{"request", "response"}
		return malformed("framing indicator %d is a known-length %s, not a %s", f, kinds[f], kinds[want])
	case 2, 3:
		return malformed("framing indicator %d is an indeterminate-length message; only known-length messages (0 and 1) are supported", f)
	default:
		return malformed("unknown framing indicator %d", f)
	}
}

// fieldSection reads a known-length field section; kind ("header", "trailer",
// "informational header") names it in errors. The fields are added to a new
// http.Header, or nil when the section is empty.
func (r *reader) fieldSection(kind string) (http.Header, error) {
	sec, err := r.prefixed(kind+" section", MaxFieldSectionSize)
	if err != nil {
		return nil, err
	}
	s := reader{b: sec, off: r.off - len(sec)}
	var h http.Header
	for i := 1; !s.done(); i++ {
		what := fmt.Sprintf("%s field %d", kind, i)
		name, err := s.prefixed(what+" name", MaxFieldSectionSize)
		if err != nil {
			return nil, err
		}
		if err := checkName(name); err != nil {
			return nil, malformed("%s: %v", what, err)
		}
		value, err := s.prefixed(what+" value", MaxFieldSectionSize)
		if err != nil {
			return nil, err
		}
		if err := checkValue(value); err != nil {
			return nil, malformed("%s (%s): %v", what, name, err)
		}
		if h == nil {
			h = make(http.Header)
		}
		k := http.CanonicalHeaderKey(string(name))
		h[k] = append(h[k], string(value))
	}
	return h, nil
}

// tail reads what follows the control data: header section, content, trailer
// section and padding, any of the three parts possibly cut off (RFC 9292
// section 3.8). The header is never nil.
func (r *reader) tail() (header http.Header, body []byte, trailer http.Header, err error) {
	header = http.Header{}
	if r.done() {
		return header, nil, nil, nil
	}
	h, err := r.fieldSection("header")
	if err != nil {
		return nil, nil, nil, err
	}
	if h != nil {
		header = h
	}
	if r.done() {
		return header, nil, nil, nil
	}
	content, err := r.prefixed("content", MaxMessageSize)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(content) > 0 {
		body = append([]byte(nil), content...)
	}
	if r.done() {
		return header, body, nil, nil
	}
	if trailer, err = r.fieldSection("trailer"); err != nil {
		return nil, nil, nil, err
	}
	for i, c := range r.b {
		if c != 0 {
			return nil, nil, nil, malformed("byte %d after the trailer section is 0x%02x; only zero padding may follow the message", r.off+i, c)
		}
	}
	return header, body, trailer, nil
}

// appendTail appends the header section, content and trailer section, all
// three as zero lengths when empty, or nothing at all when the three are
// empty (the message then ends after its control data, as in RFC 9458
// Appendix A).
func appendTail(b, header, body, trailer []byte) []byte {
	if len(header) == 0 && len(body) == 0 && len(trailer) == 0 {
		return b
	}
	for _, part := range [][]byte{header, body, trailer} {
		b = appendVarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return b
}

// tailLen is the length appendTail adds.
func tailLen(header, body, trailer []byte) int {
	if len(header) == 0 && len(body) == 0 && len(trailer) == 0 {
		return 0
	}
	n := 0
	for _, part := range [][]byte{header, body, trailer} {
		n += varintLen(uint64(len(part))) + len(part)
	}
	return n
}
