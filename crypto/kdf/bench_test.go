package kdf

import (
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// BenchmarkDeriveDefault measures what opening a vault costs under the
// product's default parameters.
func BenchmarkDeriveDefault(b *testing.B) {
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		b.Run(name, func(b *testing.B) {
			spec, err := NewSpec(name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				k, err := Derive([]byte("correct horse battery staple"), spec)
				if err != nil {
					b.Fatal(err)
				}
				k.Destroy()
			}
		})
	}
}
