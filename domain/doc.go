// Package domain is the core of Aegis: the model, the rules and the ports.
//
// It imports only the standard library. Cryptographic primitives (package
// crypto), blob stores and ledgers (package adapters) plug in through the small
// interfaces declared here: BlobStore, Locker, Crypto, KEK, DEK, AEAD,
// PaddingPolicy, Clock and Random. The Vault service lives in domain/vault.
package domain
