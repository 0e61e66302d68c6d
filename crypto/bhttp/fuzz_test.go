package bhttp

import (
	"bytes"
	"reflect"
	"testing"
)

// The decoders of untrusted bytes: they must never panic, and what they
// accept must re-encode to bytes that parse to an equal message, and that
// re-encode to themselves (the encoding is deterministic).

// seeds adds the known answers, cut, padded and damaged variants of them, and
// a few malformed messages.
func seeds(f *testing.F, kats ...string) {
	for _, k := range kats {
		b := unhex(f, k)
		f.Add(b)
		f.Add(append(append([]byte(nil), b...), 0, 0, 0, 0))
		f.Add(append(append([]byte(nil), b...), 0, 0, 0, 1))
		f.Add(b[:len(b)/2])
		flipped := append([]byte(nil), b...)
		flipped[len(flipped)-1] ^= 0x20
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Add([]byte{0x40})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0x40, 0xc8, 0, 0, 0})
	f.Add(cat(base(), section(":path", "/")))
	f.Add(cat(base(), section("a", "x\r\ny")))
	f.Add(cat(base(), 0x80, 0x10, 0, 1))
	f.Add(cat(1, 0x40, 0x66, section("link", "</a>"), 0x40, 0xc8, 0, 2, "hi", section("x", "y")))
}

func FuzzParseRequest(f *testing.F) {
	seeds(f, rfc9458Request, rfc9292Request, rfc9292RequestSorted, rfc9292RequestIndeterminate)
	f.Add(control("OPTIONS", "https", "[::1]:1", "*"))
	f.Add(cat(0x40, 0, 0x40, 3, "GET", 5, "https", 0, 1, "/", 0x40, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed %x to %+v, which does not encode: %v", b, r, err)
		}
		back, err := ParseRequest(enc)
		if err != nil {
			t.Fatalf("re-encoding %x of %x does not parse: %v", enc, b, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%x parsed to %+v, its re-encoding to %+v", b, r, back)
		}
		if again, err := back.MarshalBinary(); err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("encoding not stable: %x then %x (%v)", enc, again, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	seeds(f, rfc9458Response, rfc9292Response, rfc9292ResponseIndeterminate)
	f.Add([]byte{1, 0xc0, 0, 0, 0, 0, 0, 0, 0xc8, 0, 0})
	f.Add([]byte{1, 0x42, 0x58})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed %x to %+v, which does not encode: %v", b, r, err)
		}
		back, err := ParseResponse(enc)
		if err != nil {
			t.Fatalf("re-encoding %x of %x does not parse: %v", enc, b, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%x parsed to %+v, its re-encoding to %+v", b, r, back)
		}
		if again, err := back.MarshalBinary(); err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("encoding not stable: %x then %x (%v)", enc, again, err)
		}
	})
}
