package regression

import (
	"context"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func TestHeaderOfAnotherVaultNameIsRefused(t *testing.T) {
	ctx := context.Background()
	st := memblob.Open()
	ca, cb := cfg(st), cfg(st)
	ca.Name, cb.Name = "work", "personal"
	cb.SharedStore = true // two named vaults in one store
	va, err := vault.Create(ctx, ca, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	vb, err := vault.Create(ctx, cb, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	va.Store(ctx, "notes", []byte("work notes"))
	vb.Store(ctx, "notes", []byte("personal diary"))
	va.Close()
	vb.Close()
	hb, _ := st.Get(ctx, vault.HeaderID("personal"))
	st.Put(ctx, vault.HeaderID("work"), hb) // attacker copies b's header over a's
	v, err := vault.Open(ctx, ca, []byte("pw"))
	if err != nil {
		t.Logf("detected: %v", err)
		return
	}
	got, err := v.Load(ctx, "notes")
	if err == nil {
		t.Errorf("vault %q opened with %q's header: Load returns %q", "work", "personal", got)
	}
	// A write through "work" now deletes objects that vault "personal" still references.
	if err := v.Store(ctx, "notes", []byte("x")); err != nil {
		t.Fatal(err)
	}
	vb2, err := vault.Open(ctx, cb, []byte("pw"))
	if err == nil {
		_, err = vb2.Load(ctx, "notes")
	}
	t.Logf("vault personal after a write through work: %v", err)
}
