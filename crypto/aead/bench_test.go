package aead

import (
	"bytes"
	"fmt"
	"testing"
)

// Each benchmark checks its result once after its loop (the timer stopped), so
// that `make bench-smoke` fails on broken sealing.

// checkSealed checks that sealed opens under a and ad to want and does not hold
// want in clear.
func checkSealed(b *testing.B, a *AEAD, sealed, ad, want []byte) {
	b.Helper()
	if len(want) >= 16 && bytes.Contains(sealed, want) {
		b.Fatalf("the sealed object holds its %d-byte plaintext in clear", len(want))
	}
	got, err := a.Open(nil, sealed, ad)
	if err != nil || !bytes.Equal(got, want) {
		b.Fatalf("Open of what was sealed: %d bytes (%d sealed, equal: %v), %v", len(got), len(want), bytes.Equal(got, want), err)
	}
}

var benchSizes = []int{1 << 10, 16 << 10, 64 << 10, 1 << 20}

func BenchmarkSealInPlace(b *testing.B) {
	a := newTestAEAD(b)
	ad := []byte("vault=bench;role=chunk;index=0")
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			obj := make([]byte, PrefixSize+n+TagSize)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				a.SealInPlace(obj, ad)
			}
			// Once more, untimed, keeping the plaintext to compare.
			want := bytes.Clone(obj[PrefixSize : PrefixSize+n])
			a.SealInPlace(obj, ad)
			checkSealed(b, a, obj, ad, want)
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	a := newTestAEAD(b)
	ad := []byte("vault=bench;role=chunk;index=0")
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			pt := pattern(n)
			dst := make([]byte, 0, n+Overhead)
			var sealed []byte
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sealed = a.Seal(dst, pt, ad)
			}
			checkSealed(b, a, sealed, ad, pt)
		})
	}
}

// BenchmarkOpen opens into a preallocated buffer. (Opening in place would
// destroy the ciphertext each iteration; TestZeroAllocations covers it.)
func BenchmarkOpen(b *testing.B) {
	a := newTestAEAD(b)
	ad := []byte("vault=bench;role=chunk;index=0")
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			sealed := a.Seal(nil, pattern(n), ad)
			checkSealed(b, a, sealed, ad, pattern(n))
			dst := make([]byte, 0, n)
			var got []byte
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				var err error
				if got, err = a.Open(dst, sealed, ad); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Equal(got, pattern(n)) {
				b.Fatal("Open returned other bytes than were sealed")
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	var a *AEAD
	b.ReportAllocs()
	for b.Loop() {
		a = newTestAEAD(b)
	}
	pt, ad := pattern(1024), []byte("ad")
	checkSealed(b, a, a.Seal(nil, pt, ad), ad, pt)
}
