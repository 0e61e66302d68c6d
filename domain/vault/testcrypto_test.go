package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/ai-pantheon/aegis/domain"
)

// testCrypto is a domain.Crypto for the in-package tests (the real suite lives in
// the crypto module, which imports this one): AES-256-GCM with random nonces, and a
// "KDF" of one HMAC-SHA256. Not for use outside tests.
type testCrypto struct{}

func newTestCrypto() domain.Crypto { return testCrypto{} }

func (testCrypto) NewKDFSpec(name string) (domain.KDFSpec, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: 1, Salt: salt}, nil
}

func (testCrypto) CheckKDF(spec domain.KDFSpec) error {
	if spec.Name != domain.KDFPBKDF2SHA256 {
		return fmt.Errorf("%w: test KDF", domain.ErrUnsupportedVersion)
	}
	return nil
}

func (testCrypto) DeriveKEK(passphrase []byte, spec domain.KDFSpec) (domain.KEK, error) {
	m := hmac.New(sha256.New, spec.Salt)
	m.Write(passphrase)
	return newGCM(m.Sum(nil)), nil
}

func (testCrypto) NewDEK() (domain.DEK, error) {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return newGCM(k), nil
}

type gcmKey struct {
	key  []byte
	aead cipher.AEAD
}

func newGCM(key []byte) *gcmKey {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return &gcmKey{key: key, aead: a}
}

func (g *gcmKey) PrefixSize() int { return 12 }
func (g *gcmKey) Overhead() int   { return 28 }

func (g *gcmKey) Seal(dst, plaintext, ad []byte) []byte {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	dst = append(dst, nonce...)
	return g.aead.Seal(dst, nonce, plaintext, ad)
}

func (g *gcmKey) SealInPlace(obj, ad []byte) {
	_, _ = rand.Read(obj[:12])
	g.aead.Seal(obj[12:12], obj[:12], obj[12:len(obj)-16], ad)
}

func (g *gcmKey) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < 28 {
		return nil, domain.ErrIntegrity
	}
	out, err := g.aead.Open(dst, sealed[:12], sealed[12:], ad)
	if err != nil {
		return nil, domain.ErrIntegrity
	}
	return out, nil
}

func (g *gcmKey) KeyCheck() []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte("kcv"))
	return m.Sum(nil)
}

func (g *gcmKey) Wrap(dek domain.DEK, ad []byte) ([]byte, error) {
	return g.Seal(nil, dek.(*gcmKey).key, ad), nil
}

func (g *gcmKey) Unwrap(wrapped, ad []byte) (domain.DEK, error) {
	k, err := g.Open(nil, wrapped, ad)
	if err != nil {
		return nil, err
	}
	return newGCM(k), nil
}

func (g *gcmKey) Destroy() {}
