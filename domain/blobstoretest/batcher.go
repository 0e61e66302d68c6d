package blobstoretest

import (
	"context"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// testBatcher checks PutBatch and DeleteBatch against the single-object methods.
func testBatcher(t *testing.T, s domain.BlobStore, b domain.Batcher) {
	ctx := testCtx(t)
	if err := b.PutBatch(ctx, nil); err != nil {
		t.Fatalf("PutBatch of nothing: %v", err)
	}
	objs := make([]domain.Object, 24)
	ids := make([]domain.ObjectID, len(objs))
	for i := range objs {
		ids[i] = newID(t)
		objs[i] = domain.Object{ID: ids[i], Data: randomBytes(t, 100+i)}
	}
	if err := b.PutBatch(ctx, objs); err != nil {
		t.Fatalf("PutBatch: %v", err)
	}
	for i, o := range objs {
		wantEqual(t, "object of the batch", mustGet(t, s, o.ID), o.Data)
		o.Data[0] ^= 0xff // the store must have copied the input
		objs[i] = o
	}
	for _, o := range objs {
		if got := mustGet(t, s, o.ID); got[0] == o.Data[0] {
			t.Fatal("PutBatch kept a reference to the caller's bytes")
		}
	}
	wantListed(t, s, ids)

	absent := newID(t)
	if err := b.DeleteBatch(ctx, append(ids[:12:12], absent)); err != nil {
		t.Fatalf("DeleteBatch with an absent id: %v", err)
	}
	for i, id := range ids {
		_, err := s.Get(ctx, id)
		if i < 12 {
			wantErrIs(t, "Get after DeleteBatch", err, domain.ErrNotFound)
		} else if err != nil {
			t.Fatalf("DeleteBatch removed an object it was not given: %v", err)
		}
	}
	wantListed(t, s, ids[12:])

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.PutBatch(cctx, objs[:1]); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutBatch with a cancelled context: %v", err)
	}
	if err := b.DeleteBatch(cctx, ids[12:13]); !errors.Is(err, context.Canceled) {
		t.Fatalf("DeleteBatch with a cancelled context: %v", err)
	}
}
