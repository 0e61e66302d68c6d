// Package local opens vaults on a local directory: the embedded default of Aegis.
// It assembles the Vault from the directory store (fsblob), the standard crypto
// suite and the default bucket padding, and reads and writes through the
// Cloak's layer (package anonymize), which dates every object file to the start
// of its window.
package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Options tune a local vault. The zero value (or nil) gives the defaults:
// PBKDF2-SHA256 with 600,000 iterations, the default buckets, the default vault
// name and the Cloak's defaults.
type Options struct {
	// KDF for Create: domain.KDFPBKDF2SHA256 (default) or domain.KDFArgon2id.
	KDF string
	// Crypto replaces the standard suite (for example one with another KDF policy).
	Crypto domain.Crypto
	// Padding replaces the default bucket policy.
	Padding domain.PaddingPolicy
	// Cloak configures the Cloak's layer the vault reads and writes through. Its
	// defaults on a directory: requests leave at once, and every object file is
	// dated to the start of its 10-second window.
	Cloak anonymize.Config
	// OnLockWait, when set, is called each time a write finds the directory's
	// writer lock held by another process, before it waits (at most timeout,
	// then the write fails with domain.ErrBusy). lockFile is the lock's path.
	OnLockWait func(lockFile string, timeout time.Duration)
}

func config(dir string, store domain.BlobStore, opts *Options) (vault.Config, anonymize.Config) {
	if opts == nil {
		opts = &Options{}
	}
	cfg := vault.Config{Store: store, Crypto: opts.Crypto, Padding: opts.Padding, KDF: opts.KDF}
	if f := opts.OnLockWait; f != nil {
		lockFile := fsblob.WriterLockPath(dir)
		cfg.OnLockWait = func(timeout time.Duration) { f(lockFile, timeout) }
	}
	if cfg.Crypto == nil {
		cfg.Crypto = suite.Default()
	}
	return cfg, opts.Cloak
}

// CreateCloak makes a new vault in dir, creating the directory (mode 0700) if
// needed, and returns the Cloak through which it reads and writes. It fails with
// domain.ErrExists if dir already holds a vault.
func CreateCloak(ctx context.Context, dir string, passphrase []byte, opts *Options) (*anonymize.Cloak, error) {
	store, err := fsblob.Open(dir, &fsblob.Options{Create: true})
	if err != nil {
		return nil, err
	}
	vc, cc := config(dir, store, opts)
	return anonymize.Create(ctx, vc, passphrase, cc)
}

// OpenCloak opens the vault in dir through a Cloak. A missing directory or a
// directory without a vault fails with an error wrapping domain.ErrNotFound.
func OpenCloak(ctx context.Context, dir string, passphrase []byte, opts *Options) (*anonymize.Cloak, error) {
	store, err := fsblob.Open(dir, nil)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: no vault at %s: %w", dir, domain.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	vc, cc := config(dir, store, opts)
	c, err := anonymize.Open(ctx, vc, passphrase, cc)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("aegis: no vault at %s: %w", dir, domain.ErrNotFound)
	}
	return c, err
}

// Create is CreateCloak for callers that want only the Vault; it still reads and
// writes through the Cloak's layer.
func Create(ctx context.Context, dir string, passphrase []byte, opts *Options) (*vault.Vault, error) {
	c, err := CreateCloak(ctx, dir, passphrase, opts)
	if err != nil {
		return nil, err
	}
	return c.Vault(), nil
}

// Open is OpenCloak for callers that want only the Vault; it still reads and
// writes through the Cloak's layer.
func Open(ctx context.Context, dir string, passphrase []byte, opts *Options) (*vault.Vault, error) {
	c, err := OpenCloak(ctx, dir, passphrase, opts)
	if err != nil {
		return nil, err
	}
	return c.Vault(), nil
}
