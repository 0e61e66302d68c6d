package httpblob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// countingTokens hands out distinct fake tokens.
type countingTokens struct {
	mu sync.Mutex
	n  int
}

func (c *countingTokens) Token(context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return []byte(fmt.Sprintf("token-%d", c.n)), nil
}

// fake is an aegisd stand-in that answers from a script and records requests.
type fake struct {
	mu       sync.Mutex
	tokens   []string
	answers  []func(w http.ResponseWriter)
	requests []*http.Request
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, err := privacypass.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.tokens = append(f.tokens, string(tok))
	f.requests = append(f.requests, r)
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	a(w)
}

// toks and reqs return what the fake has seen so far; setAnswers replaces its script.
func (f *fake) toks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokens...)
}

func (f *fake) reqs() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

func (f *fake) setAnswers(a ...func(http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = a
}

func status(code int, apiCode string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":"m"}}`, apiCode)
	}
}

func object(etag, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, body)
	}
}

// testEnabler is the enabler function of the tests: the id's first bytes.
func testEnabler(id domain.ObjectID) domain.WriteEnabler {
	var e domain.WriteEnabler
	copy(e[:], id[:8])
	e[31] = 0x5a
	return e
}

// newFake returns the fake and a guarded view (testEnabler) of a store on it.
func newFake(t *testing.T, answers ...func(http.ResponseWriter)) (*fake, domain.BlobStore) {
	t.Helper()
	f, s := newFakeStore(t, answers...)
	return f, s.Guarded(testEnabler)
}

func newFakeStore(t *testing.T, answers ...func(http.ResponseWriter)) (*fake, *Store) {
	t.Helper()
	f := &fake{answers: answers}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	s, err := Open(ts.URL, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func TestRetriesIdempotentWithFreshTokens(t *testing.T) {
	f, s := newFake(t, status(503, "busy"), status(502, "x"), object(`"v7"`, "hello"))
	id, _ := domain.NewObjectID(nil)
	got, v, err := s.GetVersioned(t.Context(), id)
	if err != nil || string(got) != "hello" || v != "v7" {
		t.Fatalf("GetVersioned = %q, %q, %v", got, v, err)
	}
	if len(f.toks()) != 3 || f.toks()[0] == f.toks()[1] || f.toks()[1] == f.toks()[2] {
		t.Fatalf("tokens %v, want 3 distinct", f.toks())
	}
	for _, r := range f.reqs() {
		if r.Header.Get("User-Agent") != UserAgent || r.Header.Get("Cookie") != "" {
			t.Fatalf("request headers %v", r.Header)
		}
	}
}

func TestDeleteAndCASNotRetriedAfterAmbiguousFailure(t *testing.T) {
	created := func(w http.ResponseWriter) {
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNoContent)
	}
	f, s := newFake(t, status(502, "x"), status(502, "x"), created)
	id, _ := domain.NewObjectID(nil)
	if err := s.Delete(t.Context(), id); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("Delete after a 502: %v, want ErrOutcomeUnknown", err)
	}
	if _, err := s.CompareAndSwap(t.Context(), id, "", []byte("x")); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap after a 502: %v, want ErrOutcomeUnknown", err)
	}
	if len(f.toks()) != 2 {
		t.Fatalf("%d requests, want 2 (no retries)", len(f.toks()))
	}
	// aegisd's 503 busy means it did nothing: retried.
	f, s = newFake(t, status(503, "busy"), created)
	if v, err := s.CompareAndSwap(t.Context(), id, "", []byte("x")); err != nil || v != "v1" {
		t.Fatalf("CompareAndSwap after a 503: %q, %v", v, err)
	}
	if len(f.toks()) != 2 || f.toks()[0] == f.toks()[1] {
		t.Fatalf("tokens %v", f.toks())
	}
}

func TestStatusMapping(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	_, s := newFake(t, status(404, "object_not_found"))
	if _, err := s.Get(t.Context(), id); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("404: %v", err)
	}
	_, s = newFake(t, status(412, "precondition_failed"))
	if _, err := s.CompareAndSwap(t.Context(), id, "v1", []byte("x")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("412: %v", err)
	}
	_, s = newFake(t, status(400, "invalid_size"))
	if err := s.Put(t.Context(), id, []byte("x")); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("400: %v", err)
	}
	_, s = newFake(t, status(401, "token_spent"))
	if err := s.Put(t.Context(), id, []byte("x")); !errors.Is(err, domain.ErrTokenSpent) {
		t.Fatalf("401: %v", err)
	}
	// A version aegisd cannot have issued conflicts without a request.
	f, s := newFake(t, status(500, "internal"))
	if _, err := s.CompareAndSwap(t.Context(), id, "has space", []byte("x")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("made-up version: %v", err)
	}
	if len(f.toks()) != 0 {
		t.Fatal("a request was sent for a made-up version")
	}
}

func TestNoRedirects(t *testing.T) {
	_, s := newFake(t, func(w http.ResponseWriter) {
		w.Header().Set("Location", "http://example.invalid/")
		w.WriteHeader(http.StatusFound)
	})
	id, _ := domain.NewObjectID(nil)
	if _, err := s.Get(t.Context(), id); err == nil {
		t.Fatal("a redirect was followed or accepted")
	}
}

func TestOpenChecksArguments(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "http://u:p@host", "http://h/?q=1"} {
		if _, err := Open(u, &Options{Tokens: &countingTokens{}}); !errors.Is(err, domain.ErrInvalidInput) {
			t.Errorf("Open(%q): %v", u, err)
		}
	}
	if _, err := Open("http://127.0.0.1:1", nil); !errors.Is(err, domain.ErrInvalidInput) {
		t.Errorf("Open without tokens: %v", err)
	}
}

// TestGetResentByTheTransport: a proxy forwards a GET and closes the client's
// reused connection without an answer. net/http resends the GET by itself with
// the same token, which aegisd refuses as spent; the Store sends it again with
// a fresh token.
func TestGetResentByTheTransport(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		n    int
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := privacypass.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		spent := seen[string(tok)]
		seen[string(tok)] = true
		n++
		drop := n == 2
		mu.Unlock()
		switch {
		case spent:
			status(http.StatusUnauthorized, "token_spent")(w)
		case drop:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		default:
			object(`"v1"`, "hello")(w)
		}
	}))
	t.Cleanup(ts.Close)
	s, err := Open(ts.URL, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := domain.NewObjectID(nil)
	for i := range 2 { // the second GET reuses the first one's connection
		if got, _, err := s.GetVersioned(t.Context(), id); err != nil || string(got) != "hello" {
			t.Fatalf("GetVersioned %d = %q, %v", i, got, err)
		}
	}
	if n < 3 {
		t.Fatalf("%d requests: the dropped GET was not sent again", n)
	}
}
