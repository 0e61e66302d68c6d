package domain

// KDF names as stored in the vault header.
const (
	KDFPBKDF2SHA256 = "pbkdf2-sha256"
	KDFArgon2id     = "argon2id"
)

// KDFSpec says how a passphrase becomes the key-encryption key: the function, its
// parameters and the salt. It is stored in clear in the vault header. Parameters
// read from a header are checked against a floor and a ceiling (Crypto.CheckKDF)
// before any work is done with them.
type KDFSpec struct {
	Name string // KDFPBKDF2SHA256 or KDFArgon2id
	// PBKDF2-HMAC-SHA256.
	Iterations uint32
	// Argon2id (RFC 9106): passes, memory in KiB, lanes.
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
	// Salt is random, 16 to 64 bytes.
	Salt []byte
}

// AEAD seals and opens messages under one key. Implementations are key-committing
// (a sealed message opens under at most one key), draw nonces from crypto/rand, and
// return one opaque error wrapping ErrIntegrity for any authentication failure.
// They are safe for concurrent use.
type AEAD interface {
	// PrefixSize is the number of bytes written before the ciphertext (nonce and commitment).
	PrefixSize() int
	// Overhead is the total number of bytes a sealed message adds to its plaintext.
	// The tag (Overhead()-PrefixSize() bytes) follows the ciphertext.
	Overhead() int
	// Seal appends the sealed form of plaintext to dst and returns the result.
	// If dst has enough spare capacity it does not allocate. The output must not
	// overlap plaintext or ad; use SealInPlace to seal without a copy.
	Seal(dst, plaintext, ad []byte) []byte
	// SealInPlace seals obj[PrefixSize():len(obj)-(Overhead()-PrefixSize())] in
	// place: it writes the prefix into obj[:PrefixSize()], encrypts the middle and
	// writes the tag into the last Overhead()-PrefixSize() bytes. It never allocates.
	SealInPlace(obj, ad []byte)
	// Open appends the plaintext of sealed to dst. Passing sealed[PrefixSize():PrefixSize()]
	// as dst opens in place.
	Open(dst, sealed, ad []byte) ([]byte, error)
}

// DEK is a data-encryption key: one per category and generation. Destroy must not
// run concurrently with other methods; using a key after Destroy panics.
type DEK interface {
	AEAD
	// Destroy zeroes the key material. The DEK must not be used afterwards.
	Destroy()
}

// KEK is the key-encryption key derived from the passphrase. It exists in memory only.
type KEK interface {
	AEAD
	// KeyCheck returns the 32-byte key-check value stored in the vault header. It is
	// derived from the key with a one-way function and tells a wrong passphrase from a
	// corrupted store. Compare it in constant time.
	KeyCheck() []byte
	// Wrap seals dek's key material with associated data ad.
	Wrap(dek DEK, ad []byte) ([]byte, error)
	// Unwrap opens a wrapped key sealed with the same ad, or fails with ErrIntegrity.
	Unwrap(wrapped, ad []byte) (DEK, error)
	// Destroy zeroes the key material.
	Destroy()
}

// Crypto is the port through which the Vault reaches cryptographic primitives.
// Package crypto implements it.
type Crypto interface {
	// NewKDFSpec returns the default parameters of the named KDF ("" means
	// PBKDF2-SHA256) with a fresh random salt.
	NewKDFSpec(name string) (KDFSpec, error)
	// CheckKDF rejects an unknown KDF name (ErrUnsupportedVersion) and parameters below
	// the floor or above the ceiling (ErrKDFParams).
	CheckKDF(spec KDFSpec) error
	// DeriveKEK runs the KDF. It calls CheckKDF first.
	DeriveKEK(passphrase []byte, spec KDFSpec) (KEK, error)
	// NewDEK generates a fresh random data-encryption key.
	NewDEK() (DEK, error)
}
