// Package local opens vaults on a local directory: the embedded default of Aegis.
// It assembles the Vault from the directory store (fsblob), the standard crypto
// suite and the default bucket padding, and a Cloak in front of it with local
// HMAC tokens.
package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Options tune a local vault. The zero value (or nil) gives the defaults:
// PBKDF2-SHA256 with 600,000 iterations, the default buckets and the default vault
// name.
type Options struct {
	// KDF for Create: domain.KDFPBKDF2SHA256 (default) or domain.KDFArgon2id.
	KDF string
	// Crypto replaces the standard suite (for example one with another KDF policy).
	Crypto domain.Crypto
	// Padding replaces the default bucket policy.
	Padding domain.PaddingPolicy
}

func config(store domain.BlobStore, opts *Options) vault.Config {
	if opts == nil {
		opts = &Options{}
	}
	cfg := vault.Config{Store: store, Crypto: opts.Crypto, Padding: opts.Padding, KDF: opts.KDF}
	if cfg.Crypto == nil {
		cfg.Crypto = suite.Default()
	}
	return cfg
}

// Create makes a new vault in dir, creating the directory (mode 0700) if needed.
// It fails with domain.ErrExists if dir already holds a vault.
func Create(ctx context.Context, dir string, passphrase []byte, opts *Options) (*vault.Vault, error) {
	store, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		return nil, err
	}
	return vault.Create(ctx, config(store, opts), passphrase)
}

// Open opens the vault in dir. A missing directory or a directory without a vault
// fails with an error wrapping domain.ErrNotFound.
func Open(ctx context.Context, dir string, passphrase []byte, opts *Options) (*vault.Vault, error) {
	store, err := fsblob.Open(dir, nil)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: no vault at %s: %w", dir, domain.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(ctx, config(store, opts), passphrase)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: no vault at %s: %w", dir, domain.ErrNotFound)
	}
	return v, err
}

// NewCloak returns a Cloak over v for a local store. On a local store the Cloak
// is its own token issuer and origin: it authorizes every request with an HMAC
// token (crypto/hmactoken) under a random key of this process and spends it in an
// in-memory ledger before storing. Other fields of cfg pass through; cfg.Vault and
// cfg.Tokens are set here.
func NewCloak(v *vault.Vault, cfg anonymize.Config) (*anonymize.Cloak, error) {
	tokens, err := hmactoken.New(secret.Random(32), memledger.Open())
	if err != nil {
		return nil, err
	}
	cfg.Vault, cfg.Tokens = v, tokens
	return anonymize.New(cfg)
}
