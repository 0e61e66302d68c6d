package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/ai-pantheon/aegis/domain"
)

// The fakes of the in-package tests: a domain.Crypto over the standard library's
// AES-256-GCM whose keys the tests can look at, and a map-backed domain.BlobStore
// that records every write and can fail or freeze at a given write.

// keyedCrypto implements domain.Crypto with PBKDF2-SHA256 (cheap parameters) and
// plain AES-256-GCM. It is not key-committing; the tests do not need it to be.
type keyedCrypto struct{}

func (keyedCrypto) NewKDFSpec(name string) (domain.KDFSpec, error) {
	if name == "" {
		name = domain.KDFPBKDF2SHA256
	}
	s := domain.KDFSpec{Name: name, Salt: make([]byte, 16)}
	switch name {
	case domain.KDFPBKDF2SHA256:
		s.Iterations = 10
	case domain.KDFArgon2id:
		// Stands in for Argon2id: the tests only need a second KDF name.
		s.Time, s.MemoryKiB, s.Threads = 1, 8, 1
	default:
		return domain.KDFSpec{}, fmt.Errorf("%w: KDF %q", domain.ErrUnsupportedVersion, name)
	}
	_, _ = rand.Read(s.Salt)
	return s, nil
}

func (keyedCrypto) CheckKDF(domain.KDFSpec) error { return nil }

func (keyedCrypto) DeriveKEK(passphrase []byte, spec domain.KDFSpec) (domain.KEK, error) {
	salt := append([]byte(spec.Name), spec.Salt...)
	key, err := pbkdf2.Key(sha256.New, string(passphrase), salt, 10, 32)
	if err != nil {
		return nil, err
	}
	return newTestKey(key), nil
}

func (keyedCrypto) NewDEK() (domain.DEK, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return newTestKey(key), nil
}

// testKey is both a KEK and a DEK: AES-256-GCM with a random 12-byte nonce in
// front of the ciphertext. Key returns its bytes, for tests that compare keys.
type testKey struct {
	key  [32]byte
	gcm  cipher.AEAD
	dead bool
}

func newTestKey(key []byte) *testKey {
	k := &testKey{}
	copy(k.key[:], key)
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		panic(err)
	}
	if k.gcm, err = cipher.NewGCM(block); err != nil {
		panic(err)
	}
	return k
}

func (k *testKey) live() {
	if k.dead {
		panic("testKey used after Destroy")
	}
}

func (k *testKey) Key() [32]byte   { return k.key }
func (k *testKey) PrefixSize() int { return 12 }
func (k *testKey) Overhead() int   { return 28 }

func (k *testKey) Seal(dst, plaintext, ad []byte) []byte {
	k.live()
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	dst = append(dst, nonce...)
	return k.gcm.Seal(dst, nonce, plaintext, ad)
}

func (k *testKey) SealInPlace(obj, ad []byte) {
	k.live()
	_, _ = rand.Read(obj[:12])
	k.gcm.Seal(obj[12:12], obj[:12], obj[12:len(obj)-16], ad)
}

var errAuth = fmt.Errorf("test AEAD: message authentication failed: %w", domain.ErrIntegrity)

func (k *testKey) Open(dst, sealed, ad []byte) ([]byte, error) {
	k.live()
	if len(sealed) < 28 {
		return nil, errAuth
	}
	pt, err := k.gcm.Open(dst, sealed[:12], sealed[12:], ad)
	if err != nil {
		return nil, errAuth
	}
	return pt, nil
}

func (k *testKey) KeyCheck() []byte {
	k.live()
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte("test key check"))
	return m.Sum(nil)
}

func (k *testKey) Wrap(dek domain.DEK, ad []byte) ([]byte, error) {
	d, ok := dek.(*testKey)
	if !ok {
		return nil, fmt.Errorf("%w: not a test key", domain.ErrInvalidInput)
	}
	return k.Seal(nil, d.key[:], ad), nil
}

func (k *testKey) Unwrap(wrapped, ad []byte) (domain.DEK, error) {
	key, err := k.Open(nil, wrapped, ad)
	if err != nil {
		return nil, err
	}
	return newTestKey(key), nil
}

func (k *testKey) Destroy() { k.dead = true; k.key = [32]byte{} }

// Kinds of write a mapStore counts.
const (
	opPut    = "put" // Put, or one object of a PutBatch
	opCAS    = "cas"
	opDelete = "delete" // Delete, or one id of a DeleteBatch
)

// fault decides the fate of write number n (from 1) of kind op: whether it takes
// effect, and the error the caller sees.
type fault func(n int, op string) (apply bool, err error)

var errInjected = errors.New("injected store failure")

// failNth fails the nth write that is not a deletion; it does not happen.
func failNth(n int) fault {
	return func(k int, op string) (bool, error) {
		if k == n && op != opDelete {
			return false, errInjected
		}
		return true, nil
	}
}

// crashAt is a power cut before write n: from it on, nothing reaches the store.
func crashAt(n int) fault {
	return func(k int, _ string) (bool, error) {
		if k >= n {
			return false, errInjected
		}
		return true, nil
	}
}

// mapStore is a map-backed domain.BlobStore and domain.Batcher. Versions are
// content hashes. It keeps every object ever put in history, deleted or not.
type mapStore struct {
	mu      sync.Mutex
	objs    map[domain.ObjectID][]byte
	history map[domain.ObjectID][]byte
	writes  int
	fault   fault
	lock    chan struct{}
}

func newMapStore() *mapStore {
	return &mapStore{objs: map[domain.ObjectID][]byte{}, history: map[domain.ObjectID][]byte{}}
}

// plainStore hides the Batcher of the store it wraps, and keeps its Locker.
type plainStore struct {
	domain.BlobStore
	domain.Locker
}

// write runs one counted write under s.mu.
func (s *mapStore) write(op string, apply func()) error {
	s.writes++
	ok, err := true, error(nil)
	if s.fault != nil {
		ok, err = s.fault(s.writes, op)
	}
	if ok {
		apply()
	}
	return err
}

// snapshot returns a copy of what the store holds.
func (s *mapStore) snapshot() map[domain.ObjectID][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[domain.ObjectID][]byte, len(s.objs))
	for id, b := range s.objs {
		out[id] = bytes.Clone(b)
	}
	return out
}

// restore replaces the store's content (not its history) with snap.
func (s *mapStore) restore(snap map[domain.ObjectID][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs = make(map[domain.ObjectID][]byte, len(snap))
	for id, b := range snap {
		s.objs[id] = bytes.Clone(b)
	}
}

func sameObjects(a, b map[domain.ObjectID][]byte) bool { return maps.EqualFunc(a, b, bytes.Equal) }

func contentHash(b []byte) domain.Version {
	sum := sha256.Sum256(b)
	return domain.Version(hex.EncodeToString(sum[:]))
}

func (s *mapStore) put(id domain.ObjectID, data []byte) error {
	return s.write(opPut, func() {
		s.objs[id] = bytes.Clone(data)
		s.history[id] = bytes.Clone(data)
	})
}

func (s *mapStore) Put(ctx context.Context, id domain.ObjectID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(id, data)
}

func (s *mapStore) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, id)
	return b, err
}

func (s *mapStore) GetVersioned(ctx context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[id]
	if !ok {
		return nil, "", fmt.Errorf("object %s: %w", id, domain.ErrNotFound)
	}
	return bytes.Clone(b), contentHash(b), nil
}

func (s *mapStore) del(id domain.ObjectID) error {
	return s.write(opDelete, func() { delete(s.objs, id) })
}

func (s *mapStore) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[id]; !ok {
		return fmt.Errorf("object %s: %w", id, domain.ErrNotFound)
	}
	return s.del(id)
}

func (s *mapStore) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	s.mu.Lock()
	ids := make([]domain.ObjectID, 0, len(s.objs))
	for id := range s.objs {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (s *mapStore) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.objs[id]
	if (ok && contentHash(cur) != expected) || (!ok && expected != "") {
		return "", fmt.Errorf("object %s: %w", id, domain.ErrConflict)
	}
	err := s.write(opCAS, func() {
		s.objs[id] = bytes.Clone(data)
		s.history[id] = bytes.Clone(data)
	})
	if err != nil {
		return "", err
	}
	return contentHash(data), nil
}

func (s *mapStore) PutBatch(ctx context.Context, objs []domain.Object) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		if err := s.put(o.ID, o.Data); err != nil {
			return err
		}
	}
	return nil
}

func (s *mapStore) DeleteBatch(ctx context.Context, ids []domain.ObjectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, id := range ids {
		if _, ok := s.objs[id]; ok {
			if err := s.del(id); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Lock implements domain.Locker with a channel semaphore (one process).
func (s *mapStore) Lock(ctx context.Context) (func() error, error) {
	s.mu.Lock()
	if s.lock == nil {
		s.lock = make(chan struct{}, 1)
	}
	l := s.lock
	s.mu.Unlock()
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() error {
		err := errors.New("lock released twice")
		once.Do(func() { <-l; err = nil })
		return err
	}, nil
}

var (
	_ domain.BlobStore = (*mapStore)(nil)
	_ domain.Batcher   = (*mapStore)(nil)
	_ domain.Locker    = (*mapStore)(nil)
)
