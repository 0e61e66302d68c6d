// Command anonymize uses the Cloak (the anonymize module) without the adapters module: a Vault
// (domain/vault) on a store of its own, in memory, the standard crypto suite and HMAC tokens.
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
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
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
	v, err := vault.Create(ctx, vault.Config{Store: newStore(), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("a passphrase"))
	if err != nil {
		return err
	}
	defer v.Close()
	tokens, err := hmactoken.New(secret.Random(32), &ledger{})
	if err != nil {
		return err
	}
	cloak, err := anonymize.New(anonymize.Config{Vault: v, Tokens: tokens})
	if err != nil {
		return err
	}
	data := map[string][]byte{"notes": []byte("buy milk"), "contacts": []byte(`[{"name":"Ada"}]`)}
	rep, err := cloak.Store(ctx, data)
	if err != nil {
		return err
	}
	if rep.TokensUsed != len(data) {
		return fmt.Errorf("%d tokens used for %d categories", rep.TokensUsed, len(data))
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

// ledger is the smallest domain.SpentLedger, in memory.
type ledger struct {
	mu    sync.Mutex
	spent map[string]bool
}

func (l *ledger) MarkSpent(_ context.Context, partition string, nonce []byte) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spent == nil {
		l.spent = map[string]bool{}
	}
	k := partition + "\x00" + string(nonce)
	was := l.spent[k]
	l.spent[k] = true
	return was, nil
}

func (l *ledger) DropPartition(context.Context, string) error { return nil }
