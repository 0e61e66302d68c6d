package httpblob

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// plain is an answer without aegisd's error body, as a proxy sends it.
func plain(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("<html><body>" + http.StatusText(code) + "</body></html>"))
	}
}

// dropped closes the connection without an answer, after the request was read.
func dropped(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = c.Close()
	}
}

// TestResendsOnlyWhatAegisdDidNotDo: a compare-and-swap or a delete is resent
// only after aegisd's own "nothing was done" answer; every other failure after
// the request may have reached the server is ErrOutcomeUnknown, not resent.
func TestResendsOnlyWhatAegisdDidNotDo(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	writes := map[string]func(s domain.BlobStore) error{
		"create": func(s domain.BlobStore) error {
			_, err := s.CompareAndSwap(t.Context(), id, "", []byte("x"))
			return err
		},
		"swap": func(s domain.BlobStore) error {
			_, err := s.CompareAndSwap(t.Context(), id, "v1", []byte("x"))
			return err
		},
		"delete": func(s domain.BlobStore) error { return s.Delete(t.Context(), id) },
	}
	ambiguous := map[string]func(http.ResponseWriter){
		"proxy 503 without aegisd's body": plain(http.StatusServiceUnavailable),
		"proxy 502":                       plain(http.StatusBadGateway),
		"proxy 504":                       plain(http.StatusGatewayTimeout),
		"proxy 429 without aegisd's body": plain(http.StatusTooManyRequests),
		"proxy 412 without aegisd's body": plain(http.StatusPreconditionFailed),
		"aegisd 500":                      status(500, "internal"),
		"aegisd request_cancelled":        status(503, "request_cancelled"),
		"503 with another code":           status(503, "overloaded"),
		"dropped connection":              dropped,
	}
	for wname, write := range writes {
		for aname, answer := range ambiguous {
			f, s := newFake(t, answer, created(`"v2"`))
			err := write(s)
			if !errors.Is(err, domain.ErrOutcomeUnknown) || errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrNotFound) {
				t.Errorf("%s after %s: %v, want ErrOutcomeUnknown only", wname, aname, err)
			}
			if len(f.reqs()) != 1 {
				t.Errorf("%s after %s: sent %d times, want once", wname, aname, len(f.reqs()))
			}
		}
		for _, nothing := range []func(http.ResponseWriter){status(503, "busy"), status(503, "unavailable"), status(429, "busy")} {
			f, s := newFake(t, nothing, created(`"v2"`))
			if err := write(s); err != nil {
				t.Errorf("%s after aegisd's nothing-done answer: %v", wname, err)
			}
			if len(f.toks()) != 2 || f.toks()[0] == f.toks()[1] {
				t.Errorf("%s after aegisd's nothing-done answer: tokens %v, want 2 distinct", wname, f.toks())
			}
		}
		// Busy at every try: given up, and nothing was done.
		f, s := newFake(t, status(503, "busy"))
		if err := write(s); err == nil || errors.Is(err, domain.ErrOutcomeUnknown) {
			t.Errorf("%s busy at every try: %v, want a plain error", wname, err)
		}
		if len(f.reqs()) != 4 {
			t.Errorf("%s busy at every try: %d tries, want 4", wname, len(f.reqs()))
		}
	}
}

// TestConflictAfterResendIsAmbiguous: a 412 that answers a resend of a
// compare-and-swap could be the answer to the first try, applied.
func TestConflictAfterResendIsAmbiguous(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	f, s := newFake(t, status(503, "busy"), status(412, "precondition_failed"))
	_, err := s.CompareAndSwap(t.Context(), id, "v1", []byte("x"))
	if !errors.Is(err, domain.ErrOutcomeUnknown) || errors.Is(err, domain.ErrConflict) {
		t.Fatalf("412 after a resend: %v, want ErrOutcomeUnknown, not ErrConflict", err)
	}
	if len(f.reqs()) != 2 {
		t.Fatalf("%d requests, want 2", len(f.reqs()))
	}
	// At the first try it is a conflict.
	_, s = newFake(t, status(412, "precondition_failed"))
	if _, err := s.CompareAndSwap(t.Context(), id, "v1", []byte("x")); !errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("412 at the first try: %v, want ErrConflict", err)
	}
}

func TestIdempotentRequestsAreResent(t *testing.T) {
	id, _ := domain.NewObjectID(nil)
	for name, answer := range map[string]func(http.ResponseWriter){
		"proxy 503": plain(503), "proxy 502": plain(502), "proxy 504": plain(504), "dropped connection": dropped,
	} {
		f, s := newFake(t, answer, created(`"v2"`))
		if err := s.Put(t.Context(), id, []byte("x")); err != nil {
			t.Errorf("Put after %s: %v", name, err)
		}
		if len(f.reqs()) != 2 {
			t.Errorf("Put after %s: %d requests, want 2", name, len(f.reqs()))
		}
		f, s = newFake(t, answer, object(`"v2"`, "x"))
		if _, err := s.Get(t.Context(), id); err != nil {
			t.Errorf("Get after %s: %v", name, err)
		}
		if len(f.reqs()) != 2 {
			t.Errorf("Get after %s: %d requests, want 2", name, len(f.reqs()))
		}
	}
}

// TestNoConnectionIsNotAmbiguous: a write whose connection could not be made
// was not sent: it is resent, and the final error does not claim that it may
// have been applied.
func TestNoConnectionIsNotAmbiguous(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	st, err := Open("http://"+addr, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Guarded(testEnabler)
	id, _ := domain.NewObjectID(nil)
	_, err = s.CompareAndSwap(t.Context(), id, "", []byte("x"))
	if err == nil || errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap without a connection: %v, want a plain error", err)
	}
	// The same after a connection was made and dropped: ambiguous.
	f := &fake{answers: []func(http.ResponseWriter){dropped}}
	ts := httptest.NewServer(f)
	defer ts.Close()
	st, _ = Open(ts.URL, &Options{Tokens: &countingTokens{}, Backoff: time.Millisecond})
	if _, err := st.Guarded(testEnabler).CompareAndSwap(t.Context(), id, "", []byte("x")); !errors.Is(err, domain.ErrOutcomeUnknown) {
		t.Fatalf("CompareAndSwap on a dropped connection: %v, want ErrOutcomeUnknown", err)
	}
}
