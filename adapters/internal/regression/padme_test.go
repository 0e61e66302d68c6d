package regression

import (
	"context"
	"errors"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// A padding policy whose objects a reader would refuse is refused before anything
// is written, instead of producing a vault that cannot be opened again.
func TestPaddingPolicyOutsideObjectSizesIsRefused(t *testing.T) {
	ctx := context.Background()
	st := memblob.Open()
	c := cfg(st)
	c.Padding = domain.PadmePolicy{MinSize: 128, MaxSize: domain.MiB}
	if _, err := vault.Create(ctx, c, []byte("pw")); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("Create with 128-byte objects: %v, want ErrInvalidInput", err)
	}
	n := 0
	_ = st.List(ctx, func(domain.ObjectID) error { n++; return nil })
	if n != 0 {
		t.Fatalf("a refused Create wrote %d objects", n)
	}
}
