package aead

import (
	"fmt"
	"testing"
)

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
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				a.Seal(dst, pt, ad)
			}
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
			dst := make([]byte, 0, n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := a.Open(dst, sealed, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newTestAEAD(b)
	}
}
