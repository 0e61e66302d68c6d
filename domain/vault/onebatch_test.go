package vault

import (
	"context"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// On a store with a writer lock and a Batcher, a StoreBatch puts its data objects
// and the new manifest's in one PutBatch, the data first, then swaps the header:
// one round of syncs on fsblob instead of two.
func TestStoreBatchWritesDataAndManifestInOneBatch(t *testing.T) {
	ctx := context.Background()
	rec := &batchRecorder{mapStore: newMapStore()}
	v, err := Create(ctx, Config{Store: rec, Crypto: keyedCrypto{}, Padding: testPolicy(t)}, []byte(oldPass))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	rec.batches, rec.ids, rec.puts = nil, nil, 0
	res, err := v.StoreBatch(ctx, []BatchItem{{Category: "a", Data: randomBytes(100)}, {Category: "b", Data: randomBytes(3000)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.ids) != 1 || rec.puts != 0 {
		t.Fatalf("%d batches and %d single puts, want one batch", len(rec.ids), rec.puts)
	}
	data := len(res.WriteOrder)
	batch := rec.ids[0]
	if data != 3 || len(batch) != data+len(v.root.manifest) {
		t.Fatalf("a batch of %d objects for %d data objects and %d manifest objects", len(batch), data, len(v.root.manifest))
	}
	for i, c := range v.root.manifest {
		if batch[data+i] != c.id {
			t.Fatalf("object %d of the batch is not manifest chunk %d", data+i, i)
		}
	}
	live := liveIDs(v)
	for _, id := range batch {
		if !live[id] {
			t.Fatalf("object %s of the batch is not referenced", id)
		}
	}
	if got, err := v.Load(ctx, "b"); err != nil || len(got) != 3000 {
		t.Fatalf("Load: %d bytes, %v", len(got), err)
	}
}

// swapStore is a mapStore that is also a domain.BatchSwapper; fail, when set,
// decides the fate of each PutBatchThenSwap: whether it runs, and its error.
type swapStore struct {
	*mapStore
	calls, batches, swaps int
	fail                  func(call int) (apply bool, err error)
}

func (s *swapStore) PutBatch(ctx context.Context, objs []domain.Object) error {
	s.batches++
	return s.mapStore.PutBatch(ctx, objs)
}

func (s *swapStore) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.swaps++
	return s.mapStore.CompareAndSwap(ctx, id, expected, data)
}

func (s *swapStore) PutBatchThenSwap(ctx context.Context, objs []domain.Object, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	s.calls++
	apply, ferr := true, error(nil)
	if s.fail != nil {
		apply, ferr = s.fail(s.calls)
	}
	if !apply {
		return "", ferr
	}
	if err := s.mapStore.PutBatch(ctx, objs); err != nil {
		return "", err
	}
	ver, err := s.mapStore.CompareAndSwap(ctx, id, expected, data)
	if err != nil {
		return "", err
	}
	return ver, ferr
}

// On a BatchSwapper with a writer lock, a Store is one PutBatchThenSwap; when it
// fails, the outcome is read back: a swap that took effect is a success, one that
// did not is done again the two-step way.
func TestStoreUsesPutBatchThenSwap(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name                  string
		fail                  func(int) (bool, error)
		calls, batches, swaps int
	}{
		{"clean", nil, 1, 0, 0},
		{"failed before anything", func(int) (bool, error) { return false, errInjected }, 1, 1, 1},
		{"failed after the swap", func(int) (bool, error) { return true, errInjected }, 1, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &swapStore{mapStore: newMapStore()}
			cfg := Config{Store: s, Crypto: keyedCrypto{}, Padding: testPolicy(t)}
			v, err := Create(ctx, cfg, []byte(oldPass))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			s.calls, s.batches, s.swaps, s.fail = 0, 0, 0, c.fail
			if err := v.Store(ctx, "a", []byte("content")); err != nil {
				t.Fatal(err)
			}
			if s.calls != c.calls || s.batches != c.batches || s.swaps != c.swaps {
				t.Fatalf("%d PutBatchThenSwap, %d PutBatch, %d CompareAndSwap; want %d, %d, %d", s.calls, s.batches, s.swaps, c.calls, c.batches, c.swaps)
			}
			s.fail = nil
			o, err := Open(ctx, cfg, []byte(oldPass))
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if got, err := o.Load(ctx, "a"); err != nil || string(got) != "content" {
				t.Fatalf("Load: %q, %v", got, err)
			}
			if n, err := o.Sweep(ctx); err != nil || n != 0 {
				t.Fatalf("Sweep: %d, %v: garbage left", n, err)
			}
		})
	}
}
