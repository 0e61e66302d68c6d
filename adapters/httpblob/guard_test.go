package httpblob

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/domain"
)

func created(etag string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNoContent)
	}
}

func TestUnguardedStoreRefusesWrites(t *testing.T) {
	f, s := newFakeStore(t, object(`"v1"`, "x"))
	id, _ := domain.NewObjectID(nil)
	ctx := t.Context()
	_, casErr := s.CompareAndSwap(ctx, id, "", []byte("x"))
	for what, err := range map[string]error{"Put": s.Put(ctx, id, []byte("x")), "Delete": s.Delete(ctx, id), "CompareAndSwap": casErr} {
		if !errors.Is(err, domain.ErrInvalidInput) || !errors.Is(err, errUnguarded) {
			t.Errorf("%s without enablers: %v, want the use-Guarded error", what, err)
		}
	}
	if len(f.reqs()) != 0 {
		t.Fatalf("%d requests sent by refused writes", len(f.reqs()))
	}
	if _, err := s.Get(ctx, id); err != nil {
		t.Fatalf("Get through the unguarded store: %v", err)
	}
	// Guarded on a view replaces the function; a nil function refuses again.
	if err := s.Guarded(testEnabler).(domain.WriteGuard).Guarded(nil).Put(ctx, id, nil); !errors.Is(err, errUnguarded) {
		t.Fatalf("Guarded(nil) view: %v", err)
	}
}

func TestGuardedSendsTheEnablerOfEachWrite(t *testing.T) {
	f, s := newFake(t, created(`"v1"`))
	ctx := t.Context()
	a, _ := domain.NewObjectID(nil)
	b, _ := domain.NewObjectID(nil)
	if err := s.Put(ctx, a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, b, "", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSwap(ctx, b, "v1", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.setAnswers(object(`"v1"`, "x"))
	if _, err := s.Get(ctx, a); err != nil {
		t.Fatal(err)
	}
	want := []domain.ObjectID{a, b, b, a}
	for i, r := range f.reqs() {
		got := r.Header.Values(httpwire.WriteEnablerHeader)
		if i == len(want) {
			if len(got) != 0 {
				t.Fatalf("GET carries an enabler: %v", got)
			}
			continue
		}
		if len(got) != 1 || got[0] != httpwire.FormatWriteEnabler(testEnabler(want[i])) {
			t.Fatalf("request %d (%s %s): enabler %v, want that of %s", i, r.Method, r.URL.Path, got, want[i])
		}
	}
}

func TestListIsUnsupported(t *testing.T) {
	f, s := newFake(t, object(`"v1"`, "x"))
	err := s.List(t.Context(), func(domain.ObjectID) error { t.Fatal("fn called"); return nil })
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("List: %v, want errors.ErrUnsupported", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.List(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("List with a cancelled context: %v", err)
	}
	if len(f.reqs()) != 0 {
		t.Fatal("List sent a request")
	}
}
