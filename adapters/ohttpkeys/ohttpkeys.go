// Package ohttpkeys keeps the Oblivious HTTP gateway keys of aegisd in a
// directory, as package issuerkeys keeps its issuer keys: one file
// per key, mode 0600, in a directory of mode 0700, written durably (temp
// file, fsync, rename, fsync of the directory), with an flock on "keys.lock"
// serialising the processes that share the directory (where the platform has
// one). Each key has a not-before time; rotation adds a key with a later one.
//
// RFC 9458 key ids are one byte: a new key takes the id after the newest
// key's, cycling through 0..255 and skipping ids still held, so a client never
// finds two keys under one id. Keys past their lifetime are removed with
// Retire (aegisd does so at start), which frees their ids.
package ohttpkeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/ai-pantheon/aegis/adapters/internal/durable"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/domain"
)

// Key is a stored gateway key and the time from which it is in force.
type Key struct {
	*ohttp.GatewayKey
	NotBefore time.Time
}

// Store is a directory of gateway keys. It is safe for concurrent use.
type Store struct {
	dir *durable.KeyDir
}

// Options configure Open.
type Options struct {
	// Create makes the directory (0700) if it is missing.
	Create bool
	// Rand is the source of key material; crypto/rand.Reader if nil.
	Rand io.Reader
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

const fileSuffix = ".key"

// keyFile is the stored form of a key: its not-before time and the key in
// package ohttp's storage format (GatewayKey.MarshalPrivate).
type keyFile struct {
	NotBefore time.Time       `json:"not-before"`
	Key       json.RawMessage `json:"key"`
}

// Open opens the key directory dir, creating it with opts.Create, and checks
// that every key in it reads.
func Open(dir string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	d, err := durable.OpenKeyDir(dir, opts.Create, opts.Rand, opts.Now, "gateway key")
	if err != nil {
		return nil, fmt.Errorf("aegis/ohttpkeys: %w", err)
	}
	s := &Store{dir: d}
	if _, err := s.Keys(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the directory's absolute path.
func (s *Store) Dir() string { return s.dir.Path() }

// Keys returns every stored key, newest not-before first.
func (s *Store) Keys() (keys []*Key, err error) {
	err = s.dir.Do(func() (err error) {
		keys, err = s.load()
		return err
	})
	return keys, err
}

func fileName(id uint8) string { return fmt.Sprintf("%02x%s", id, fileSuffix) }

// load reads every key file and returns the keys sorted newest first.
func (s *Store) load() ([]*Key, error) {
	stems, err := s.dir.Stems(fileSuffix)
	if err != nil {
		return nil, fmt.Errorf("aegis/ohttpkeys: %w", err)
	}
	var out []*Key
	for _, name := range stems {
		id, err := strconv.ParseUint(name, 16, 8)
		if err != nil || fileName(uint8(id)) != name+fileSuffix {
			continue
		}
		k, err := s.read(name+fileSuffix, uint8(id))
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *Key) int {
		if c := b.NotBefore.Compare(a.NotBefore); c != 0 {
			return c
		}
		return int(b.KeyID()) - int(a.KeyID())
	})
	return out, nil
}

func (s *Store) read(name string, id uint8) (*Key, error) {
	b, path, err := s.dir.Read(name)
	if err != nil {
		return nil, fmt.Errorf("aegis/ohttpkeys: %w", err)
	}
	defer clear(b)
	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.NotBefore.IsZero() || len(f.Key) == 0 {
		return nil, fmt.Errorf("aegis/ohttpkeys: %s is not a stored gateway key: %w", path, domain.ErrIntegrity)
	}
	k, err := ohttp.ParseGatewayKey(f.Key)
	clear(f.Key)
	if err != nil {
		return nil, fmt.Errorf("aegis/ohttpkeys: %s: %w", path, err)
	}
	if k.KeyID() != id {
		return nil, fmt.Errorf("aegis/ohttpkeys: %s holds key id %d: %w", path, k.KeyID(), domain.ErrIntegrity)
	}
	return &Key{GatewayKey: k, NotBefore: f.NotBefore}, nil
}

// Current returns the newest key in force now, generating and storing one (in
// force from now) if there is none.
func (s *Store) Current() (*Key, error) {
	return s.withKeys(func(keys []*Key) (*Key, error) {
		now := s.dir.Now()
		for _, k := range keys {
			if !k.NotBefore.After(now) {
				return k, nil
			}
		}
		return s.generate(now, keys)
	})
}

// Rotate generates and stores a new key in force from notBefore. Publish it
// ahead of notBefore, so that every replica holds it before clients use it.
func (s *Store) Rotate(notBefore time.Time) (*Key, error) {
	return s.withKeys(func(keys []*Key) (*Key, error) { return s.generate(notBefore, keys) })
}

// Retire deletes the key of key id id, freeing the id. Encapsulated requests
// to it are refused by gateways that reload their keys. A missing key is an
// error wrapping domain.ErrNotFound.
func (s *Store) Retire(id uint8) error {
	if err := s.dir.Locked(func() error { return s.dir.Remove(fileName(id)) }); err != nil {
		return fmt.Errorf("aegis/ohttpkeys: retire key %d: %w", id, err)
	}
	return nil
}

// withKeys runs fn on the stored keys holding the store's lock, in this
// process and across processes.
func (s *Store) withKeys(fn func(keys []*Key) (*Key, error)) (*Key, error) {
	return durable.Update(s.dir, s.load, fn)
}

// generate makes a key with the id after the newest key's (skipping ids
// held) and stores it.
func (s *Store) generate(notBefore time.Time, existing []*Key) (*Key, error) {
	used := make(map[uint8]bool, len(existing))
	for _, k := range existing {
		used[k.KeyID()] = true
	}
	if len(used) >= 256 {
		return nil, fmt.Errorf("aegis/ohttpkeys: 256 keys held, every key id is taken: retire some first: %w", domain.ErrInvalidInput)
	}
	id := uint8(0)
	if len(existing) > 0 {
		id = existing[0].KeyID() + 1
	}
	for used[id] {
		id++
	}
	gk, err := ohttp.GenerateGatewayKey(id, s.dir.Rand())
	if err != nil {
		return nil, err
	}
	priv, err := gk.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	k := &Key{GatewayKey: gk, NotBefore: notBefore.UTC().Truncate(time.Second)}
	b, err := json.Marshal(keyFile{NotBefore: k.NotBefore, Key: priv})
	clear(priv)
	if err != nil {
		return nil, err
	}
	err = s.dir.Write(fileName(id), b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("aegis/ohttpkeys: %w", err)
	}
	return k, nil
}
