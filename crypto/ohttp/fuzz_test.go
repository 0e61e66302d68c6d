package ohttp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cloudflare/circl/hpke"
)

// isSentinel reports whether err wraps one of the package's errors.
func isSentinel(err error) bool {
	for _, s := range []error{ErrMalformed, ErrUnknownKey, ErrUnsupported, ErrDecrypt, ErrContextUsed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseKeyConfigs: ParseKeyConfigs never panics; what it accepts is the
// collection of its entries of known KEMs, which MarshalKeyConfigs re-encodes
// byte for byte, and each of which ParseKeyConfig reads alone.
func FuzzParseKeyConfigs(f *testing.F) {
	v := loadRFC9458(f)
	rfc := append(binary.BigEndian.AppendUint16(nil, uint16(len(v.KeyConfig))), v.KeyConfig...)
	f.Add(rfc)
	k, err := NewGatewayKey(2, v.SkR)
	if err != nil {
		f.Fatal(err)
	}
	two, err := MarshalKeyConfigs(k.Config(), &KeyConfig{KeyID: 3, KEM: 0x10, PublicKey: make([]byte, 65), Suites: []SymmetricSuite{{1, 1}, {2, 2}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(bytes.Clone(rfc), two...))
	f.Add(append([]byte{0, 5, 1, 0x99, 0x99, 0, 0}, rfc...))
	f.Add(rfc[:len(rfc)-1])
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseKeyConfigs(b)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		// The entries of known KEMs, as the length prefixes delimit them.
		var known [][]byte
		for off := 0; off < len(b); {
			n := int(binary.BigEndian.Uint16(b[off:]))
			entry := b[off+2 : off+2+n]
			off += 2 + n
			if _, ok := publicKeyLen(binary.BigEndian.Uint16(entry[1:3])); ok {
				known = append(known, entry)
			}
		}
		if len(cs) != len(known) {
			t.Fatalf("%d configurations from %d entries of known KEMs", len(cs), len(known))
		}
		var want []byte
		for i, e := range known {
			want = binary.BigEndian.AppendUint16(want, uint16(len(e)))
			want = append(want, e...)
			one, err := ParseKeyConfig(e)
			if err != nil {
				t.Fatalf("entry %d accepted in the collection, refused alone: %v", i, err)
			}
			if enc, err := one.MarshalBinary(); err != nil || !bytes.Equal(enc, e) {
				t.Fatalf("entry %d re-encodes to %x (%v), want %x", i, enc, err, e)
			}
		}
		enc, err := MarshalKeyConfigs(cs...)
		if err != nil || !bytes.Equal(enc, want) {
			t.Fatalf("re-encoding %x (%v), want %x", enc, err, want)
		}
	})
}

// FuzzDecapsulateRequest: a gateway holding the RFC 9458 key never panics on
// any input and refuses with one of the package's errors; a request it accepts
// has the supported header and a full-size enc and tag, and its context
// encapsulates one response, which a client with the same HPKE context opens.
func FuzzDecapsulateRequest(f *testing.F) {
	v := loadRFC9458(f)
	g, k := rfcGateway(f, v)
	req := []byte(v.EncapsulatedRequest)
	f.Add(req)
	for _, i := range []int{0, 1, 3, 5, headerSize, headerSize + encSize, len(req) - 1} {
		m := bytes.Clone(req)
		m[i] ^= 1
		f.Add(m)
	}
	f.Add(req[:headerSize+encSize+tagSize])
	f.Add(req[:headerSize])
	f.Add(append(bytes.Clone(req), 0))
	c, err := NewClient(k.Config())
	if err != nil {
		f.Fatal(err)
	}
	for _, body := range [][]byte{nil, []byte("GET /")} {
		enc, _, err := c.EncapsulateRequest(body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		request, rc, err := g.DecapsulateRequest(b)
		if err != nil {
			if !isSentinel(err) || rc != nil || request != nil {
				t.Fatalf("refusal %v (context %v, request %d bytes)", err, rc != nil, len(request))
			}
			return
		}
		if !bytes.Equal(b[:headerSize], []byte{1, 0, 0x20, 0, 1, 0, 1}) || len(b) != headerSize+encSize+len(request)+tagSize {
			t.Fatalf("accepted a request with header %x and %d bytes for a %d-byte body", b[:min(len(b), headerSize)], len(b), len(request))
		}
		res, err := rc.EncapsulateResponse(request)
		if err != nil {
			t.Fatalf("EncapsulateResponse: %v", err)
		}
		if _, err := rc.EncapsulateResponse(request); !errors.Is(err, ErrContextUsed) {
			t.Fatalf("second EncapsulateResponse: %v", err)
		}
		// The client's side of the same HPKE context opens the response.
		r, err := supportedSuite.NewReceiver(k.priv.sk, requestInfo(b[:headerSize]))
		if err != nil {
			t.Fatal(err)
		}
		opener, err := r.Setup(b[headerSize : headerSize+encSize])
		if err != nil {
			t.Fatal(err)
		}
		cc := &ClientContext{ctx: opener, enc: bytes.Clone(b[headerSize : headerSize+encSize])}
		if got, err := cc.DecapsulateResponse(res); err != nil || !bytes.Equal(got, request) {
			t.Fatalf("response to an accepted request does not open: %v", err)
		}
	})
}

// FuzzDecapsulateResponse: a client context of the RFC 9458 request never
// panics on any response and refuses with one of the package's errors; a
// response it accepts is exactly what the gateway's context of the same
// request makes of that plaintext with that response nonce.
func FuzzDecapsulateResponse(f *testing.F) {
	v := loadRFC9458(f)
	g, k := rfcGateway(f, v)
	// The RFC's sending context, serialized once and restored per input (each
	// context serves one response).
	setup := rfcSetup(f, v, k)
	_, sealer, err := setup(nil)
	if err != nil {
		f.Fatal(err)
	}
	rawSealer, err := sealer.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	c, err := ParseKeyConfig(v.KeyConfig)
	if err != nil {
		f.Fatal(err)
	}
	client, err := NewClient(c)
	if err != nil {
		f.Fatal(err)
	}
	client.setup = func(*hpke.Sender) ([]byte, hpke.Sealer, error) {
		// A restored sealer keeps slices of its input and counts its
		// sequence number in them: restore from a copy.
		s, err := hpke.UnmarshalSealer(bytes.Clone(rawSealer))
		return bytes.Clone(v.PkE), s, err
	}
	res := []byte(v.EncapsulatedResponse)
	f.Add(res)
	for _, i := range []int{0, responseNonceSize - 1, responseNonceSize, len(res) - 1} {
		m := bytes.Clone(res)
		m[i] ^= 0x80
		f.Add(m)
	}
	f.Add(res[:responseNonceSize+tagSize])
	f.Add(res[:responseNonceSize+tagSize-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		encReq, cc, err := client.EncapsulateRequest(v.Request)
		if err != nil || !bytes.Equal(encReq, v.EncapsulatedRequest) {
			t.Fatalf("client request differs from the RFC's (%v)", err)
		}
		response, err := cc.DecapsulateResponse(b)
		if err != nil {
			if !isSentinel(err) || response != nil {
				t.Fatalf("refusal %v with %d bytes", err, len(response))
			}
			return
		}
		_, rc, err := g.DecapsulateRequest(encReq)
		if err != nil {
			t.Fatal(err)
		}
		rc.nonce = func(n []byte) { copy(n, b[:responseNonceSize]) }
		again, err := rc.EncapsulateResponse(response)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted response %x is not the gateway's %x (%v)", b, again, err)
		}
	})
}
