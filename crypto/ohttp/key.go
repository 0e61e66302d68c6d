package ohttp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/kem"
)

// GatewayKey is a gateway's HPKE private key, DHKEM(X25519, HKDF-SHA256), with
// its key id and the key configuration it publishes (which lists the one
// symmetric suite HKDF-SHA256 / AES-128-GCM).
//
// Its private half never prints: String, GoString and Format (every verb) give
// only the key id and KEM, and a GatewayKey held in another struct's
// unexported field prints as an address. MarshalPrivate is the only way to
// its bytes. A GatewayKey is immutable and safe for concurrent use.
type GatewayKey struct {
	id     uint8
	config *KeyConfig
	// The private key sits behind a pointer, as in package secret: fmt follows
	// at most one pointer when it prints fields by reflection.
	priv *privateHalf
}

type privateHalf struct {
	sk kem.PrivateKey
}

// newGatewayKey builds a GatewayKey around a circl private key.
func newGatewayKey(id uint8, sk kem.PrivateKey) (*GatewayKey, error) {
	pk, err := sk.Public().MarshalBinary()
	if err != nil {
		return nil, wrap(ErrMalformed, "gateway key %d: public key: %v", id, err)
	}
	return &GatewayKey{
		id: id,
		config: &KeyConfig{
			KeyID:     id,
			KEM:       KEMX25519,
			PublicKey: pk,
			Suites:    []SymmetricSuite{supportedSymmetric},
		},
		priv: &privateHalf{sk: sk},
	}, nil
}

// GenerateGatewayKey makes a new key with key id id. Its private key is
// derived (RFC 9180 DeriveKeyPair) from 32 bytes read from rnd; a nil rnd
// means crypto/rand.
func GenerateGatewayKey(id uint8, rnd io.Reader) (*GatewayKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	seed := make([]byte, x25519Scheme.SeedSize())
	defer clear(seed)
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return nil, fmt.Errorf("ohttp: generate gateway key %d: read randomness: %w", id, err)
	}
	_, sk := x25519Scheme.DeriveKeyPair(seed)
	return newGatewayKey(id, sk)
}

// NewGatewayKey returns the key with key id id and the given raw X25519 private
// key (32 bytes, as RFC 7748 and RFC 9180 SerializePrivateKey encode it).
func NewGatewayKey(id uint8, privateKey []byte) (*GatewayKey, error) {
	if len(privateKey) != privateSize {
		return nil, wrap(ErrMalformed, "gateway key %d: private key of %d bytes, X25519 takes %d", id, len(privateKey), privateSize)
	}
	sk, err := x25519Scheme.UnmarshalBinaryPrivateKey(privateKey)
	if err != nil {
		return nil, wrap(ErrMalformed, "gateway key %d: private key: %v", id, err)
	}
	return newGatewayKey(id, sk)
}

// KeyID returns the key's key id.
func (k *GatewayKey) KeyID() uint8 { return k.id }

// Config returns the key configuration to publish for this key: its key id,
// KEM 0x0020, public key and the one symmetric suite (0x0001, 0x0001). The
// result is a copy the caller may modify.
func (k *GatewayKey) Config() *KeyConfig { return k.config.clone() }

// String returns "ohttp.GatewayKey(id N, KEM 0x0020)", without the private key.
func (k GatewayKey) String() string {
	return fmt.Sprintf("ohttp.GatewayKey(id %d, KEM 0x%04x)", k.id, KEMX25519)
}

// GoString returns the same text as String, for %#v.
func (k GatewayKey) GoString() string { return k.String() }

// Format prints String for every verb and flag.
func (k GatewayKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// gatewayKeyFile is the stored form of a GatewayKey. Pointers make every
// field required.
type gatewayKeyFile struct {
	KeyID      *uint8  `json:"key-id"`
	KEM        *uint16 `json:"kem"`
	PrivateKey *string `json:"private-key"` // standard base64 of the 32-byte X25519 private key
}

// MarshalPrivate returns the key in this package's storage format, a JSON
// object {"key-id": N, "kem": 32, "private-key": "<base64>"}. The result holds
// the private key: it is secret.
func (k *GatewayKey) MarshalPrivate() ([]byte, error) {
	raw, err := k.priv.sk.MarshalBinary()
	if err != nil {
		return nil, wrap(ErrMalformed, "gateway key %d: marshal private key: %v", k.id, err)
	}
	defer clear(raw)
	id, kemID, enc := k.id, KEMX25519, base64.StdEncoding.EncodeToString(raw)
	return json.Marshal(gatewayKeyFile{KeyID: &id, KEM: &kemID, PrivateKey: &enc})
}

// ParseGatewayKey parses the output of MarshalPrivate. Every field is
// required, unknown fields and trailing data are refused (ErrMalformed), and
// the KEM must be 0x0020 (ErrUnsupported).
func ParseGatewayKey(b []byte) (*GatewayKey, error) {
	var f gatewayKeyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, wrap(ErrMalformed, "stored gateway key: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, wrap(ErrMalformed, "stored gateway key: data after the JSON object")
	}
	switch {
	case f.KeyID == nil:
		return nil, wrap(ErrMalformed, "stored gateway key: no key-id")
	case f.KEM == nil:
		return nil, wrap(ErrMalformed, "stored gateway key %d: no kem", *f.KeyID)
	case f.PrivateKey == nil:
		return nil, wrap(ErrMalformed, "stored gateway key %d: no private-key", *f.KeyID)
	case *f.KEM != KEMX25519:
		return nil, wrap(ErrUnsupported, "stored gateway key %d: KEM 0x%04x, want 0x%04x", *f.KeyID, *f.KEM, KEMX25519)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(*f.PrivateKey)
	if err != nil {
		return nil, wrap(ErrMalformed, "stored gateway key %d: private-key is not base64", *f.KeyID)
	}
	defer clear(raw)
	return NewGatewayKey(*f.KeyID, raw)
}
