package kdf

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// BenchmarkDeriveDefault measures what opening a vault costs under the
// product's default parameters. After the loop it checks the last key against
// the KDF's library called with the spec's parameters, so that `make
// bench-smoke` fails on a key derived otherwise.
func BenchmarkDeriveDefault(b *testing.B) {
	pass := []byte("correct horse battery staple")
	for _, name := range []string{domain.KDFPBKDF2SHA256, domain.KDFArgon2id} {
		b.Run(name, func(b *testing.B) {
			spec, err := NewSpec(name)
			if err != nil {
				b.Fatal(err)
			}
			var k *secret.Key
			b.ReportAllocs()
			for b.Loop() {
				if k != nil {
					k.Destroy() // the previous key: each iteration destroys one
				}
				if k, err = Derive(pass, spec); err != nil {
					b.Fatal(err)
				}
			}
			defer k.Destroy()
			var want []byte
			switch name {
			case domain.KDFPBKDF2SHA256:
				if want, err = pbkdf2.Key(sha256.New, string(pass), spec.Salt, int(spec.Iterations), k.Len()); err != nil {
					b.Fatal(err)
				}
			case domain.KDFArgon2id:
				want = argon2.IDKey(pass, spec.Salt, spec.Time, spec.MemoryKiB, spec.Threads, uint32(k.Len()))
			}
			if k.Len() < 16 || !bytes.Equal(k.Bytes(), want) {
				b.Fatalf("Derive gave a %d-byte key that differs from %s's", k.Len(), name)
			}
		})
	}
}
