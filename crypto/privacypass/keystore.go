package privacypass

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// KeyStore keeps issuer keys in a directory: one file "<key id hex>.key" per
// key, mode 0600, in a directory of mode 0700, written durably (temp file,
// fsync, rename, fsync of the directory). Keys are generated on first use and
// rotated by adding a key with a later not-before; the directory lists them.
// A KeyStore is safe for concurrent use; processes sharing a directory are
// serialised by an flock on "keys.lock" where the platform has one.
type KeyStore struct {
	dir  string
	rnd  io.Reader
	now  func() time.Time
	mu   sync.Mutex
	keys map[[KeyIDSize]byte]*IssuerKey // cache of parsed key files
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

const (
	keyFileSuffix = ".key"
	keyLockFile   = "keys.lock"
)

// OpenKeyStore opens the key directory dir.
func OpenKeyStore(dir string, opts *KeyStoreOptions) (*KeyStore, error) {
	if opts == nil {
		opts = &KeyStoreOptions{}
	}
	abs, err := filepath.Abs(dir)
	if err != nil || dir == "" {
		return nil, fmt.Errorf("privacypass: open key store %q: %w", dir, domain.ErrInvalidInput)
	}
	if fi, err := os.Stat(abs); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("privacypass: open key store %s: not a directory: %w", abs, domain.ErrInvalidInput)
		}
	} else if errors.Is(err, fs.ErrNotExist) && opts.Create {
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("privacypass: create key store: %w", err)
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("privacypass: open key store %s: %w", abs, domain.ErrNotFound)
	} else {
		return nil, fmt.Errorf("privacypass: open key store: %w", err)
	}
	s := &KeyStore{dir: abs, rnd: opts.Rand, now: opts.Now, keys: make(map[[KeyIDSize]byte]*IssuerKey)}
	if s.rnd == nil {
		s.rnd = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	if _, err := s.Keys(); err != nil {
		return nil, err
	}
	return s, nil
}

// Keys returns every stored key, newest not-before first.
func (s *KeyStore) Keys() ([]*IssuerKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// load reads the directory (new files only) and returns the keys sorted.
func (s *KeyStore) load() ([]*IssuerKey, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("privacypass: key store: %w", err)
	}
	present := make(map[[KeyIDSize]byte]bool)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), keyFileSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		raw, err := hex.DecodeString(name)
		if err != nil || len(raw) != KeyIDSize || hex.EncodeToString(raw) != name {
			continue
		}
		id := [KeyIDSize]byte(raw)
		present[id] = true
		if s.keys[id] != nil {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("privacypass: key store: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("privacypass: key store: %s is readable by others (mode %v): %w", path, fi.Mode().Perm(), domain.ErrInvalidInput)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("privacypass: key store: %w", err)
		}
		k, err := ParseIssuerKey(b)
		clear(b)
		if err != nil {
			return nil, fmt.Errorf("privacypass: key store: %s: %w", path, err)
		}
		if k.id != id {
			return nil, fmt.Errorf("privacypass: key store: %s holds key %s: %w", path, k.IDHex(), domain.ErrIntegrity)
		}
		s.keys[id] = k
	}
	out := make([]*IssuerKey, 0, len(s.keys))
	for id, k := range s.keys {
		if !present[id] {
			delete(s.keys, id) // retired by another process
			continue
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *IssuerKey) int {
		if c := b.notBefore.Compare(a.notBefore); c != 0 {
			return c
		}
		return strings.Compare(a.IDHex(), b.IDHex())
	})
	return out, nil
}

// Current returns the newest key of type t in force now, generating and
// storing one (in force from now) if there is none.
func (s *KeyStore) Current(t TokenType) (*IssuerKey, error) {
	return s.withKeys(func(keys []*IssuerKey) (*IssuerKey, error) {
		now := s.now()
		for _, k := range keys {
			if k.tokenType == t && !k.notBefore.After(now) {
				return k, nil
			}
		}
		return s.generate(t, now, keys)
	})
}

// Rotate generates and stores a new key of type t in force from notBefore.
// Publish it (Directory) ahead of notBefore so clients can fetch it; retire the
// old key once its tokens no longer need to verify.
func (s *KeyStore) Rotate(t TokenType, notBefore time.Time) (*IssuerKey, error) {
	return s.withKeys(func(keys []*IssuerKey) (*IssuerKey, error) {
		return s.generate(t, notBefore, keys)
	})
}

// withKeys runs fn on the stored keys while holding the store's lock, in this
// process and across processes.
func (s *KeyStore) withKeys(fn func(keys []*IssuerKey) (*IssuerKey, error)) (*IssuerKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockDir(filepath.Join(s.dir, keyLockFile))
	if err != nil {
		return nil, fmt.Errorf("privacypass: key store: %w", err)
	}
	defer unlock()
	keys, err := s.load()
	if err != nil {
		return nil, err
	}
	return fn(keys)
}

// generate makes a key whose truncated id differs from every other key of its
// type (RFC 9578 asks issuers to avoid such collisions) and stores it.
func (s *KeyStore) generate(t TokenType, notBefore time.Time, existing []*IssuerKey) (*IssuerKey, error) {
	used := make(map[byte]bool)
	for _, k := range existing {
		if k.tokenType == t {
			used[k.id[KeyIDSize-1]] = true
		}
	}
	if len(used) >= 256 {
		return nil, fmt.Errorf("privacypass: key store: 256 keys of %v: retire some first: %w", t, domain.ErrInvalidInput)
	}
	for {
		k, err := GenerateIssuerKey(t, s.rnd, notBefore.Truncate(time.Second))
		if err != nil {
			return nil, err
		}
		if used[k.id[KeyIDSize-1]] {
			continue
		}
		b, err := k.MarshalPrivate()
		if err != nil {
			return nil, err
		}
		err = writeFileDurable(s.dir, k.IDHex()+keyFileSuffix, b)
		clear(b)
		if err != nil {
			return nil, fmt.Errorf("privacypass: key store: %w", err)
		}
		s.keys[k.id] = k
		return k, nil
	}
}

// Retire deletes the key id. Tokens of it stop verifying at origins that
// reload their keys; drop its ledger partition afterwards.
func (s *KeyStore) Retire(id [KeyIDSize]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockDir(filepath.Join(s.dir, keyLockFile))
	if err != nil {
		return fmt.Errorf("privacypass: key store: %w", err)
	}
	defer unlock()
	name := fmt.Sprintf("%x%s", id[:], keyFileSuffix)
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("privacypass: key store: key %x: %w", id, domain.ErrNotFound)
		}
		return fmt.Errorf("privacypass: key store: %w", err)
	}
	delete(s.keys, id)
	return syncDir(s.dir)
}

// Directory returns the issuer directory: keys in force first (newest first,
// the preferred one), then announced future keys, each with its not-before.
func (s *KeyStore) Directory(issuerRequestURI string) (*Directory, error) {
	keys, err := s.Keys()
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &Directory{IssuerRequestURI: issuerRequestURI, TokenKeys: []DirectoryKey{}}
	var future []DirectoryKey
	for _, k := range keys {
		dk := DirectoryKey{TokenType: k.tokenType, TokenKey: k.TokenKey(), NotBefore: k.notBefore}
		if k.notBefore.After(now) {
			future = append(future, dk)
		} else {
			d.TokenKeys = append(d.TokenKeys, dk)
		}
	}
	slices.Reverse(future) // soonest first
	d.TokenKeys = append(d.TokenKeys, future...)
	return d, nil
}

// writeFileDurable writes data to dir/name atomically and durably, mode 0600.
func writeFileDurable(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-*") // 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
