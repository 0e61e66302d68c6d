package fuzz

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// sharedVault is one vault on a memory store, created once per process (the fuzz
// engine runs each worker in its own process, and calls the fuzz function of one
// worker sequentially).
var sharedVault struct {
	once    sync.Once
	store   *memblob.Store
	v       *vault.Vault
	objects int // objects of the empty vault: the header and the manifest
	err     error
}

func roundTripVault(tb testing.TB) (*vault.Vault, *memblob.Store, int) {
	tb.Helper()
	s := &sharedVault
	s.once.Do(func() {
		s.store = memblob.Open()
		s.v, s.err = vault.Create(context.Background(), vault.Config{Store: s.store, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("fuzz passphrase"))
		if s.err == nil {
			s.objects, s.err = countObjects(s.store, nil)
		}
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.v, s.store, s.objects
}

// countObjects counts the store's objects and calls fn on each one's bytes.
func countObjects(store *memblob.Store, fn func(obj []byte) error) (int, error) {
	ctx := context.Background()
	n := 0
	err := store.List(ctx, func(id domain.ObjectID) error {
		n++
		if fn == nil {
			return nil
		}
		obj, err := store.Get(ctx, id)
		if err != nil {
			return err
		}
		return fn(obj)
	})
	return n, err
}

// FuzzVaultRoundTrip: for any category name and two payloads, Store then Load
// gives back exactly the payload, a rewrite replaces it, an invalid name fails
// with ErrInvalidInput and changes nothing, every stored object has a bucket size
// and shows neither the name nor the payload in clear, and Delete leaves no
// object behind.
func FuzzVaultRoundTrip(f *testing.F) {
	addSeeds(f, roundTripSeeds())
	f.Fuzz(func(t *testing.T, name string, first, second []byte) {
		checkRoundTrip(t, name, first, second)
	})
}

func checkRoundTrip(t *testing.T, name string, first, second []byte) {
	ctx := context.Background()
	v, store, empty := roundTripVault(t)
	buckets := domain.DefaultBuckets()

	if domain.ValidateCategory(name) != nil {
		if err := v.Store(ctx, name, first); !errors.Is(err, domain.ErrInvalidInput) {
			t.Fatalf("Store(%q): error %v, want ErrInvalidInput", name, err)
		}
		if err := v.StoreAll(ctx, map[string][]byte{name: first}); !errors.Is(err, domain.ErrInvalidInput) {
			t.Fatalf("StoreAll(%q): error %v, want ErrInvalidInput", name, err)
		}
		if n, err := countObjects(store, nil); err != nil || n != empty {
			t.Fatalf("a rejected Store left %d objects (want %d), %v", n, empty, err)
		}
		return
	}

	for _, payload := range [][]byte{first, second} {
		if err := v.Store(ctx, name, payload); err != nil {
			t.Fatalf("Store(%q, %d bytes): %v", name, len(payload), err)
		}
		got, err := v.Load(ctx, name)
		if err != nil {
			t.Fatalf("Load(%q): %v", name, err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("Load(%q) = %d bytes, stored %d bytes", name, len(got), len(payload))
		}
		_, err = countObjects(store, func(obj []byte) error {
			if !buckets.Allowed(len(obj)) {
				t.Fatalf("stored object of %d bytes is not a bucket size", len(obj))
			}
			// 16 bytes or more of plaintext turning up in a sealed object by
			// chance is negligible: finding it means it was stored in clear.
			if len(payload) >= 16 && bytes.Contains(obj, payload) {
				t.Fatal("a stored object holds the payload in clear")
			}
			if len(name) >= 16 && bytes.Contains(obj, []byte(name)) {
				t.Fatal("a stored object holds the category name in clear")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Delete(ctx, name); err != nil {
		t.Fatalf("Delete(%q): %v", name, err)
	}
	if _, err := v.Load(ctx, name); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Load after Delete: error %v, want ErrNotFound", err)
	}
	if n, err := countObjects(store, nil); err != nil || n != empty {
		t.Fatalf("after Delete the store holds %d objects, the empty vault %d (%v)", n, empty, err)
	}
}

// TestVaultRoundTripLargeBoundaries runs the round-trip check at the sizes
// around the largest bucket, too large to be useful as fuzzing seeds.
func TestVaultRoundTripLargeBoundaries(t *testing.T) {
	capMax := domain.FrameCapacity(domain.MiB, 60)
	for _, n := range []int{capMax, capMax + 1, 2*capMax + 1} {
		checkRoundTrip(t, "large", bytes.Repeat([]byte{0x3c}, n), bytes.Repeat([]byte{0xc3}, n-1))
	}
}
