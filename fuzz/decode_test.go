package fuzz

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func addSeeds(f *testing.F, seeds [][]any) {
	for _, s := range seeds {
		f.Add(s...)
	}
}

// FuzzDecodeFrame: DecodeFrame never panics; it fails with ErrIntegrity or
// returns a payload that lies inside the frame, and encoding that payload into
// a frame of the same length gives back exactly the input.
func FuzzDecodeFrame(f *testing.F) {
	addSeeds(f, frameSeeds())
	f.Fuzz(func(t *testing.T, frame []byte) {
		in := bytes.Clone(frame)
		p, err := domain.DecodeFrame(frame)
		if !bytes.Equal(in, frame) {
			t.Fatal("DecodeFrame modified its input")
		}
		if err != nil {
			if !errors.Is(err, domain.ErrIntegrity) {
				t.Fatalf("error %v does not wrap ErrIntegrity", err)
			}
			if p != nil {
				t.Fatal("payload returned with an error")
			}
			return
		}
		if len(p) > len(frame)-domain.FrameHeaderSize {
			t.Fatalf("payload of %d bytes from a frame of %d", len(p), len(frame))
		}
		if len(p) > 0 && &p[0] != &frame[domain.FrameHeaderSize] {
			t.Fatal("payload does not alias the frame body")
		}
		again := make([]byte, len(frame))
		domain.EncodeFrame(again, p)
		if !bytes.Equal(again, frame) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, frame)
		}
	})
}

var (
	productPolicy = kdf.DefaultPolicy()
	testPolicy    = kdf.InsecureTestPolicy()
)

// FuzzDecodeHeader: DecodeHeader never panics and fails only with ErrIntegrity or
// ErrUnsupportedVersion; what it accepts is a known KDF with a salt in range, and
// checking that spec against the KDF policies does not panic either.
func FuzzDecodeHeader(f *testing.F) {
	addSeeds(f, headerSeeds(f))
	f.Fuzz(func(t *testing.T, obj []byte) {
		in := bytes.Clone(obj)
		spec, err := vault.DecodeHeader(obj)
		if !bytes.Equal(in, obj) {
			t.Fatal("DecodeHeader modified its input")
		}
		if err != nil {
			if !errors.Is(err, domain.ErrIntegrity) && !errors.Is(err, domain.ErrUnsupportedVersion) {
				t.Fatalf("error %v wraps neither ErrIntegrity nor ErrUnsupportedVersion", err)
			}
			return
		}
		if !bytes.HasPrefix(obj, []byte("AEGISVLT")) {
			t.Fatal("accepted a header without the magic")
		}
		switch spec.Name {
		case domain.KDFPBKDF2SHA256:
			if spec.Time != 0 || spec.MemoryKiB != 0 || spec.Threads != 0 {
				t.Fatalf("pbkdf2 spec with argon2 parameters: %+v", spec)
			}
		case domain.KDFArgon2id:
		default:
			t.Fatalf("accepted unknown KDF %q", spec.Name)
		}
		if len(spec.Salt) < 16 || len(spec.Salt) > 64 {
			t.Fatalf("accepted a salt of %d bytes", len(spec.Salt))
		}
		for _, p := range []kdf.Policy{productPolicy, testPolicy} {
			if err := p.Check(spec); err != nil && !errors.Is(err, domain.ErrKDFParams) && !errors.Is(err, domain.ErrUnsupportedVersion) {
				t.Fatalf("policy check: unexpected error %v", err)
			}
		}
	})
}

// FuzzDecodeManifest: DecodeManifest never panics and fails only with
// ErrIntegrity or ErrUnsupportedVersion; the names it returns are valid category
// names, sorted and unique.
func FuzzDecodeManifest(f *testing.F) {
	addSeeds(f, manifestSeeds())
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		names, err := vault.DecodeManifest(b)
		if !bytes.Equal(in, b) {
			t.Fatal("DecodeManifest modified its input")
		}
		if err != nil {
			if !errors.Is(err, domain.ErrIntegrity) && !errors.Is(err, domain.ErrUnsupportedVersion) {
				t.Fatalf("error %v wraps neither ErrIntegrity nor ErrUnsupportedVersion", err)
			}
			return
		}
		if !bytes.HasPrefix(b, []byte("AEGM\x01")) {
			t.Fatal("accepted a manifest without the magic and version 1")
		}
		for i, n := range names {
			if domain.ValidateCategory(n) != nil || !utf8.ValidString(n) {
				t.Fatalf("accepted invalid category name %q", n)
			}
			if i > 0 && names[i-1] >= n {
				t.Fatalf("names not sorted and unique: %q", names)
			}
		}
		// Every entry takes at least 81 bytes (a 1-byte name and one chunk).
		if min := 17 + 81*len(names); len(b) < min {
			t.Fatalf("%d categories from %d bytes", len(names), len(b))
		}
		if !slices.IsSorted(names) {
			t.Fatal("names not sorted")
		}
	})
}

// FuzzAEADOpen: Open under a fixed key never panics, and fails with an error
// wrapping ErrIntegrity for everything except the messages this package sealed
// (knownSealed), which open to their plaintext. Succeeding on anything else
// would be a forgery. It tries both a fresh destination and opening in place.
func FuzzAEADOpen(f *testing.F) {
	a := fixedAEAD(f)
	addSeeds(f, aeadSeeds(f))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		known := findKnown(knownSealed, sealed, ad)
		in := bytes.Clone(sealed)
		pt, err := a.Open(nil, sealed, ad)
		if !bytes.Equal(in, sealed) {
			t.Fatal("Open into a fresh buffer modified its input")
		}
		check := func(how string, pt []byte, err error) {
			switch {
			case known != nil:
				if err != nil || !bytes.Equal(pt, known.plaintext) {
					t.Fatalf("%s: a known valid message: plaintext %q, error %v", how, pt, err)
				}
			case err == nil:
				t.Fatalf("%s: FORGERY: opened %x with ad %x to %q", how, sealed, ad, pt)
			case !errors.Is(err, domain.ErrIntegrity):
				t.Fatalf("%s: error %v does not wrap ErrIntegrity", how, err)
			case pt != nil:
				t.Fatalf("%s: plaintext returned with an error", how)
			}
		}
		check("Open", pt, err)
		if len(sealed) >= a.PrefixSize() {
			buf := bytes.Clone(sealed)
			pt, err := a.Open(buf[a.PrefixSize():a.PrefixSize()], buf, ad)
			check("Open in place", pt, err)
		}
	})
}

// FuzzOpenChunk: OpenChunk under a fixed key never panics, and fails with an
// error wrapping ErrIntegrity for everything except the chunks this package
// sealed (knownChunks), which open to their payload.
func FuzzOpenChunk(f *testing.F) {
	a := fixedAEAD(f)
	addSeeds(f, chunkSeeds(f))
	f.Fuzz(func(t *testing.T, obj, ad []byte) {
		known := findKnown(knownChunks, obj, ad)
		buf := bytes.Clone(obj)
		p, err := domain.OpenChunk(a, buf, ad)
		switch {
		case known != nil:
			if err != nil || !bytes.Equal(p, known.plaintext) {
				t.Fatalf("a known valid chunk: payload %q, error %v", p, err)
			}
		case err == nil:
			t.Fatalf("FORGERY: opened %x with ad %x to %q", obj, ad, p)
		case !errors.Is(err, domain.ErrIntegrity):
			t.Fatalf("error %v does not wrap ErrIntegrity", err)
		}
	})
}
