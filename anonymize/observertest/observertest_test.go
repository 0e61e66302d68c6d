package observertest_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/anonymize/observertest"
	"github.com/ai-pantheon/aegis/domain"
)

// The observer must catch what it is there to catch.
func TestObserverCatchesViolations(t *testing.T) {
	ctx := context.Background()
	obs := observertest.Wrap(fakes.NewStore())
	var a, b domain.ObjectID
	a[0], b[0] = 1, 2
	body := make([]byte, domain.KiB)
	if err := obs.Put(ctx, a, body); err != nil {
		t.Fatal(err)
	}
	if err := obs.CheckSizes(ctx, domain.DefaultBuckets()); err != nil {
		t.Fatal(err)
	}
	if err := obs.Put(ctx, b, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if obs.CheckSizes(ctx, domain.DefaultBuckets()) == nil {
		t.Fatal("a 1000-byte object passed the size check")
	}
	if err := obs.CheckFreshNames(); err != nil {
		t.Fatal(err)
	}
	if err := obs.Put(ctx, a, body); err != nil {
		t.Fatal(err)
	}
	if obs.CheckFreshNames() == nil {
		t.Fatal("a reused name passed")
	}

	secret := []byte("contacts-category")
	h := sha256.Sum256(secret)
	leaks := map[string][]byte{
		"name in body":     append(make([]byte, 100), secret...),
		"hash in body":     append(make([]byte, 10), h[:]...),
		"hex hash in body": []byte("xx" + domain.ObjectID(h).String()),
	}
	for what, data := range leaks {
		o := observertest.Wrap(fakes.NewStore())
		if err := o.Put(ctx, a, data); err != nil {
			t.Fatal(err)
		}
		if o.CheckNoLeak(ctx, secret, h[:]) == nil {
			t.Errorf("%s: not caught", what)
		}
	}
	o := observertest.Wrap(fakes.NewStore())
	if err := o.Put(ctx, domain.ObjectID(h), body); err != nil {
		t.Fatal(err)
	}
	if o.CheckNoLeak(ctx, h[:]) == nil {
		t.Error("hash as object name: not caught")
	}
	if len(observertest.Puts(obs.Events())) != 3 || obs.Mark() != 3 || len(obs.Since(1)) != 2 {
		t.Fatal("events not recorded")
	}
	if err := obs.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	if e := obs.Events()[3]; e.Op != observertest.OpDelete || e.ID != b {
		t.Fatalf("delete recorded as %+v", e)
	}
	o2 := observertest.Wrap(fakes.NewStore())
	if _, err := o2.CompareAndSwap(ctx, b, "", make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	if o2.CheckSizes(ctx, domain.DefaultBuckets()) == nil {
		t.Fatal("a 512-byte header passed the size check")
	}
}
