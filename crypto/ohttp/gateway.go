package ohttp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"

	"github.com/cloudflare/circl/hpke"
)

// Gateway decapsulates Encapsulated Requests for any of its keys, selected by
// the key id of the request. It is safe for concurrent use; SetKeys replaces
// its keys atomically, and a request decapsulated before the swap keeps the key
// it was opened with for its response. The zero Gateway holds no keys.
type Gateway struct {
	keys atomic.Pointer[keyTable]
}

// keyTable maps a key id to its key (nil: no key).
type keyTable [256]*GatewayKey

// NewGateway returns a Gateway holding keys (see SetKeys).
func NewGateway(keys ...*GatewayKey) *Gateway {
	g := new(Gateway)
	g.SetKeys(keys...)
	return g
}

// SetKeys replaces the gateway's keys with keys, atomically: every request is
// decapsulated with the old set or the new one, never a mix. Nil keys are
// ignored; of two keys with the same key id, the later one is kept.
func (g *Gateway) SetKeys(keys ...*GatewayKey) {
	t := new(keyTable)
	for _, k := range keys {
		if k != nil {
			t[k.id] = k
		}
	}
	g.keys.Store(t)
}

// key returns the key with key id id, or nil.
func (g *Gateway) key(id uint8) *GatewayKey {
	if t := g.keys.Load(); t != nil {
		return t[id]
	}
	return nil
}

// DecapsulateRequest opens an Encapsulated Request (RFC 9458 section 4.3) and
// returns the request it carries (the Binary HTTP message) and the context
// through which to send the one response. It refuses a message shorter than
// its header, enc and AEAD tag or an enc that is not a usable X25519 public
// key (ErrMalformed), a key id the gateway does not hold (ErrUnknownKey), a
// KEM, KDF or AEAD other than 0x0020, 0x0001, 0x0001 (ErrUnsupported), and a
// ciphertext that does not open (ErrDecrypt).
func (g *Gateway) DecapsulateRequest(encapsulated []byte) (request []byte, rc *ResponseContext, err error) {
	if len(encapsulated) < headerSize {
		return nil, nil, wrap(ErrMalformed, "encapsulated request of %d bytes, shorter than its %d-byte header", len(encapsulated), headerSize)
	}
	hdr := encapsulated[:headerSize]
	keyID := hdr[0]
	kemID := binary.BigEndian.Uint16(hdr[1:])
	suite := SymmetricSuite{KDF: binary.BigEndian.Uint16(hdr[3:]), AEAD: binary.BigEndian.Uint16(hdr[5:])}
	k := g.key(keyID)
	if k == nil {
		return nil, nil, wrap(ErrUnknownKey, "encapsulated request: key id %d", keyID)
	}
	if kemID != KEMX25519 {
		return nil, nil, wrap(ErrUnsupported, "encapsulated request: KEM 0x%04x, key %d is for KEM 0x%04x", kemID, keyID, KEMX25519)
	}
	if suite != supportedSymmetric {
		return nil, nil, wrap(ErrUnsupported, "encapsulated request: %v, key %d takes only %v", suite, keyID, supportedSymmetric)
	}
	if len(encapsulated) < headerSize+encSize+tagSize {
		return nil, nil, wrap(ErrMalformed, "encapsulated request of %d bytes, shorter than header, %d-byte enc and %d-byte AEAD tag", len(encapsulated), encSize, tagSize)
	}
	enc := encapsulated[headerSize : headerSize+encSize]
	ct := encapsulated[headerSize+encSize:]
	receiver, err := supportedSuite.NewReceiver(k.priv.sk, requestInfo(hdr))
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "encapsulated request: HPKE receiver for key %d: %v", keyID, err)
	}
	opener, err := receiver.Setup(enc)
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "encapsulated request: enc is not a usable X25519 public key")
	}
	request, err = opener.Open(ct, nil)
	if err != nil {
		return nil, nil, wrap(ErrDecrypt, "encapsulated request to key %d does not open: wrong key, or altered", keyID)
	}
	return request, &ResponseContext{ctx: opener, enc: bytes.Clone(enc)}, nil
}

// ResponseContext is what a gateway keeps of a decapsulated request to
// encapsulate its response: the HPKE context and the request's enc. It serves
// one response: the first call of EncapsulateResponse uses it up, whatever its
// outcome, and any later call fails with ErrContextUsed.
type ResponseContext struct {
	used atomic.Bool
	ctx  hpke.Context
	enc  []byte
	// nonce fills the response nonce; nil means crypto/rand. Tests set it to
	// reproduce the RFC 9458 example.
	nonce func([]byte)
}

// EncapsulateResponse encapsulates response (the Binary HTTP message) as an
// Encapsulated Response (RFC 9458 section 4.4): a fresh random 16-byte
// response nonce, then response sealed under AES-128-GCM with a key and nonce
// derived from the request's HPKE context, enc and the response nonce.
func (rc *ResponseContext) EncapsulateResponse(response []byte) ([]byte, error) {
	if rc == nil {
		return nil, wrap(ErrMalformed, "encapsulate response: nil context")
	}
	if !rc.used.CompareAndSwap(false, true) {
		return nil, wrap(ErrContextUsed, "encapsulate response: the response context served a response already")
	}
	ctx := rc.ctx
	rc.ctx = nil
	if ctx == nil {
		return nil, wrap(ErrMalformed, "encapsulate response: the response context was not made by Gateway.DecapsulateRequest")
	}
	out := make([]byte, responseNonceSize, responseNonceSize+len(response)+tagSize)
	if rc.nonce != nil {
		rc.nonce(out)
	} else {
		// crypto/rand.Read never returns an error (Go 1.24 and later): it
		// crashes the program if the system's generator fails.
		_, _ = rand.Read(out)
	}
	aead, aeadNonce, err := responseAEAD(ctx, rc.enc, out)
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, aeadNonce, response, nil), nil
}
