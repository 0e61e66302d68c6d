// Command anonymize uses the Cloak (the anonymize module) without the adapters module: a Vault
// (domain/vault) through the Cloak's layer on a store of its own, in memory, and the standard crypto suite.
// consumer-check also checks that its module graph holds neither the adapters module nor their
// dependencies (object storage and Redis clients).
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consumer/anonymize:", err)
		os.Exit(1)
	}
	fmt.Println("consumer/anonymize: ok")
}

func run() error {
	ctx := context.Background()
	// The cheap KDF policy keeps the check fast; a real vault keeps kdf.DefaultPolicy.
	store := newStore()
	cloak, err := anonymize.Create(ctx, vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("a passphrase"), anonymize.Config{Cover: 2})
	if err != nil {
		return err
	}
	defer cloak.Close()
	v := cloak.Vault()
	data := map[string][]byte{"notes": []byte("buy milk"), "contacts": []byte(`[{"name":"Ada"}]`)}
	rep, err := cloak.Store(ctx, data)
	if err != nil {
		return err
	}
	if rep.Requests < 4 {
		return fmt.Errorf("%d requests reported for a commit of %d categories", rep.Requests, len(data))
	}
	for name, want := range data {
		got, err := v.Load(ctx, name)
		if err != nil || !bytes.Equal(got, want) {
			return fmt.Errorf("load %s: %q, %v", name, got, err)
		}
	}
	return nil
}

// store is an in-memory domain.BlobStore.
type store struct {
	mu      sync.Mutex
	objects map[domain.ObjectID]object
	next    int
}

type object struct {
	data    []byte
	version domain.Version
}

func newStore() *store { return &store{objects: map[domain.ObjectID]object{}} }

func (s *store) put(id domain.ObjectID, data []byte) domain.Version {
	s.next++
	o := object{data: append([]byte{}, data...), version: domain.Version(strconv.Itoa(s.next))}
	s.objects[id] = o
	return o.version
}

func (s *store) Put(_ context.Context, id domain.ObjectID, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(id, data)
	return nil
}

func (s *store) Get(ctx context.Context, id domain.ObjectID) ([]byte, error) {
	b, _, err := s.GetVersioned(ctx, id)
	return b, err
}

func (s *store) GetVersioned(_ context.Context, id domain.ObjectID) ([]byte, domain.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[id]
	if !ok {
		return nil, "", fmt.Errorf("object %s: %w", id, domain.ErrNotFound)
	}
	return append([]byte{}, o.data...), o.version, nil
}

func (s *store) Delete(_ context.Context, id domain.ObjectID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[id]; !ok {
		return fmt.Errorf("object %s: %w", id, domain.ErrNotFound)
	}
	delete(s.objects, id)
	return nil
}

func (s *store) List(_ context.Context, fn func(domain.ObjectID) error) error {
	s.mu.Lock()
	ids := make([]domain.ObjectID, 0, len(s.objects))
	for id := range s.objects {
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

func (s *store) CompareAndSwap(_ context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects[id].version != expected {
		return "", fmt.Errorf("object %s: %w", id, domain.ErrConflict)
	}
	return s.put(id, data), nil
}
