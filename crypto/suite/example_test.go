package suite_test

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
)

// Example shows the envelope: a passphrase-derived KEK wraps a random DEK, the
// DEK seals the data, and the header keeps only the KDF spec, the key-check
// value and the wrapped DEK.
func Example() {
	s := suite.Default()

	// Creating a vault.
	spec, err := s.NewKDFSpec(domain.KDFPBKDF2SHA256) // 600,000 iterations, fresh salt
	if err != nil {
		panic(err)
	}
	kek, err := s.DeriveKEK([]byte("correct horse battery staple"), spec)
	if err != nil {
		panic(err)
	}
	keyCheck := kek.KeyCheck() // stored in the header

	dek, err := s.NewDEK()
	if err != nil {
		panic(err)
	}
	slotAD := []byte("aegis/v1 dek;vault=example;slot=contacts;gen=1")
	wrapped, err := kek.Wrap(dek, slotAD) // stored in the header
	if err != nil {
		panic(err)
	}
	chunkAD := []byte("aegis/v1 chunk;vault=example;slot=contacts;gen=1;index=0")
	blob := dek.Seal(nil, []byte("alice@example.com"), chunkAD) // stored as an object
	kek.Destroy()
	dek.Destroy()

	// Opening it again: check the spec, derive, compare the key check, unwrap.
	if err := s.CheckKDF(spec); err != nil {
		panic(err)
	}
	kek, err = s.DeriveKEK([]byte("correct horse battery staple"), spec)
	if err != nil {
		panic(err)
	}
	defer kek.Destroy()
	fmt.Println("passphrase ok:", subtle.ConstantTimeCompare(kek.KeyCheck(), keyCheck) == 1)

	dek, err = kek.Unwrap(wrapped, slotAD)
	if err != nil {
		panic(err)
	}
	defer dek.Destroy()
	plaintext, err := dek.Open(nil, blob, chunkAD)
	fmt.Println(string(plaintext), err)

	// An object moved to another position fails authentication.
	_, err = dek.Open(nil, blob, bytes.Replace(chunkAD, []byte("index=0"), []byte("index=1"), 1))
	fmt.Println(errors.Is(err, domain.ErrIntegrity), err)
	fmt.Println(len(wrapped), "byte wrapped DEK;", len(blob), "byte blob")

	// Output:
	// passphrase ok: true
	// alice@example.com <nil>
	// true aegis/crypto: message authentication failed
	// 92 byte wrapped DEK; 77 byte blob
}
