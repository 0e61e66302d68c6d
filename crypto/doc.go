// Package crypto is the root of the Aegis crypto module: the primitives behind
// the ports declared in package domain (domain.Crypto, domain.KEK, domain.DEK and
// domain.AEAD).
//
// The module is split in small packages:
//
//   - secret: a container for key material that never prints and can be zeroed;
//   - aead: key-committing AES-256-GCM with a fixed on-store layout;
//   - kdf: PBKDF2-HMAC-SHA256 and Argon2id behind a floor-and-ceiling Policy;
//   - suite: the domain.Crypto implementation that ties them together.
//
// Every primitive comes from the Go standard library or golang.org/x/crypto;
// nothing here invents one.
package crypto
