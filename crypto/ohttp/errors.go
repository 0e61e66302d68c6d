package ohttp

import (
	"errors"
	"fmt"
)

// Errors. Every error returned by this package wraps one of them, except a
// failure to read the reader given to GenerateGatewayKey, which is returned
// wrapped as it is.
var (
	// ErrMalformed means bytes that do not decode: a key configuration,
	// collection, stored key or encapsulated message of the wrong length or
	// layout, or a public key or enc that is not a usable key.
	ErrMalformed = errors.New("ohttp: malformed")
	// ErrUnknownKey means an Encapsulated Request names a key id the gateway
	// does not hold.
	ErrUnknownKey = errors.New("ohttp: unknown key id")
	// ErrUnsupported means an algorithm this package does not implement: a KEM
	// other than DHKEM(X25519, HKDF-SHA256), a KDF and AEAD other than
	// HKDF-SHA256 and AES-128-GCM, or a KEM whose public key length is unknown.
	ErrUnsupported = errors.New("ohttp: unsupported algorithm")
	// ErrDecrypt means a ciphertext did not open: the wrong key, or a message
	// altered on the way.
	ErrDecrypt = errors.New("ohttp: decryption failed")
	// ErrContextUsed means a ResponseContext or ClientContext was used a second
	// time; each serves exactly one response.
	ErrContextUsed = errors.New("ohttp: context already used")
)

// wrap returns an error wrapping sentinel, with a message built from format
// and args.
func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
