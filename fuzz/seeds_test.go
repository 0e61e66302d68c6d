package fuzz

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// The seeds of every target are built here, so that f.Add and the committed
// corpus (TestWriteSeedCorpus) come from the same place. Each seed is the
// argument list of its target's fuzz function.

// fixedKey is the AEAD key of FuzzAEADOpen and FuzzOpenChunk: the bytes 0..31.
var fixedKey = func() []byte {
	k := make([]byte, aead.KeySize)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}()

func fixedAEAD(tb testing.TB) *aead.AEAD {
	tb.Helper()
	a, err := aead.New(secret.New(fixedKey))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// validMessage is a message sealed once under fixedKey; it stays valid because
// the key is fixed.
type validMessage struct {
	sealed, ad, plaintext []byte
}

// knownSealed are the only (message, ad) pairs FuzzAEADOpen may see open:
// opening anything else would be a forgery.
var knownSealed = []validMessage{{
	sealed:    mustHex("08e0c84a5efb8e84cc03e31131a1c1264d48abc7121359418497eb9170b5a8925eef8b8ad5b2407973cfee76e6bfc4619bd1e4ede12adb42f1f62a048eb6d1a781ac93435c87724da979d94acb7b8f2d78bf2c55ca"),
	ad:        []byte("aegis/fuzz ad"),
	plaintext: []byte("aegis fuzz seed plaintext"),
}}

// knownChunks are the only (object, ad) pairs FuzzOpenChunk may see open; the
// plaintext is the payload inside the frame.
var knownChunks = []validMessage{{
	sealed:    mustHex("499a7c7d08883bc77e607715949467e8c1c06275d9bb56e1ac6fc7d5cc66a3713af0cb1f2b198a08140f27d230584700b3fdb24ff36b73de7d7bba231baaae2611b7fba8a486814ef5387f12e8e1742a8a63def2c161228b81dbebc607187933cfec0346f5a75c45f7d5d7d621c2d979743f3cb98e4a63f9f997f18ee48aec1d"),
	ad:        []byte("aegis/fuzz chunk ad"),
	plaintext: []byte("aegis fuzz chunk payload"),
}}

func findKnown(known []validMessage, sealed, ad []byte) *validMessage {
	for i := range known {
		if bytes.Equal(known[i].sealed, sealed) && bytes.Equal(known[i].ad, ad) {
			return &known[i]
		}
	}
	return nil
}

// flip returns a copy of b with bit 0 of byte i inverted.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// mutations returns truncations and single-byte flips of b at interesting offsets.
func mutations(b []byte, offsets ...int) [][]byte {
	var out [][]byte
	for _, n := range []int{0, 1, len(b) / 2, len(b) - 1} {
		if n >= 0 && n < len(b) {
			out = append(out, bytes.Clone(b[:n]))
		}
	}
	for _, i := range offsets {
		if i >= 0 && i < len(b) {
			out = append(out, flip(b, i))
		}
	}
	return out
}

func frameSeeds() [][]any {
	frame := func(payload []byte, size int) []byte {
		f := make([]byte, size)
		domain.EncodeFrame(f, payload)
		return f
	}
	ok := frame([]byte("hello, frame"), 64)
	return [][]any{
		{[]byte{}},
		{[]byte{0, 0, 0}},
		{[]byte{0, 0, 0, 0}},
		{ok},
		{frame(nil, 32)},
		{frame(bytes.Repeat([]byte{0xa5}, 60), 64)}, // full, no padding
		{flip(ok, 3)},         // length 13 > 12: still fits, padding check
		{flip(ok, 0)},         // huge length
		{flip(ok, len(ok)-1)}, // non-zero padding
		{[]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}},
	}
}

// aeadSeeds must not seal anything new under fixedKey: the fuzzer would find
// the message and its ad and open it, and each fuzzing process would have
// sealed a different one, so no list of known messages could cover it.
func aeadSeeds(tb testing.TB) [][]any {
	var out [][]any
	for _, k := range knownSealed {
		out = append(out, []any{k.sealed, k.ad})
		out = append(out, []any{k.sealed, []byte("another ad")})
		for _, m := range mutations(k.sealed, 0, aead.NonceSize, aead.PrefixSize, len(k.sealed)-aead.TagSize, len(k.sealed)-1) {
			out = append(out, []any{m, k.ad})
		}
	}
	// Sealed under another key: the commitment does not match.
	other, err := aead.New(secret.New(bytes.Repeat([]byte{0x42}, aead.KeySize)))
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, []any{other.Seal(nil, []byte("other key"), []byte("aegis/fuzz ad")), []byte("aegis/fuzz ad")})
	out = append(out, []any{make([]byte, aead.Overhead), []byte{}})
	out = append(out, []any{[]byte{}, []byte{}})
	return out
}

func chunkSeeds(tb testing.TB) [][]any {
	a := fixedAEAD(tb)
	var out [][]any
	for _, k := range knownChunks {
		out = append(out, []any{k.sealed, k.ad})
		out = append(out, []any{k.sealed, []byte("aegis/fuzz ad")})
		for _, m := range mutations(k.sealed, 0, aead.PrefixSize, aead.PrefixSize+3, len(k.sealed)-1) {
			out = append(out, []any{m, k.ad})
		}
	}
	// Authentic messages whose plaintext is not a valid frame: OpenChunk must
	// still fail, in DecodeFrame, whatever nonce each process sealed them with.
	ad := []byte("aegis/fuzz chunk ad")
	bad := [][]byte{
		{0, 0, 0},                   // shorter than the frame header
		{0, 0, 1, 0, 'x'},           // claims 256 bytes, holds 1
		{0, 0, 0, 1, 'x', 0, 0, 7},  // non-zero padding
		{0xff, 0xff, 0xff, 0xff, 0}, // huge length
	}
	for _, pt := range bad {
		out = append(out, []any{a.Seal(nil, pt, ad), ad})
	}
	out = append(out, []any{make([]byte, aead.Overhead+domain.FrameHeaderSize), []byte{}})
	return out
}

// newSeedVault creates a vault on a fresh memory store with the named KDF under
// the insecure test policy, stores something, and returns the store.
func newSeedVault(tb testing.TB, kdfName string) *memblob.Store {
	tb.Helper()
	ctx := context.Background()
	store := memblob.Open()
	v, err := vault.Create(ctx, vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy()), KDF: kdfName}, []byte("fuzz passphrase"))
	if err != nil {
		tb.Fatal(err)
	}
	defer v.Close()
	if err := v.Store(ctx, "contacts", []byte(`{"alice":"555-0100"}`)); err != nil {
		tb.Fatal(err)
	}
	return store
}

func headerSeeds(tb testing.TB) [][]any {
	var out [][]any
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		store := newSeedVault(tb, name)
		hdr, err := store.Get(context.Background(), vault.HeaderID(""))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, []any{hdr})
		// Offsets: magic, body length, checksum, version, KDF id, salt length,
		// inside the key check, the root length, the last byte of the body,
		// the padding, the last byte.
		n := int(binary.BigEndian.Uint16(hdr[8:]))
		for _, m := range mutations(hdr, 0, 9, 10, 42, 43, 53, 60, 42+n-1, 42+n, len(hdr)-1) {
			out = append(out, []any{m})
		}
		// The body alone, without padding: a valid header of another size.
		out = append(out, []any{bytes.Clone(hdr[:42+n])})
	}
	out = append(out, []any{[]byte("AEGISVLT")})
	return out
}

// manifestEntry is one category of a hand-built manifest.
type manifestEntry struct {
	name       string
	generation uint32
	version    uint64
	size       uint64
	wrappedLen int
	chunkSizes []uint32
}

// encodeManifest lays out a manifest plaintext as domain/vault/manifest.go
// documents it:
//
//	"AEGM" | version 1 | epoch 8 | count 4 | per category, sorted by name:
//	  name length 2, name | slot 16 | generation 4 | version 8 | size 8 |
//	  wrapped DEK length 2, wrapped DEK | chunk count 4, chunks × (id 32, size 4)
func encodeManifest(version byte, epoch uint64, entries []manifestEntry) []byte {
	b := []byte("AEGM")
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = binary.BigEndian.AppendUint32(b, uint32(len(entries)))
	for i, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.name)))
		b = append(b, e.name...)
		b = append(b, bytes.Repeat([]byte{byte(i + 1)}, 16)...)
		b = binary.BigEndian.AppendUint32(b, e.generation)
		b = binary.BigEndian.AppendUint64(b, e.version)
		b = binary.BigEndian.AppendUint64(b, e.size)
		b = binary.BigEndian.AppendUint16(b, uint16(e.wrappedLen))
		b = append(b, bytes.Repeat([]byte{0xd0}, e.wrappedLen)...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.chunkSizes)))
		for j, s := range e.chunkSizes {
			b = append(b, bytes.Repeat([]byte{byte(i), byte(j)}, 16)...)
			b = binary.BigEndian.AppendUint32(b, s)
		}
	}
	return b
}

func manifestSeeds() [][]any {
	one := []manifestEntry{{name: "contacts", generation: 1, version: 1, size: 20, wrappedLen: suite.WrappedSize, chunkSizes: []uint32{1024}}}
	several := []manifestEntry{
		{name: "a/../b", generation: 1, version: 3, size: 5000, wrappedLen: suite.WrappedSize, chunkSizes: []uint32{16 * 1024}},
		{name: "contacts", generation: 2, version: 7, size: 20, wrappedLen: suite.WrappedSize, chunkSizes: []uint32{1024}},
		{name: "journal", generation: 1, version: 1, size: 3 << 20, wrappedLen: suite.WrappedSize, chunkSizes: []uint32{1 << 20, 1 << 20, 1 << 20, 1 << 20}},
		{name: "日記", generation: 5, version: 9, size: 0, wrappedLen: suite.WrappedSize, chunkSizes: []uint32{1024}},
	}
	valid := encodeManifest(1, 7, several)
	return [][]any{
		{encodeManifest(1, 1, nil)},
		{encodeManifest(1, 2, one)},
		{valid},
		{valid[:len(valid)-1]},
		{append(bytes.Clone(valid), 0)},
		{encodeManifest(2, 7, several)}, // unknown version
		{encodeManifest(1, 7, []manifestEntry{several[1], several[0]})},                                 // unsorted
		{encodeManifest(1, 7, []manifestEntry{several[1], several[1]})},                                 // duplicate
		{encodeManifest(1, 7, []manifestEntry{{name: "x", wrappedLen: 92, chunkSizes: []uint32{100}}})}, // chunk smaller than any object
		{encodeManifest(1, 7, []manifestEntry{{name: "x", wrappedLen: 92}})},                            // no chunks
		{encodeManifest(1, 7, []manifestEntry{{name: "a\x00b", wrappedLen: 92, chunkSizes: []uint32{1024}}})},
		{encodeManifest(1, 7, []manifestEntry{{name: "\xff", wrappedLen: 92, chunkSizes: []uint32{1024}}})},
		{encodeManifest(1, 7, []manifestEntry{{name: "", wrappedLen: 92, chunkSizes: []uint32{1024}}})},
		{[]byte("AEGM")},
		{[]byte("AEGM\x01")},
		{[]byte{}},
	}
}

func roundTripSeeds() [][]any {
	return [][]any{
		{"contacts", []byte(`{"alice":"555-0100"}`), []byte(`{"alice":"555-0199","bob":"555-0123"}`)},
		{"a", []byte{}, []byte{0}},
		{"a/../b", bytes.Repeat([]byte{0x5a}, 960), bytes.Repeat([]byte{0x5a}, 961)}, // the 1 KiB and 4 KiB buckets
		{"日記", []byte("dear diary"), []byte{}},
		{"", []byte("x"), []byte("y")},         // invalid: empty
		{"a\x00b", []byte("x"), []byte("y")},   // invalid: NUL
		{"\xff\xfe", []byte("x"), []byte("y")}, // invalid: not UTF-8
		{string(bytes.Repeat([]byte("n"), domain.MaxCategoryLen)), []byte("longest name"), []byte{}},
		{string(bytes.Repeat([]byte("n"), domain.MaxCategoryLen+1)), []byte("too long"), []byte{}},
	}
}
