package httpblob

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/ai-pantheon/aegis/domain"
)

// TestContextTokenFirstTryOnly: a request whose context carries a token sends
// exactly it with its first try, without asking the store's source; a resend
// takes a fresh token from the source, and the context's token is sent once.
func TestContextTokenFirstTryOnly(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	const ctxTok = "token-from-the-context"
	calls := map[string]struct {
		answer func(http.ResponseWriter)
		call   func(ctx context.Context, s domain.BlobStore) error
	}{
		"Get": {object(`"v1"`, "x"), func(ctx context.Context, s domain.BlobStore) error {
			_, err := s.Get(ctx, id)
			return err
		}},
		"GetVersioned": {object(`"v1"`, "x"), func(ctx context.Context, s domain.BlobStore) error {
			_, _, err := s.GetVersioned(ctx, id)
			return err
		}},
		"Put": {created(`"v1"`), func(ctx context.Context, s domain.BlobStore) error {
			return s.Put(ctx, id, []byte("x"))
		}},
		"CompareAndSwap create": {created(`"v1"`), func(ctx context.Context, s domain.BlobStore) error {
			_, err := s.CompareAndSwap(ctx, id, "", []byte("x"))
			return err
		}},
		"CompareAndSwap swap": {created(`"v2"`), func(ctx context.Context, s domain.BlobStore) error {
			_, err := s.CompareAndSwap(ctx, id, "v1", []byte("x"))
			return err
		}},
		"Delete": {created(`"v1"`), func(ctx context.Context, s domain.BlobStore) error {
			return s.Delete(ctx, id)
		}},
	}
	for name, c := range calls {
		// Answered at once: the context's token only, the source not asked.
		f, st, pool := newFakeWithPool(t, c.answer)
		ctx := domain.WithToken(t.Context(), []byte(ctxTok))
		if err := c.call(ctx, st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := f.toks(); !slices.Equal(got, []string{ctxTok}) {
			t.Errorf("%s: tokens %q, want only the context's", name, got)
		}
		if pool.n != 0 {
			t.Errorf("%s: the store's source was asked %d times", name, pool.n)
		}
		// aegisd did nothing at the first try (503 unavailable): the resend
		// carries a token of the source, and the context's token went once.
		f, st, pool = newFakeWithPool(t, status(http.StatusServiceUnavailable, "unavailable"), c.answer)
		if err := c.call(ctx, st); err != nil {
			t.Fatalf("%s after a 503: %v", name, err)
		}
		if got := f.toks(); !slices.Equal(got, []string{ctxTok, "token-1"}) {
			t.Errorf("%s after a 503: tokens %q, want the context's, then the source's first", name, got)
		}
		if pool.n != 1 {
			t.Errorf("%s after a 503: the store's source was asked %d times, want once", name, pool.n)
		}
	}
	// Without a token in the context, every try takes one from the source.
	f, st, _ := newFakeWithPool(t, status(http.StatusServiceUnavailable, "unavailable"), object(`"v1"`, "x"))
	if _, err := st.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if got := f.toks(); !slices.Equal(got, []string{"token-1", "token-2"}) {
		t.Errorf("without a context token: tokens %q", got)
	}
}

// newFakeWithPool is newFake that also returns the store's token source.
func newFakeWithPool(t *testing.T, answers ...func(http.ResponseWriter)) (*fake, domain.BlobStore, *countingTokens) {
	t.Helper()
	f, s := newFakeStore(t, answers...)
	return f, s.Guarded(testEnabler), s.tokens.(*countingTokens)
}

// TestContextTokensRequired: with Options.ContextTokens, a request whose
// context carries no token is refused before anything is sent, and one that
// carries a token sends it.
func TestContextTokensRequired(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	f, s := newFakeStore(t, object(`"v1"`, "x"))
	s.ctxOnly = true
	if _, err := s.Get(t.Context(), id); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("Get without a context token: %v, want ErrInvalidInput", err)
	}
	if got := f.toks(); len(got) != 0 {
		t.Fatalf("the server saw %q", got)
	}
	if _, err := s.Get(domain.WithToken(t.Context(), []byte("mine")), id); err != nil {
		t.Fatal(err)
	}
	if got := f.toks(); !slices.Equal(got, []string{"mine"}) {
		t.Fatalf("tokens %q, want the context's", got)
	}
}
