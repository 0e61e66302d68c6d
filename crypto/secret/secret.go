// Package secret holds key material behind an accessor.
//
// A Key never reveals its bytes when printed, formatted with any fmt verb,
// logged or marshalled to JSON or text: all of them produce a fixed redacted
// form such as "secret.Key(32 bytes, redacted)". The bytes are reachable only
// through Key.Bytes. Destroy zeroes them; any later call to Bytes panics.
//
// Zeroing is best effort: the Go runtime may have copied the bytes (for example
// when a slice grew) and primitives that received them keep their own copies.
package secret

import (
	"crypto/rand"
	"fmt"
	"strconv"
)

// Key is secret key material. The zero value is not usable; create a Key with
// New or Random.
//
// A Key may be read from several goroutines at once, but Destroy must not run
// concurrently with any other use of the same Key.
//
// The bytes sit two pointers away from the Key. fmt prints a value it cannot
// call methods on (an unexported struct field) by reflection, and it follows
// one pointer at most; so even a Key copied by value into an unexported field
// prints as an address, never as the bytes.
type Key struct {
	m *material
}

type material struct {
	b         *[]byte
	destroyed bool
}

// New returns a Key holding a copy of b. The caller keeps ownership of b and
// should zero it (clear(b)) once it is no longer needed.
func New(b []byte) *Key {
	buf := make([]byte, len(b))
	copy(buf, b)
	return &Key{m: &material{b: &buf}}
}

// Random returns a Key of n bytes read from crypto/rand. It panics if n is negative.
func Random(n int) *Key {
	if n < 0 {
		panic("aegis/crypto/secret: negative key length")
	}
	buf := make([]byte, n)
	// crypto/rand.Read never returns an error: it crashes the program
	// irrecoverably if the operating system's generator fails.
	rand.Read(buf)
	return &Key{m: &material{b: &buf}}
}

// Bytes returns the key material itself, not a copy: callers must not modify
// or retain it beyond the Key's lifetime. It panics if the Key was destroyed.
func (k *Key) Bytes() []byte {
	k.mustBeLive()
	return *k.m.b
}

// Len returns the length of the key material in bytes. It panics if the Key was destroyed.
func (k *Key) Len() int {
	k.mustBeLive()
	return len(*k.m.b)
}

// Destroy zeroes the key material. It is idempotent; any later call to Bytes or
// Len panics. A nil Key is ignored.
func (k *Key) Destroy() {
	if k == nil || k.m == nil {
		return
	}
	clear(*k.m.b)
	*k.m.b = nil
	k.m.destroyed = true
}

// Destroyed reports whether Destroy was called.
func (k *Key) Destroyed() bool {
	return k != nil && k.m != nil && k.m.destroyed
}

func (k *Key) mustBeLive() {
	if k == nil || k.m == nil {
		panic("aegis/crypto/secret: use of a nil or zero key")
	}
	if k.m.destroyed {
		panic("aegis/crypto/secret: use of a destroyed key")
	}
}

// The text forms below have value receivers on purpose: a Key value, not only
// a *Key, then prints redacted too.

// redacted is the only text form of a Key.
func (k Key) redacted() string {
	switch {
	case k.m == nil:
		return "secret.Key(nil)"
	case k.m.destroyed:
		return "secret.Key(destroyed)"
	default:
		return "secret.Key(" + strconv.Itoa(len(*k.m.b)) + " bytes, redacted)"
	}
}

// String returns a redacted description that gives only the key's length,
// such as "secret.Key(32 bytes, redacted)".
func (k Key) String() string { return k.redacted() }

// GoString returns the same redacted description as String, for %#v.
func (k Key) GoString() string { return k.redacted() }

// Format implements fmt.Formatter so that every verb and flag (%v, %+v, %#v,
// %s, %x, %X, %q, %d, ...) prints the redacted description.
func (k Key) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(k.redacted()))
}

// MarshalText implements encoding.TextMarshaler with the redacted description.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.redacted()), nil }

// MarshalJSON implements json.Marshaler with the redacted description as a JSON string.
func (k Key) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(k.redacted())), nil
}
