package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/domain"
)

// markedMeanwhile is a store on which another replica writes the format marker
// (and then an object) while PrepareStore lists it.
type markedMeanwhile struct {
	*memblob.Store
}

func (s markedMeanwhile) List(ctx context.Context, fn func(domain.ObjectID) error) error {
	if _, err := s.CompareAndSwap(ctx, server.StoreFormatID, "", []byte(server.StoreFormat)); err != nil {
		return err
	}
	if err := s.Put(ctx, domain.ObjectID{1}, []byte("a client's object")); err != nil {
		return err
	}
	return s.Store.List(ctx, fn)
}

func TestPrepareStore(t *testing.T) {
	ctx := t.Context()
	marker := func(s domain.BlobStore) string {
		b, err := s.Get(ctx, server.StoreFormatID)
		if err != nil {
			return err.Error()
		}
		return string(b)
	}

	empty := memblob.Open()
	if err := server.PrepareStore(ctx, empty); err != nil || marker(empty) != server.StoreFormat {
		t.Fatalf("empty store: %v, marker %q", err, marker(empty))
	}
	if err := server.PrepareStore(ctx, empty); err != nil {
		t.Fatalf("marked store: %v", err)
	}

	legacy := memblob.Open()
	if err := legacy.Put(ctx, domain.ObjectID{9}, []byte("a body without an enabler hash")); err != nil {
		t.Fatal(err)
	}
	if err := server.PrepareStore(ctx, legacy); !errors.Is(err, server.ErrLegacyStore) {
		t.Fatalf("legacy store: %v, want ErrLegacyStore", err)
	}
	if _, err := legacy.Get(ctx, server.StoreFormatID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a marker was written into the legacy store: %v", err)
	}

	other := memblob.Open()
	if err := other.Put(ctx, server.StoreFormatID, []byte("aegisd store format 3\n")); err != nil {
		t.Fatal(err)
	}
	if err := server.PrepareStore(ctx, other); !errors.Is(err, server.ErrStoreFormat) {
		t.Fatalf("other format: %v, want ErrStoreFormat", err)
	}

	// A replica that marked the store and served a write while this one
	// listed it: not a legacy store.
	raced := markedMeanwhile{memblob.Open()}
	if err := server.PrepareStore(ctx, raced); err != nil {
		t.Fatalf("store marked by another replica meanwhile: %v", err)
	}
}

type sizes struct{ max int }

func (s sizes) Allowed(n int) bool { return n <= s.max }
func (s sizes) Max() int           { return s.max }

func TestSizePolicyLeavesRoomForTheEnablerHash(t *testing.T) {
	cfg := server.Config{Store: memblob.Open(), Redeemer: noRedeem{}, Challenge: []byte{1}, TokenKey: []byte{1}}
	for _, c := range []struct {
		max int
		ok  bool
	}{
		{domain.MaxObjectSize - server.EnablerHashSize, true},
		{domain.MaxObjectSize - server.EnablerHashSize + 1, false},
		{domain.MaxObjectSize, false},
	} {
		cfg.Sizes = sizes{c.max}
		_, err := server.New(cfg)
		if (err == nil) != c.ok {
			t.Errorf("largest size %d: %v", c.max, err)
		}
		if err != nil && !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("largest size %d: %v, want ErrInvalidInput", c.max, err)
		}
	}
}

type noRedeem struct{}

func (noRedeem) Redeem(context.Context, []byte) error { return domain.ErrTokenInvalid }
