package ohttp

import (
	"crypto/rand"
	"slices"
	"sync/atomic"

	"github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem"
)

// Client encapsulates requests to one key configuration, with
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM. Every request gets
// a new HPKE context from a fresh ephemeral key (RFC 9458 section 6.1). A
// Client is immutable and safe for concurrent use.
type Client struct {
	keyID uint8
	pk    kem.PublicKey
	hdr   [headerSize]byte
	info  []byte
	// setup makes the HPKE sending context; nil means Sender.Setup with
	// crypto/rand. Tests set it to reproduce the RFC 9458 example, whose
	// ephemeral key circl cannot take.
	setup func(*hpke.Sender) (enc []byte, sealer hpke.Sealer, err error)
}

// NewClient returns a Client for cfg. The configuration must use KEM 0x0020
// and list the symmetric suite (0x0001, 0x0001) (ErrUnsupported otherwise),
// and its public key must be a usable X25519 key (ErrMalformed otherwise: the
// wrong length, or a point of low order, with which every shared secret would
// be zero). The Client keeps no reference to cfg.
func NewClient(cfg *KeyConfig) (*Client, error) {
	if cfg == nil {
		return nil, wrap(ErrMalformed, "client: nil key configuration")
	}
	if cfg.KEM != KEMX25519 {
		return nil, wrap(ErrUnsupported, "client: key configuration %d uses KEM 0x%04x, want 0x%04x", cfg.KeyID, cfg.KEM, KEMX25519)
	}
	if !slices.Contains(cfg.Suites, supportedSymmetric) {
		return nil, wrap(ErrUnsupported, "client: key configuration %d does not list %v (it lists %v)", cfg.KeyID, supportedSymmetric, cfg.Suites)
	}
	if len(cfg.PublicKey) != publicKeySize {
		return nil, wrap(ErrMalformed, "client: key configuration %d: public key of %d bytes, want %d", cfg.KeyID, len(cfg.PublicKey), publicKeySize)
	}
	pk, err := x25519Scheme.UnmarshalBinaryPublicKey(cfg.PublicKey)
	if err != nil {
		return nil, wrap(ErrMalformed, "client: key configuration %d: public key: %v", cfg.KeyID, err)
	}
	// A point of low order makes every X25519 shared secret zero, which
	// circl refuses at encapsulation: find out now rather than per request.
	if _, _, err := x25519Scheme.Encapsulate(pk); err != nil {
		return nil, wrap(ErrMalformed, "client: key configuration %d: public key is not usable: %v", cfg.KeyID, err)
	}
	hdr := header(cfg.KeyID)
	return &Client{keyID: cfg.KeyID, pk: pk, hdr: hdr, info: requestInfo(hdr[:])}, nil
}

// EncapsulateRequest encapsulates request (the Binary HTTP message) as an
// Encapsulated Request (RFC 9458 section 4.3): the header, the HPKE enc and
// the request sealed with empty associated data. rc opens the response.
func (c *Client) EncapsulateRequest(request []byte) (encapsulated []byte, rc *ClientContext, err error) {
	sender, err := supportedSuite.NewSender(c.pk, c.info)
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "encapsulate request to key %d: HPKE sender: %v", c.keyID, err)
	}
	var enc []byte
	var sealer hpke.Sealer
	if c.setup != nil {
		enc, sealer, err = c.setup(sender)
	} else {
		enc, sealer, err = sender.Setup(rand.Reader)
	}
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "encapsulate request to key %d: HPKE setup: %v", c.keyID, err)
	}
	out := make([]byte, 0, headerSize+len(enc)+len(request)+tagSize)
	out = append(append(out, c.hdr[:]...), enc...)
	ct, err := sealer.Seal(request, nil)
	if err != nil {
		return nil, nil, wrap(ErrMalformed, "encapsulate request to key %d: seal: %v", c.keyID, err)
	}
	return append(out, ct...), &ClientContext{ctx: sealer, enc: enc}, nil
}

// ClientContext is what a client keeps of an encapsulated request to open its
// response: the HPKE context and the request's enc. It serves one response:
// the first call of DecapsulateResponse uses it up, whatever its outcome, and
// any later call fails with ErrContextUsed.
type ClientContext struct {
	used atomic.Bool
	ctx  hpke.Context
	enc  []byte
}

// DecapsulateResponse opens an Encapsulated Response (RFC 9458 section 4.4)
// and returns the response it carries (the Binary HTTP message). A message
// shorter than the 16-byte response nonce and the AEAD tag wraps ErrMalformed;
// one that does not open (not the response to this request, or altered) wraps
// ErrDecrypt.
func (rc *ClientContext) DecapsulateResponse(encapsulated []byte) ([]byte, error) {
	if rc == nil {
		return nil, wrap(ErrMalformed, "decapsulate response: nil context")
	}
	if !rc.used.CompareAndSwap(false, true) {
		return nil, wrap(ErrContextUsed, "decapsulate response: the client context opened a response already")
	}
	ctx := rc.ctx
	rc.ctx = nil
	if ctx == nil {
		return nil, wrap(ErrMalformed, "decapsulate response: the client context was not made by Client.EncapsulateRequest")
	}
	if len(encapsulated) < responseNonceSize+tagSize {
		return nil, wrap(ErrMalformed, "encapsulated response of %d bytes, shorter than its %d-byte nonce and %d-byte AEAD tag", len(encapsulated), responseNonceSize, tagSize)
	}
	aead, aeadNonce, err := responseAEAD(ctx, rc.enc, encapsulated[:responseNonceSize])
	if err != nil {
		return nil, err
	}
	response, err := aead.Open(nil, aeadNonce, encapsulated[responseNonceSize:], nil)
	if err != nil {
		return nil, wrap(ErrDecrypt, "encapsulated response does not open: not the response to this request, or altered")
	}
	return response, nil
}
