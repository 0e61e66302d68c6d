// Package aead implements key-committing AES-256-GCM, the AEAD behind every
// key in Aegis (domain.AEAD).
//
// # Construction
//
// From a 32-byte key K, New derives two keys once:
//
//	encKey    = HKDF-SHA256(K, salt = nil, info = "aegis/v1 aead enc",    32 bytes)
//	commitKey = HKDF-SHA256(K, salt = nil, info = "aegis/v1 aead commit", 32 bytes)
//
// Seal draws a 12-byte nonce from crypto/rand and computes
//
//	commitment = HMAC-SHA256(commitKey, "aegis/v1 commit" || nonce)   (32 bytes)
//	body       = AES-256-GCM(encKey).Seal(nonce, plaintext, additional data = ad)
//
// A sealed message is laid out as
//
//	nonce (12) || commitment (32) || GCM ciphertext (len(plaintext)) || GCM tag (16)
//
// so PrefixSize is 44 bytes and Overhead is 60 bytes.
//
// Open rejects a message shorter than 60 bytes, recomputes the commitment from
// the nonce and compares it in constant time (crypto/subtle) before it runs
// GCM's authenticated decryption. Every failure, whatever its cause, is the one
// opaque error ErrAuthentication, which wraps domain.ErrIntegrity.
//
// # Key commitment
//
// AES-GCM alone is not key-committing: one can craft a ciphertext that opens
// without error under two different keys ("invisible salamanders"). Here a
// message also carries a commitment to its key. For a message to open under two
// different keys K1 and K2, their commitments for the same nonce must be equal:
// HMAC-SHA256(commitKey1, m) = HMAC-SHA256(commitKey2, m) with commitKey1 ≠
// commitKey2 (or a collision of HKDF-SHA256 giving commitKey1 = commitKey2).
// Either needs a collision of HMAC-SHA256, that is of SHA-256 — about 2^128
// work. The commitment covers the nonce, so it is also fresh for every message.
//
// # Nonces
//
// Nonces are random. With 96-bit random nonces, NIST SP 800-38D limits one key
// to 2^32 messages; Aegis keys (one DEK per category and generation) stay far
// below that.
//
// # Buffers and allocations
//
// Seal appends to dst and does not allocate when dst has spare capacity for
// len(plaintext)+Overhead bytes. SealInPlace and Open in place (dst =
// sealed[PrefixSize:PrefixSize]) never allocate. HMAC states are pooled, so
// the hot path is allocation-free. An AEAD is safe for concurrent use.
//
// Misuse by the caller — an in-place buffer shorter than Overhead, buffers that
// overlap in a way that cannot work, use after Destroy — panics, as in
// golang.org/x/crypto.
package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// Sizes of the construction, in bytes.
const (
	// KeySize is the size of the key given to New.
	KeySize = 32
	// NonceSize is the size of the random GCM nonce at the start of a sealed message.
	NonceSize = 12
	// CommitmentSize is the size of the key commitment that follows the nonce.
	CommitmentSize = sha256.Size
	// TagSize is the size of the GCM tag at the end of a sealed message.
	TagSize = 16
	// PrefixSize is the number of bytes before the ciphertext: nonce and commitment.
	PrefixSize = NonceSize + CommitmentSize
	// Overhead is the number of bytes a sealed message adds to its plaintext.
	Overhead = PrefixSize + TagSize
)

// Domain-separation labels. They are part of the format: changing one changes
// every key and every sealed message.
const (
	infoEnc     = "aegis/v1 aead enc"
	infoCommit  = "aegis/v1 aead commit"
	labelCommit = "aegis/v1 commit"
)

// commitLabel is labelCommit as a byte slice allocated once, so that writing
// it into the HMAC does not allocate on every call.
var commitLabel = []byte(labelCommit)

// ErrAuthentication is the one error Open returns for any message that does
// not authenticate: too short, tampered with, truncated, sealed under another
// key or with other associated data. It wraps domain.ErrIntegrity, so
// errors.Is(err, domain.ErrIntegrity) holds.
var ErrAuthentication error = authError{}

type authError struct{}

func (authError) Error() string { return "aegis/crypto: message authentication failed" }
func (authError) Unwrap() error { return domain.ErrIntegrity }

// AEAD is key-committing AES-256-GCM under one key. It implements domain.AEAD.
// Create one with New. It is safe for concurrent use, except Destroy, which
// must not run concurrently with any other method.
//
// An AEAD never prints its key material: fmt shows "aead.AEAD(redacted)" for
// every verb.
type AEAD struct {
	gcm cipher.AEAD
	// commitKey is a *secret.Key, not a []byte, so that fmt printing an AEAD by
	// reflection (as a field of another struct) cannot show it.
	commitKey *secret.Key
	macs      sync.Pool // of *macState keyed with commitKey
	destroyed bool
}

// macState is one pooled HMAC-SHA256 state keyed with commitKey, with scratch
// space for the commitment Open recomputes.
type macState struct {
	h   hash.Hash
	sum [CommitmentSize]byte
}

var _ domain.AEAD = (*AEAD)(nil)

// New derives the encryption and commitment keys from key (see the package
// documentation) and returns an AEAD. key must be KeySize bytes; New does not
// retain it, so the caller may destroy it as soon as New returns.
func New(key *secret.Key) (*AEAD, error) {
	if key == nil || key.Destroyed() {
		return nil, fmt.Errorf("aegis/crypto: AEAD key is nil or destroyed: %w", domain.ErrInvalidInput)
	}
	if key.Len() != KeySize {
		return nil, fmt.Errorf("aegis/crypto: AEAD key is %d bytes, want %d: %w", key.Len(), KeySize, domain.ErrInvalidInput)
	}
	encKey, err := hkdf.Key(sha256.New, key.Bytes(), nil, infoEnc, KeySize)
	if err != nil {
		return nil, fmt.Errorf("aegis/crypto: deriving the AEAD encryption key: %w", err)
	}
	// The AES key schedule keeps its own copy of encKey; ours is not needed
	// once the cipher exists.
	defer clear(encKey)
	gcm, err := newGCM(encKey)
	if err != nil {
		return nil, err
	}
	commitKey, err := hkdf.Key(sha256.New, key.Bytes(), nil, infoCommit, KeySize)
	if err != nil {
		return nil, fmt.Errorf("aegis/crypto: deriving the AEAD commitment key: %w", err)
	}
	a := &AEAD{gcm: gcm, commitKey: secret.New(commitKey)}
	clear(commitKey)
	a.macs.New = func() any {
		// hmac.New copies the key into its own state.
		return &macState{h: hmac.New(sha256.New, a.commitKey.Bytes())}
	}
	return a, nil
}

// newGCM returns AES-256-GCM with a 12-byte nonce and a 16-byte tag under
// encKey. It is the only place the GCM primitive is built, so the known-answer
// test of the GCM specification's vectors runs through it.
func newGCM(encKey []byte) (cipher.AEAD, error) {
	if len(encKey) != KeySize {
		return nil, fmt.Errorf("aegis/crypto: AES-256 key is %d bytes, want %d: %w", len(encKey), KeySize, domain.ErrInvalidInput)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("aegis/crypto: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("aegis/crypto: %w", err)
	}
	if gcm.NonceSize() != NonceSize || gcm.Overhead() != TagSize {
		return nil, errors.New("aegis/crypto: unexpected AES-GCM parameters")
	}
	return gcm, nil
}

// PrefixSize returns the number of bytes before the ciphertext (nonce and
// commitment): 44.
func (a *AEAD) PrefixSize() int { return PrefixSize }

// Overhead returns the number of bytes a sealed message adds to its plaintext: 60.
func (a *AEAD) Overhead() int { return Overhead }

// Seal appends the sealed form of plaintext, authenticated together with ad,
// to dst and returns the updated slice. It does not allocate if dst has
// capacity for len(plaintext)+Overhead more bytes.
//
// The output may not overlap plaintext or ad: to seal in place use SealInPlace.
func (a *AEAD) Seal(dst, plaintext, ad []byte) []byte {
	a.mustBeLive()
	ret, out := sliceForAppend(dst, len(plaintext)+Overhead)
	if anyOverlap(out, plaintext) || anyOverlap(out, ad) {
		panic("aegis/crypto: invalid buffer overlap in Seal; use SealInPlace to seal in place")
	}
	// crypto/rand.Read never returns an error: it crashes the program
	// irrecoverably if the operating system's generator fails.
	rand.Read(out[:NonceSize])
	a.seal(out, plaintext, ad)
	return ret
}

// SealInPlace seals obj in place. obj is laid out as
//
//	[PrefixSize bytes of space][plaintext][TagSize bytes of space]
//
// SealInPlace writes the nonce and commitment into the first PrefixSize bytes,
// encrypts the plaintext where it lies and writes the tag into the last TagSize
// bytes. It never allocates. It panics if len(obj) < Overhead or if ad overlaps obj.
func (a *AEAD) SealInPlace(obj, ad []byte) {
	a.mustBeLive()
	if len(obj) < Overhead {
		panic("aegis/crypto: SealInPlace buffer shorter than Overhead")
	}
	if anyOverlap(obj, ad) {
		panic("aegis/crypto: invalid buffer overlap in SealInPlace")
	}
	rand.Read(obj[:NonceSize])
	a.seal(obj, obj[PrefixSize:len(obj)-TagSize], ad)
}

// sealWithNonce is Seal with a caller-chosen nonce. It exists for the
// known-answer test only: production code never chooses a nonce.
func (a *AEAD) sealWithNonce(dst, nonce, plaintext, ad []byte) []byte {
	a.mustBeLive()
	if len(nonce) != NonceSize {
		panic("aegis/crypto: bad nonce length")
	}
	ret, out := sliceForAppend(dst, len(plaintext)+Overhead)
	copy(out[:NonceSize], nonce)
	a.seal(out, plaintext, ad)
	return ret
}

// seal fills out, whose first NonceSize bytes already hold the nonce and whose
// length is len(plaintext)+Overhead. plaintext is either disjoint from out or
// exactly out[PrefixSize:len(out)-TagSize].
func (a *AEAD) seal(out, plaintext, ad []byte) {
	nonce := out[:NonceSize]
	a.commit(out[NonceSize:NonceSize:PrefixSize], nonce)
	a.gcm.Seal(out[PrefixSize:PrefixSize], nonce, plaintext, ad)
}

// commit appends the commitment for nonce to dst and returns the result. It
// does not allocate when dst has room for CommitmentSize more bytes.
func (a *AEAD) commit(dst, nonce []byte) []byte {
	m := a.macs.Get().(*macState)
	dst = m.commit(dst, nonce)
	a.macs.Put(m)
	return dst
}

// commit appends HMAC-SHA256(commitKey, "aegis/v1 commit" || nonce) to dst.
func (m *macState) commit(dst, nonce []byte) []byte {
	m.h.Reset()
	m.h.Write(commitLabel)
	m.h.Write(nonce)
	return m.h.Sum(dst)
}

// Open authenticates sealed with ad and appends its plaintext to dst. To open
// in place, pass sealed[PrefixSize:PrefixSize] as dst. Any failure returns
// ErrAuthentication; dst's spare capacity may then have been overwritten.
func (a *AEAD) Open(dst, sealed, ad []byte) ([]byte, error) {
	a.mustBeLive()
	if len(sealed) < Overhead {
		return nil, ErrAuthentication
	}
	nonce := sealed[:NonceSize]
	m := a.macs.Get().(*macState)
	want := m.commit(m.sum[:0], nonce)
	ok := subtle.ConstantTimeCompare(want, sealed[NonceSize:PrefixSize]) == 1
	a.macs.Put(m)
	if !ok {
		return nil, ErrAuthentication
	}
	out, err := a.gcm.Open(dst, nonce, sealed[PrefixSize:], ad)
	if err != nil {
		return nil, ErrAuthentication
	}
	return out, nil
}

// Destroy zeroes the derived commitment key this AEAD holds and makes any later
// use of it panic. The derived encryption key was zeroed when New returned.
//
// Not everything can be zeroed: the AES key schedule inside crypto/aes and the
// HMAC states (keyed pads) inside crypto/hmac, including those still in the
// pool, are unexported standard-library state. Destroy drops its references to
// them so that the garbage collector can reclaim them.
func (a *AEAD) Destroy() {
	if a == nil || a.destroyed {
		return
	}
	a.destroyed = true
	a.commitKey.Destroy()
	a.gcm = nil
	a.macs.New = nil
	// Drain what the pool gives back; entries cached on other Ps are dropped
	// by the garbage collector.
	for m, ok := a.macs.Get().(*macState); ok; m, ok = a.macs.Get().(*macState) {
		m.h = nil
	}
}

// String returns "aead.AEAD(redacted)": an AEAD never prints key material.
func (a *AEAD) String() string { return "aead.AEAD(redacted)" }

// Format implements fmt.Formatter so that every verb prints String's text.
func (a *AEAD) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(a.String())) }

func (a *AEAD) mustBeLive() {
	if a == nil || a.gcm == nil {
		panic("aegis/crypto: use of a nil, zero or destroyed AEAD")
	}
}

// sliceForAppend extends in by n bytes. It returns the whole slice and the
// n-byte tail. (As in crypto/cipher.)
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
