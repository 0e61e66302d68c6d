package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// applyThenCancel is a store whose writes are applied, after which the
// request's context is cancelled and the write fails with its error: the
// client went away while the store was writing.
type applyThenCancel struct {
	*memblob.Store
	cancel context.CancelFunc
}

func (s *applyThenCancel) CompareAndSwap(ctx context.Context, id domain.ObjectID, expected domain.Version, data []byte) (domain.Version, error) {
	if _, err := s.Store.CompareAndSwap(ctx, id, expected, data); err != nil || s.cancel == nil {
		return "", err
	}
	s.cancel()
	return "", ctx.Err()
}

func (s *applyThenCancel) Delete(ctx context.Context, id domain.ObjectID) error {
	if err := s.Store.Delete(ctx, id); err != nil || s.cancel == nil {
		return err
	}
	s.cancel()
	return ctx.Err()
}

// TestCancelledAfterTheStoreIsNotUnavailable: a request whose context ends
// while the store applies it is answered 503 request_cancelled ("may or may
// not have been applied"), never unavailable, which says that nothing was done.
func TestCancelledAfterTheStoreIsNotUnavailable(t *testing.T) {
	store := &applyThenCancel{Store: memblob.Open()}
	srv, tokens := newTestServer(t, store)
	id := domain.ObjectID{7}
	enabler := httpwire.FormatWriteEnabler(domain.WriteEnabler{7})
	send := func(method string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		store.cancel = cancel
		defer func() { store.cancel = nil }()
		req := httptest.NewRequestWithContext(ctx, method, server.ObjectsPath+"/"+id.String(), bytes.NewReader(body))
		tok, err := tokens.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", privacypass.FormatAuthorization(tok))
		req.Header.Set(server.WriteEnablerHeader, enabler)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	code := func(rec *httptest.ResponseRecorder) string {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		return e.Error.Code
	}
	for i, c := range []struct {
		method string
		hdr    map[string]string
	}{
		{http.MethodPut, nil},
		{http.MethodPut, nil}, // replaces the object: read, compare, swap
		{http.MethodDelete, nil},
		{http.MethodPut, map[string]string{"If-None-Match": "*"}},
	} {
		var body []byte
		if c.method == http.MethodPut {
			body = make([]byte, domain.KiB)
			body[0] = byte(i + 1)
		}
		before, _ := store.Store.Get(t.Context(), id)
		rec := send(c.method, body, c.hdr)
		if rec.Code != http.StatusServiceUnavailable || code(rec) != server.CodeRequestCancelled {
			t.Fatalf("%s %v cancelled after the store applied it: %d %s, want 503 %s", c.method, c.hdr, rec.Code, rec.Body, server.CodeRequestCancelled)
		}
		after, err := store.Store.Get(t.Context(), id)
		if c.method == http.MethodDelete {
			if err == nil {
				t.Fatal("the delete was not applied")
			}
			continue
		}
		if err != nil || bytes.Equal(before, after) {
			t.Fatalf("%s %v: the write was not applied (%v)", c.method, c.hdr, err)
		}
	}
	if server.CodeRequestCancelled == server.CodeUnavailable || server.CodeRequestCancelled == server.CodeBusy {
		t.Fatal("request_cancelled must not be a nothing-was-done code")
	}
}
