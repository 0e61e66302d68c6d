package ohttp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cloudflare/circl/hpke"
)

// Media types of RFC 9458 section 9.
const (
	// RequestMediaType is the media type of an Encapsulated Request.
	RequestMediaType = "message/ohttp-req"
	// ResponseMediaType is the media type of an Encapsulated Response.
	ResponseMediaType = "message/ohttp-res"
	// KeysMediaType is the media type of a collection of key configurations
	// (MarshalKeyConfigs, ParseKeyConfigs).
	KeysMediaType = "application/ohttp-keys"
)

// The HPKE algorithm identifiers (RFC 9180 section 7) of the one suite this
// package implements.
const (
	// KEMX25519 is DHKEM(X25519, HKDF-SHA256).
	KEMX25519 uint16 = 0x0020
	// KDFHKDFSHA256 is HKDF-SHA256.
	KDFHKDFSHA256 uint16 = 0x0001
	// AEADAES128GCM is AES-128-GCM.
	AEADAES128GCM uint16 = 0x0001
)

// The suite as circl names it, and its sizes.
var (
	supportedSuite = hpke.NewSuite(hpke.KEM_X25519_HKDF_SHA256, hpke.KDF_HKDF_SHA256, hpke.AEAD_AES128GCM)
	x25519Scheme   = hpke.KEM_X25519_HKDF_SHA256.Scheme()
)

const (
	encSize       = 32 // Nenc of DHKEM(X25519, HKDF-SHA256)
	publicKeySize = 32 // Npk
	privateSize   = 32 // Nsk
	aeadKeySize   = 16 // Nk of AES-128-GCM
	aeadNonceSize = 12 // Nn
	tagSize       = 16 // Nt
	// responseNonceSize is max(Nn, Nk), the length of the response nonce and
	// of the exported secret (RFC 9458 section 4.4).
	responseNonceSize = max(aeadNonceSize, aeadKeySize)
	headerSize        = 1 + 2 + 2 + 2 // key_id, kem_id, kdf_id, aead_id
)

// SymmetricSuite is one pair of HPKE symmetric algorithms of a key
// configuration: a KDF identifier and an AEAD identifier (RFC 9180 sections
// 7.2 and 7.3).
type SymmetricSuite struct {
	KDF, AEAD uint16
}

// String returns the identifiers in hex, such as "KDF 0x0001, AEAD 0x0001".
func (s SymmetricSuite) String() string {
	return fmt.Sprintf("KDF 0x%04x, AEAD 0x%04x", s.KDF, s.AEAD)
}

// supportedSymmetric is the symmetric suite this package implements.
var supportedSymmetric = SymmetricSuite{KDF: KDFHKDFSHA256, AEAD: AEADAES128GCM}

// KeyConfig is one key configuration (RFC 9458 section 3): the key identifier,
// the HPKE KEM and public key of a gateway, and the symmetric suites (KDF and
// AEAD pairs) the gateway accepts with that key.
type KeyConfig struct {
	KeyID     uint8
	KEM       uint16
	PublicKey []byte
	Suites    []SymmetricSuite
}

// The bounds of the HPKE Symmetric Algorithms field: 1 to 16383 suites of 4
// bytes, so that its uint16 length is 4..65532.
const maxSuites = 65532 / 4

// publicKeyLen returns Npk of a KEM, or false for a KEM whose public key
// length this package does not know (one circl's hpke package does not
// implement).
func publicKeyLen(kemID uint16) (int, bool) {
	k := hpke.KEM(kemID)
	if !k.IsValid() {
		return 0, false
	}
	return k.Scheme().PublicKeySize(), true
}

// clone returns a deep copy of c.
func (c *KeyConfig) clone() *KeyConfig {
	return &KeyConfig{KeyID: c.KeyID, KEM: c.KEM, PublicKey: bytes.Clone(c.PublicKey), Suites: slices.Clone(c.Suites)}
}

// MarshalBinary returns the encoding of RFC 9458 section 3.1. It fails if the
// KEM's public key length is unknown (ErrUnsupported), or if the public key has
// the wrong length or there are no suites or more than 16383 (ErrMalformed).
func (c *KeyConfig) MarshalBinary() ([]byte, error) {
	if c == nil {
		return nil, wrap(ErrMalformed, "key configuration: nil")
	}
	npk, ok := publicKeyLen(c.KEM)
	if !ok {
		return nil, wrap(ErrUnsupported, "key configuration %d: KEM 0x%04x has no known public key length", c.KeyID, c.KEM)
	}
	if len(c.PublicKey) != npk {
		return nil, wrap(ErrMalformed, "key configuration %d: public key of %d bytes, KEM 0x%04x takes %d", c.KeyID, len(c.PublicKey), c.KEM, npk)
	}
	if len(c.Suites) == 0 || len(c.Suites) > maxSuites {
		return nil, wrap(ErrMalformed, "key configuration %d: %d symmetric suites, want 1 to %d", c.KeyID, len(c.Suites), maxSuites)
	}
	b := make([]byte, 0, 1+2+npk+2+4*len(c.Suites))
	b = append(b, c.KeyID)
	b = binary.BigEndian.AppendUint16(b, c.KEM)
	b = append(b, c.PublicKey...)
	b = binary.BigEndian.AppendUint16(b, uint16(4*len(c.Suites)))
	for _, s := range c.Suites {
		b = binary.BigEndian.AppendUint16(b, s.KDF)
		b = binary.BigEndian.AppendUint16(b, s.AEAD)
	}
	return b, nil
}

// ParseKeyConfig parses exactly one key configuration (RFC 9458 section 3.1),
// with no bytes after it. Any symmetric suites are accepted; the KEM must be
// one whose public key length is known (ErrUnsupported otherwise). Layout
// errors wrap ErrMalformed.
func ParseKeyConfig(b []byte) (*KeyConfig, error) {
	if len(b) < 3 {
		return nil, wrap(ErrMalformed, "key configuration of %d bytes, shorter than key id and KEM", len(b))
	}
	c := &KeyConfig{KeyID: b[0], KEM: binary.BigEndian.Uint16(b[1:3])}
	npk, ok := publicKeyLen(c.KEM)
	if !ok {
		return nil, wrap(ErrUnsupported, "key configuration %d: KEM 0x%04x has no known public key length", c.KeyID, c.KEM)
	}
	rest := b[3:]
	if len(rest) < npk+2 {
		return nil, wrap(ErrMalformed, "key configuration %d: %d bytes after the KEM, want a %d-byte public key and a 2-byte length", c.KeyID, len(rest), npk)
	}
	c.PublicKey = bytes.Clone(rest[:npk])
	n := int(binary.BigEndian.Uint16(rest[npk:]))
	suites := rest[npk+2:]
	switch {
	case n == 0 || n%4 != 0:
		return nil, wrap(ErrMalformed, "key configuration %d: symmetric algorithms length %d is not a positive multiple of 4", c.KeyID, n)
	case len(suites) < n:
		return nil, wrap(ErrMalformed, "key configuration %d: symmetric algorithms length %d, only %d bytes follow", c.KeyID, n, len(suites))
	case len(suites) > n:
		return nil, wrap(ErrMalformed, "key configuration %d: %d bytes after the symmetric algorithms", c.KeyID, len(suites)-n)
	}
	c.Suites = make([]SymmetricSuite, n/4)
	for i := range c.Suites {
		c.Suites[i] = SymmetricSuite{
			KDF:  binary.BigEndian.Uint16(suites[4*i:]),
			AEAD: binary.BigEndian.Uint16(suites[4*i+2:]),
		}
	}
	return c, nil
}

// MarshalKeyConfigs returns the application/ohttp-keys encoding of one or more
// key configurations (RFC 9458 section 3.2): each configuration prefixed by its
// length as a uint16.
func MarshalKeyConfigs(cs ...*KeyConfig) ([]byte, error) {
	if len(cs) == 0 {
		return nil, wrap(ErrMalformed, "key configurations: none given, the format holds one or more")
	}
	var out []byte
	for i, c := range cs {
		b, err := c.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("key configurations: entry %d: %w", i, err)
		}
		if len(b) > 0xffff {
			return nil, wrap(ErrMalformed, "key configurations: entry %d is %d bytes, more than a uint16 length holds", i, len(b))
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// ParseKeyConfigs parses an application/ohttp-keys collection (RFC 9458
// section 3.2). Any encoding error refuses the whole collection
// (ErrMalformed), as section 3.2 requires of clients. A configuration whose
// KEM has no known public key length cannot be read, but its length prefix
// delimits it: it is skipped. If every configuration is skipped the result is
// an error wrapping ErrUnsupported.
func ParseKeyConfigs(b []byte) ([]*KeyConfig, error) {
	if len(b) == 0 {
		return nil, wrap(ErrMalformed, "key configurations: empty, the format holds one or more")
	}
	var out []*KeyConfig
	skipped := 0
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, wrap(ErrMalformed, "key configurations: 1 byte left at offset %d, want a 2-byte length", off)
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if len(b)-off < n {
			return nil, wrap(ErrMalformed, "key configurations: entry of %d bytes at offset %d, only %d bytes left", n, off-2, len(b)-off)
		}
		entry := b[off : off+n]
		off += n
		c, err := ParseKeyConfig(entry)
		if err != nil {
			if len(entry) >= 3 {
				if _, known := publicKeyLen(binary.BigEndian.Uint16(entry[1:3])); !known {
					skipped++
					continue
				}
			}
			return nil, fmt.Errorf("key configurations: entry %d: %w", len(out)+skipped, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, wrap(ErrUnsupported, "key configurations: all %d use a KEM with no known public key length", skipped)
	}
	return out, nil
}
