// Package suite implements domain.Crypto, the port through which the Vault
// reaches cryptography, with the aead and kdf packages.
//
// Keys:
//
//   - A KEK is derived from the passphrase by the KDF its spec names, after the
//     spec passed the Suite's kdf.Policy. It is a key-committing AEAD
//     (package aead) over the derived 32-byte key. Its key-check value is
//     HKDF-SHA256(kek, salt = nil, info = "aegis/v1 key check", 32 bytes),
//     computed once; it is stored in the vault header and tells a wrong
//     passphrase from a corrupted store without revealing the key.
//   - A DEK is 32 bytes from crypto/rand, also used through package aead.
//   - KEK.Wrap seals a DEK's 32 key bytes under the KEK with the caller's
//     associated data; a wrapped DEK is WrappedSize (92) bytes. KEK.Unwrap
//     opens it and fails with an error wrapping domain.ErrIntegrity when the
//     bytes or the associated data differ.
//
// The KEK seals both wrapped DEKs and whatever else the caller seals with it
// directly (for example a manifest). Roles are kept apart by the associated
// data the caller passes, which must name the role, the vault and the position
// of each object.
package suite

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

const (
	// KeyCheckSize is the size of a KEK's key-check value.
	KeyCheckSize = 32
	// WrappedSize is the size of a wrapped DEK: its 32 key bytes sealed by the KEK.
	WrappedSize = aead.KeySize + aead.Overhead

	infoKeyCheck = "aegis/v1 key check"
)

var (
	_ domain.Crypto = (*Suite)(nil)
	_ domain.KEK    = (*KEK)(nil)
	_ domain.DEK    = (*DEK)(nil)
)

// Suite implements domain.Crypto under one kdf.Policy. It is stateless apart
// from the policy and safe for concurrent use.
type Suite struct {
	policy kdf.Policy
}

// New returns a Suite that checks KDF specs against policy and gives new specs
// the policy's defaults.
func New(policy kdf.Policy) *Suite { return &Suite{policy: policy} }

// Default returns the Suite the product uses: New(kdf.DefaultPolicy()).
func Default() *Suite { return New(kdf.DefaultPolicy()) }

// Policy returns the Suite's KDF policy.
func (s *Suite) Policy() kdf.Policy { return s.policy }

// NewKDFSpec returns the policy's default parameters of the named KDF ("" means
// PBKDF2-SHA256) with a fresh 16-byte random salt.
func (s *Suite) NewKDFSpec(name string) (domain.KDFSpec, error) { return s.policy.NewSpec(name) }

// CheckKDF rejects an unknown KDF name (domain.ErrUnsupportedVersion) and
// parameters outside the policy's bounds (domain.ErrKDFParams).
func (s *Suite) CheckKDF(spec domain.KDFSpec) error { return s.policy.Check(spec) }

// DeriveKEK checks spec against the policy, then derives the KEK from
// passphrase. A spec that fails the check costs nothing.
func (s *Suite) DeriveKEK(passphrase []byte, spec domain.KDFSpec) (domain.KEK, error) {
	key, err := s.policy.Derive(passphrase, spec)
	if err != nil {
		return nil, err
	}
	defer key.Destroy()
	return newKEK(key)
}

// NewDEK returns a fresh data-encryption key of 32 bytes from crypto/rand.
func (s *Suite) NewDEK() (domain.DEK, error) {
	return newDEK(secret.Random(aead.KeySize))
}

// KEK is the key-encryption key derived from a passphrase. It implements
// domain.KEK. It is safe for concurrent use, except Destroy, which must not
// run concurrently with any other method; any use after Destroy panics.
//
// A KEK never prints key material: fmt shows "suite.KEK(redacted)".
type KEK struct {
	aead      *aead.AEAD
	check     [KeyCheckSize]byte
	destroyed bool
}

// newKEK builds a KEK over key. It does not retain key.
func newKEK(key *secret.Key) (*KEK, error) {
	a, err := aead.New(key)
	if err != nil {
		return nil, err
	}
	check, err := hkdf.Key(sha256.New, key.Bytes(), nil, infoKeyCheck, KeyCheckSize)
	if err != nil {
		a.Destroy()
		return nil, fmt.Errorf("aegis/crypto: deriving the key-check value: %w", err)
	}
	k := &KEK{aead: a}
	copy(k.check[:], check)
	return k, nil
}

// PrefixSize returns the number of bytes before the ciphertext of a sealed message.
func (k *KEK) PrefixSize() int { return k.aead.PrefixSize() }

// Overhead returns the number of bytes a sealed message adds to its plaintext.
func (k *KEK) Overhead() int { return k.aead.Overhead() }

// Seal appends the sealed form of plaintext, bound to ad, to dst (see aead.AEAD.Seal).
func (k *KEK) Seal(dst, plaintext, ad []byte) []byte { return k.aead.Seal(dst, plaintext, ad) }

// SealInPlace seals obj in place (see aead.AEAD.SealInPlace).
func (k *KEK) SealInPlace(obj, ad []byte) { k.aead.SealInPlace(obj, ad) }

// Open authenticates sealed with ad and appends its plaintext to dst (see aead.AEAD.Open).
func (k *KEK) Open(dst, sealed, ad []byte) ([]byte, error) { return k.aead.Open(dst, sealed, ad) }

// KeyCheck returns a copy of the KEK's 32-byte key-check value. Compare it with
// the stored one using crypto/subtle.ConstantTimeCompare (or KeyCheckEqual).
func (k *KEK) KeyCheck() []byte {
	k.mustBeLive()
	c := k.check
	return c[:]
}

// KeyCheckEqual reports, in constant time, whether stored is this KEK's
// key-check value.
func (k *KEK) KeyCheckEqual(stored []byte) bool {
	k.mustBeLive()
	return subtle.ConstantTimeCompare(k.check[:], stored) == 1
}

// Wrap seals dek's key material under the KEK with associated data ad. dek must
// come from this package (Suite.NewDEK or KEK.Unwrap); any other DEK, or one
// already destroyed, is an error wrapping domain.ErrInvalidInput.
func (k *KEK) Wrap(dek domain.DEK, ad []byte) ([]byte, error) {
	k.mustBeLive()
	d, ok := dek.(*DEK)
	if !ok || d == nil {
		return nil, fmt.Errorf("aegis/crypto: cannot wrap a DEK of type %T: %w", dek, domain.ErrInvalidInput)
	}
	if d.key.Destroyed() {
		return nil, fmt.Errorf("aegis/crypto: cannot wrap a destroyed DEK: %w", domain.ErrInvalidInput)
	}
	return k.aead.Seal(make([]byte, 0, WrappedSize), d.key.Bytes(), ad), nil
}

// Unwrap opens a DEK wrapped by Wrap with the same associated data. Any
// failure — other bytes, other ad, another KEK — is aead.ErrAuthentication,
// which wraps domain.ErrIntegrity.
func (k *KEK) Unwrap(wrapped, ad []byte) (domain.DEK, error) {
	k.mustBeLive()
	if len(wrapped) != WrappedSize {
		return nil, aead.ErrAuthentication
	}
	var buf [aead.KeySize]byte
	raw, err := k.aead.Open(buf[:0], wrapped, ad)
	if err != nil {
		return nil, err
	}
	key := secret.New(raw)
	clear(buf[:])
	return newDEK(key)
}

// Destroy zeroes the KEK's key material (see aead.AEAD.Destroy for what cannot
// be zeroed) and its key-check value. It is idempotent.
func (k *KEK) Destroy() {
	if k == nil || k.destroyed {
		return
	}
	k.destroyed = true
	k.aead.Destroy()
	clear(k.check[:])
}

// mustBeLive guards the methods that do not reach the AEAD, which has its own guard.
func (k *KEK) mustBeLive() {
	if k == nil || k.aead == nil || k.destroyed {
		panic("aegis/crypto: use of a nil, zero or destroyed KEK")
	}
}

// DEK is a data-encryption key. It implements domain.DEK. It is safe for
// concurrent use, except Destroy, which must not run concurrently with any
// other method; any use after Destroy panics.
//
// A DEK never prints key material: fmt shows "suite.DEK(redacted)".
type DEK struct {
	key  *secret.Key
	aead *aead.AEAD
}

// newDEK builds a DEK that owns key.
func newDEK(key *secret.Key) (*DEK, error) {
	a, err := aead.New(key)
	if err != nil {
		key.Destroy()
		return nil, err
	}
	return &DEK{key: key, aead: a}, nil
}

// PrefixSize returns the number of bytes before the ciphertext of a sealed message.
func (d *DEK) PrefixSize() int { return d.aead.PrefixSize() }

// Overhead returns the number of bytes a sealed message adds to its plaintext.
func (d *DEK) Overhead() int { return d.aead.Overhead() }

// Seal appends the sealed form of plaintext, bound to ad, to dst (see aead.AEAD.Seal).
func (d *DEK) Seal(dst, plaintext, ad []byte) []byte { return d.aead.Seal(dst, plaintext, ad) }

// SealInPlace seals obj in place (see aead.AEAD.SealInPlace).
func (d *DEK) SealInPlace(obj, ad []byte) { d.aead.SealInPlace(obj, ad) }

// Open authenticates sealed with ad and appends its plaintext to dst (see aead.AEAD.Open).
func (d *DEK) Open(dst, sealed, ad []byte) ([]byte, error) { return d.aead.Open(dst, sealed, ad) }

// Destroy zeroes the DEK's key and derived key material (see
// aead.AEAD.Destroy for what cannot be zeroed). It is idempotent.
func (d *DEK) Destroy() {
	if d == nil {
		return
	}
	d.key.Destroy()
	d.aead.Destroy()
}

// String returns "suite.DEK(redacted)": a DEK never prints key material.
func (d *DEK) String() string { return "suite.DEK(redacted)" }

// Format implements fmt.Formatter so that every verb prints String's text.
func (d *DEK) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(d.String())) }

// String returns "suite.KEK(redacted)": a KEK never prints key material.
func (k *KEK) String() string { return "suite.KEK(redacted)" }

// Format implements fmt.Formatter so that every verb prints String's text.
func (k *KEK) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(k.String())) }
