package vault

import (
	"context"
	"testing"
)

// On a store with a writer lock and a Batcher, a StoreBatch puts its data objects
// and the new manifest's in one PutBatch, the data first, then swaps the header:
// one round of syncs on fsblob instead of two.
func TestStoreBatchWritesDataAndManifestInOneBatch(t *testing.T) {
	ctx := context.Background()
	rec := &batchRecorder{memStore: newMemStore()}
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
