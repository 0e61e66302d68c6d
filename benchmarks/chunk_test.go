package benchmarks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

func newAEAD(b *testing.B) *aead.AEAD {
	b.Helper()
	a, err := aead.New(secret.Random(aead.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Destroy)
	return a
}

// BenchmarkRawGCM is the ceiling: the standard library's AES-256-GCM sealing the
// same payload into a preallocated buffer, with a fresh 12-byte nonce from
// crypto/rand per message (the nonce cost Aegis pays too), and the same 78-byte
// associated data. No key commitment, no framing.
func BenchmarkRawGCM(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			pt := pattern(n)
			dst := make([]byte, 0, n+gcm.Overhead())
			var nonce [12]byte
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				rand.Read(nonce[:])
				dst = gcm.Seal(dst[:0], nonce[:], pt, chunkAD)
			}
			if bytes.Contains(dst, pt) {
				b.Fatal("the sealed message holds its plaintext in clear")
			}
			if got, err := gcm.Open(nil, nonce[:], dst, chunkAD); err != nil || !bytes.Equal(got, pt) {
				b.Fatalf("Open of what was sealed: %d bytes (equal: %v), %v", len(got), bytes.Equal(got, pt), err)
			}
		})
	}
}

// BenchmarkPadSeal is the Vault's path: the payload already sits in the object
// buffer (sealStream reads it there), and domain.SealChunk frames it and seals
// the object in place with key-committing AES-256-GCM (crypto/aead). It must
// not allocate.
func BenchmarkPadSeal(b *testing.B) {
	a := newAEAD(b)
	body := aead.PrefixSize + domain.FrameHeaderSize
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			obj := make([]byte, size)
			payload := obj[body : body+n]
			copy(payload, pattern(n))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				// Each iteration reseals the previous ciphertext as the payload:
				// the bytes differ, the work is the same.
				domain.SealChunk(a, obj, payload, chunkAD)
			}
			// Once more, untimed, keeping the payload to compare.
			want := bytes.Clone(payload)
			domain.SealChunk(a, obj, payload, chunkAD)
			checkSealed(b, a, obj, chunkAD, want)
		})
	}
}

// BenchmarkPadSealCopy is SealChunk with the payload in a separate buffer, which
// SealChunk copies into the object: the cost of a caller that does not read
// straight into the object buffer.
func BenchmarkPadSealCopy(b *testing.B) {
	a := newAEAD(b)
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			obj := make([]byte, size)
			payload := pattern(n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				domain.SealChunk(a, obj, payload, chunkAD)
			}
			checkSealed(b, a, obj, chunkAD, payload)
		})
	}
}

// BenchmarkPad is domain.EncodeFrame alone, with the payload in a separate
// buffer: the length prefix and a copy (at full capacity there is no padding to
// zero; BenchmarkPadHalf covers that).
func BenchmarkPad(b *testing.B) {
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			frame := make([]byte, n+domain.FrameHeaderSize)
			payload := pattern(n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				domain.EncodeFrame(frame, payload)
			}
			checkFrame(b, frame, payload)
		})
	}
}

// BenchmarkPadHalf is EncodeFrame of a payload that fills half the frame: a copy
// of half the frame and zeroing of the other half. SetBytes counts the frame.
func BenchmarkPadHalf(b *testing.B) {
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			frame := make([]byte, n+domain.FrameHeaderSize)
			payload := pattern(n / 2)
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				domain.EncodeFrame(frame, payload)
			}
			checkFrame(b, frame, payload)
		})
	}
}

// BenchmarkOpenChunk authenticates, decrypts and unframes one object with
// domain.OpenChunk. OpenChunk decrypts in place, so each iteration first copies
// the sealed object into a work buffer (as a store hands the Vault a fresh
// buffer per Get); that memmove is included in the time.
func BenchmarkOpenChunk(b *testing.B) {
	a := newAEAD(b)
	for _, size := range objectSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			n := payloadFor(size)
			sealed := make([]byte, size)
			domain.SealChunk(a, sealed, pattern(n), chunkAD)
			checkSealed(b, a, sealed, chunkAD, pattern(n))
			work := make([]byte, size)
			var p []byte
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(work, sealed)
				var err error
				p, err = domain.OpenChunk(a, work, chunkAD)
				if err != nil || len(p) != n {
					b.Fatalf("OpenChunk: %d bytes, %v", len(p), err)
				}
			}
			if !bytes.Equal(p, pattern(n)) {
				b.Fatal("OpenChunk returned other bytes than were sealed")
			}
		})
	}
}
