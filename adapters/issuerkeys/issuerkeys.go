// Package issuerkeys keeps the Privacy Pass issuer keys of aegisd
// (privacypass.IssuerKey) in a directory: one file per key, written durably,
// with an flock serialising the processes that share the directory. Keys are
// parsed by privacypass.ParseIssuerKey, which has a fuzz target.
package issuerkeys

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// KeyIDSize is the size of a key id (privacypass.KeyIDSize).
const KeyIDSize = privacypass.KeyIDSize

// KeyStore keeps issuer keys in a directory: one file "<key id hex>.key" per
// key, mode 0600, in a directory of mode 0700, written durably (temp file,
// fsync, rename, fsync of the directory). Keys are generated on first use and
// rotated by adding a key with a later not-before; the directory lists them.
// A KeyStore is safe for concurrent use; processes sharing a directory are
// serialised by an flock on "keys.lock" where the platform has one.
type KeyStore struct {
	dir  *durable.KeyDir
	keys map[[KeyIDSize]byte]*privacypass.IssuerKey // cache of parsed key files
}

// KeyStoreOptions configure OpenKeyStore.
type KeyStoreOptions struct {
	// Create makes the directory (0700) if it is missing.
	Create bool
	// Rand is the source of key material; crypto/rand.Reader if nil.
	Rand io.Reader
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

const keyFileSuffix = ".key"

// OpenKeyStore opens the key directory dir and checks that every key in it
// reads.
func OpenKeyStore(dir string, opts *KeyStoreOptions) (*KeyStore, error) {
	if opts == nil {
		opts = &KeyStoreOptions{}
	}
	d, err := durable.OpenKeyDir(dir, opts.Create, opts.Rand, opts.Now, "key")
	if err != nil {
		return nil, fmt.Errorf("aegis/issuerkeys: %w", err)
	}
	s := &KeyStore{dir: d, keys: make(map[[KeyIDSize]byte]*privacypass.IssuerKey)}
	if _, err := s.Keys(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the directory's absolute path.
func (s *KeyStore) Dir() string { return s.dir.Path() }

// Keys returns every stored key, newest not-before first.
func (s *KeyStore) Keys() (keys []*privacypass.IssuerKey, err error) {
	err = s.dir.Do(func() (err error) {
		keys, err = s.load()
		return err
	})
	return keys, err
}

// load reads the directory (new files only) and returns the keys sorted.
func (s *KeyStore) load() ([]*privacypass.IssuerKey, error) {
	stems, err := s.dir.Stems(keyFileSuffix)
	if err != nil {
		return nil, fmt.Errorf("aegis/issuerkeys: %w", err)
	}
	present := make(map[[KeyIDSize]byte]bool)
	for _, name := range stems {
		raw, err := hex.DecodeString(name)
		if err != nil || len(raw) != KeyIDSize || hex.EncodeToString(raw) != name {
			continue
		}
		id := [KeyIDSize]byte(raw)
		present[id] = true
		if s.keys[id] != nil {
			continue
		}
		b, path, err := s.dir.Read(name + keyFileSuffix)
		if err != nil {
			return nil, fmt.Errorf("aegis/issuerkeys: %w", err)
		}
		k, err := privacypass.ParseIssuerKey(b)
		clear(b)
		if err != nil {
			return nil, fmt.Errorf("aegis/issuerkeys: %s: %w", path, err)
		}
		if k.ID() != id {
			return nil, fmt.Errorf("aegis/issuerkeys: %s holds key %s: %w", path, k.IDHex(), domain.ErrIntegrity)
		}
		s.keys[id] = k
	}
	out := make([]*privacypass.IssuerKey, 0, len(s.keys))
	for id, k := range s.keys {
		if !present[id] {
			delete(s.keys, id) // retired by another process
			continue
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *privacypass.IssuerKey) int {
		if c := b.NotBefore().Compare(a.NotBefore()); c != 0 {
			return c
		}
		return strings.Compare(a.IDHex(), b.IDHex())
	})
	return out, nil
}

// Current returns the newest key of type t in force now, generating and
// storing one (in force from now) if there is none.
func (s *KeyStore) Current(t privacypass.TokenType) (*privacypass.IssuerKey, error) {
	return s.withKeys(func(keys []*privacypass.IssuerKey) (*privacypass.IssuerKey, error) {
		now := s.dir.Now()
		for _, k := range keys {
			if k.Type() == t && !k.NotBefore().After(now) {
				return k, nil
			}
		}
		return s.generate(t, now, keys)
	})
}

// Rotate generates and stores a new key of type t in force from notBefore.
// Publish it (Directory) ahead of notBefore so clients can fetch it; retire the
// old key once its tokens no longer need to verify.
func (s *KeyStore) Rotate(t privacypass.TokenType, notBefore time.Time) (*privacypass.IssuerKey, error) {
	return s.withKeys(func(keys []*privacypass.IssuerKey) (*privacypass.IssuerKey, error) {
		return s.generate(t, notBefore, keys)
	})
}

// withKeys runs fn on the stored keys while holding the store's lock, in this
// process and across processes.
func (s *KeyStore) withKeys(fn func(keys []*privacypass.IssuerKey) (*privacypass.IssuerKey, error)) (*privacypass.IssuerKey, error) {
	return durable.Update(s.dir, s.load, fn)
}

// generate makes a key whose truncated id differs from every other key of its
// type (RFC 9578 asks issuers to avoid such collisions) and stores it.
func (s *KeyStore) generate(t privacypass.TokenType, notBefore time.Time, existing []*privacypass.IssuerKey) (*privacypass.IssuerKey, error) {
	used := make(map[byte]bool)
	for _, k := range existing {
		if k.Type() == t {
			used[k.ID()[KeyIDSize-1]] = true
		}
	}
	if len(used) >= 256 {
		return nil, fmt.Errorf("aegis/issuerkeys: 256 keys of %v: retire some first: %w", t, domain.ErrInvalidInput)
	}
	for {
		k, err := privacypass.GenerateIssuerKey(t, s.dir.Rand(), notBefore.Truncate(time.Second))
		if err != nil {
			return nil, err
		}
		id := k.ID()
		if used[id[KeyIDSize-1]] {
			continue
		}
		b, err := k.MarshalPrivate()
		if err != nil {
			return nil, err
		}
		err = s.dir.Write(k.IDHex()+keyFileSuffix, b)
		clear(b)
		if err != nil {
			return nil, fmt.Errorf("aegis/issuerkeys: %w", err)
		}
		s.keys[id] = k
		return k, nil
	}
}

// Retire deletes the key id. Tokens of it stop verifying at origins that
// reload their keys; drop its ledger partition afterwards. A missing key is an
// error wrapping domain.ErrNotFound.
func (s *KeyStore) Retire(id [KeyIDSize]byte) error {
	err := s.dir.Locked(func() error {
		if err := s.dir.Remove(fmt.Sprintf("%x%s", id[:], keyFileSuffix)); err != nil {
			return err
		}
		delete(s.keys, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("aegis/issuerkeys: retire key %x: %w", id, err)
	}
	return nil
}

// Directory returns the issuer directory: keys in force first (newest first,
// the preferred one), then announced future keys, each with its not-before.
func (s *KeyStore) Directory(issuerRequestURI string) (*privacypass.Directory, error) {
	keys, err := s.Keys()
	if err != nil {
		return nil, err
	}
	now := s.dir.Now()
	d := &privacypass.Directory{IssuerRequestURI: issuerRequestURI, TokenKeys: []privacypass.DirectoryKey{}}
	var future []privacypass.DirectoryKey
	for _, k := range keys {
		dk := privacypass.DirectoryKey{TokenType: k.Type(), TokenKey: k.TokenKey(), NotBefore: k.NotBefore()}
		if k.NotBefore().After(now) {
			future = append(future, dk)
		} else {
			d.TokenKeys = append(d.TokenKeys, dk)
		}
	}
	slices.Reverse(future) // soonest first
	d.TokenKeys = append(d.TokenKeys, future...)
	return d, nil
}
