package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// suiteCrypto is crypto/suite (with kdf.InsecureTestPolicy's PBKDF2 floor) rebuilt
// from the standard library, with its randomness (salts, DEKs, nonces) drawn from
// a reader the test chooses. It exists for the format vectors (vector_test.go):
// the domain module imports only the standard library, so its tests cannot use
// crypto/suite, and keyedCrypto (fakes_test.go) does not lay out sealed messages
// as the suite does. Only PBKDF2-SHA256 is implemented (Argon2id is not in the
// standard library).
//
// The construction, as docs/format.md ("Sealed messages", "Keys") gives it:
//
//	KEK bytes  = PBKDF2-HMAC-SHA256(passphrase, salt, iterations, 32)
//	key check  = HKDF-SHA256(KEK bytes, salt = nil, info = "aegis/v1 key check", 32)
//	DEK bytes  = 32 random bytes
//	for a key K (KEK or DEK):
//	  encKey    = HKDF-SHA256(K, nil, "aegis/v1 aead enc", 32)
//	  commitKey = HKDF-SHA256(K, nil, "aegis/v1 aead commit", 32)
//	  sealed    = nonce (12, random) || HMAC-SHA256(commitKey, "aegis/v1 commit" || nonce)
//	              || AES-256-GCM(encKey).Seal(nonce, plaintext, ad)
//	wrapped DEK = KEK.Seal(DEK bytes, ad), 92 bytes
//
// TestFormatVectorOpensWithTheSuite (crypto/suite/vector_test.go) opens the vault
// this writes with the real suite, so the two cannot drift apart unnoticed.
type suiteCrypto struct {
	random io.Reader
}

// Floors of kdf.InsecureTestPolicy, which the vectors are made under.
const (
	suitePBKDF2Min  = 1_000
	suitePBKDF2Max  = 10_000_000
	suiteSaltLen    = 16
	suiteAEADPrefix = 12 + 32
	suiteAEADTag    = 16
	suiteKeySize    = 32
	suiteWrapped    = suiteKeySize + suiteAEADPrefix + suiteAEADTag
)

func (c suiteCrypto) NewKDFSpec(name string) (domain.KDFSpec, error) {
	if name != "" && name != domain.KDFPBKDF2SHA256 {
		return domain.KDFSpec{}, fmt.Errorf("%w: KDF %q (the test suite has only PBKDF2)", domain.ErrUnsupportedVersion, name)
	}
	s := domain.KDFSpec{Name: domain.KDFPBKDF2SHA256, Iterations: suitePBKDF2Min, Salt: make([]byte, suiteSaltLen)}
	if _, err := io.ReadFull(c.random, s.Salt); err != nil {
		return domain.KDFSpec{}, err
	}
	return s, nil
}

func (suiteCrypto) CheckKDF(s domain.KDFSpec) error {
	if s.Name != domain.KDFPBKDF2SHA256 {
		return fmt.Errorf("%w: KDF %q (the test suite has only PBKDF2)", domain.ErrUnsupportedVersion, s.Name)
	}
	if s.Time != 0 || s.MemoryKiB != 0 || s.Threads != 0 || s.Iterations < suitePBKDF2Min || s.Iterations > suitePBKDF2Max ||
		len(s.Salt) < 16 || len(s.Salt) > 64 {
		return fmt.Errorf("%w: %+v", domain.ErrKDFParams, s)
	}
	return nil
}

func (c suiteCrypto) DeriveKEK(passphrase []byte, spec domain.KDFSpec) (domain.KEK, error) {
	if err := c.CheckKDF(spec); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(passphrase), spec.Salt, int(spec.Iterations), suiteKeySize)
	if err != nil {
		return nil, err
	}
	k, err := newSuiteKey(key, c.random)
	if err != nil {
		return nil, err
	}
	if k.check, err = hkdf.Key(sha256.New, key, nil, "aegis/v1 key check", 32); err != nil {
		return nil, err
	}
	return k, nil
}

func (c suiteCrypto) NewDEK() (domain.DEK, error) {
	key := make([]byte, suiteKeySize)
	if _, err := io.ReadFull(c.random, key); err != nil {
		return nil, err
	}
	return newSuiteKey(key, c.random)
}

// suiteKey is a KEK (check set) or a DEK.
type suiteKey struct {
	key       []byte
	gcm       cipher.AEAD
	commitKey []byte
	check     []byte
	random    io.Reader
}

func newSuiteKey(key []byte, random io.Reader) (*suiteKey, error) {
	encKey, err := hkdf.Key(sha256.New, key, nil, "aegis/v1 aead enc", suiteKeySize)
	if err != nil {
		return nil, err
	}
	commitKey, err := hkdf.Key(sha256.New, key, nil, "aegis/v1 aead commit", suiteKeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &suiteKey{key: key, gcm: gcm, commitKey: commitKey, random: random}, nil
}

func (k *suiteKey) PrefixSize() int { return suiteAEADPrefix }
func (k *suiteKey) Overhead() int   { return suiteAEADPrefix + suiteAEADTag }

func (k *suiteKey) commitment(nonce []byte) []byte {
	m := hmac.New(sha256.New, k.commitKey)
	m.Write([]byte("aegis/v1 commit"))
	m.Write(nonce)
	return m.Sum(nil)
}

func (k *suiteKey) Seal(dst, plaintext, ad []byte) []byte {
	nonce := make([]byte, 12)
	if _, err := io.ReadFull(k.random, nonce); err != nil {
		panic(err)
	}
	dst = append(dst, nonce...)
	dst = append(dst, k.commitment(nonce)...)
	return k.gcm.Seal(dst, nonce, plaintext, ad)
}

func (k *suiteKey) SealInPlace(obj, ad []byte) {
	if _, err := io.ReadFull(k.random, obj[:12]); err != nil {
		panic(err)
	}
	copy(obj[12:suiteAEADPrefix], k.commitment(obj[:12]))
	k.gcm.Seal(obj[suiteAEADPrefix:suiteAEADPrefix], obj[:12], obj[suiteAEADPrefix:len(obj)-suiteAEADTag], ad)
}

func (k *suiteKey) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < k.Overhead() || subtle.ConstantTimeCompare(k.commitment(sealed[:12]), sealed[12:suiteAEADPrefix]) != 1 {
		return nil, errAuth
	}
	pt, err := k.gcm.Open(dst, sealed[:12], sealed[suiteAEADPrefix:], ad)
	if err != nil {
		return nil, errAuth
	}
	return pt, nil
}

func (k *suiteKey) KeyCheck() []byte { return append([]byte(nil), k.check...) }

func (k *suiteKey) Wrap(dek domain.DEK, ad []byte) ([]byte, error) {
	d, ok := dek.(*suiteKey)
	if !ok {
		return nil, fmt.Errorf("%w: not a test suite key", domain.ErrInvalidInput)
	}
	return k.Seal(nil, d.key, ad), nil
}

func (k *suiteKey) Unwrap(wrapped, ad []byte) (domain.DEK, error) {
	if len(wrapped) != suiteWrapped {
		return nil, errAuth
	}
	key, err := k.Open(nil, wrapped, ad)
	if err != nil {
		return nil, err
	}
	return newSuiteKey(key, k.random)
}

func (k *suiteKey) Destroy() { clear(k.key) }

// seededRandom is a deterministic, concurrency-safe reader: ChaCha8 keyed with
// SHA-256(label). The vectors are written with two of them (the vault's
// Config.Random, and the crypto's salts, DEKs and nonces), so that writing them
// again gives the same bytes unless the writer changed.
type seededRandom struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newSeededRandom(label string) *seededRandom {
	return &seededRandom{r: rand.NewChaCha8(sha256.Sum256([]byte(label)))}
}

func (s *seededRandom) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(p)
}

var (
	_ domain.Crypto = suiteCrypto{}
	_ domain.KEK    = (*suiteKey)(nil)
)
