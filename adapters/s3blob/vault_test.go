package s3blob_test

import (
	"bytes"
	"testing"

	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// Two Vaults on two Stores over one bucket and prefix (as behind two aegisd
// replicas, or two clients of one bucket) take turns writing: each sees the
// other's commits, and a vault opened afresh reads everything.
func TestVaultOverTwoStores(t *testing.T) {
	cfg := serviceConfig(t)
	storeA, storeB := openStore(t, cfg), openStore(t, cfg)
	crypto := suite.New(kdf.InsecureTestPolicy())
	ctx := t.Context()
	pass := []byte("correct horse battery staple")

	a, err := vault.Create(ctx, vault.Config{Store: storeA, Crypto: crypto}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Store(ctx, "contacts", []byte("alice, bob")); err != nil {
		t.Fatal(err)
	}
	b, err := vault.Open(ctx, vault.Config{Store: storeB, Crypto: crypto}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Store(ctx, "notes", bytes.Repeat([]byte("n"), 300<<10)); err != nil { // several chunks
		t.Fatal(err)
	}
	if err := a.Store(ctx, "contacts", []byte("alice, bob, carol")); err != nil { // a's view is stale: it must refresh
		t.Fatal(err)
	}

	fresh, err := vault.Open(ctx, vault.Config{Store: storeB, Crypto: crypto}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	all, err := fresh.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(all["contacts"]) != "alice, bob, carol" || len(all["notes"]) != 300<<10 || len(all) != 2 {
		t.Fatalf("LoadAll: %d categories, contacts %q, notes %d bytes", len(all), all["contacts"], len(all["notes"]))
	}
}
