package httpblob

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"
)

// TestTokenPoolAttestationRefused: a token request the issuer answers with 401
// or 403 fails with an error wrapping ErrAttestationRefused; another failure
// (503) and success do not.
func TestTokenPoolAttestationRefused(t *testing.T) {
	issuer := issuerServer(t, func(want string) string { return want })
	target, err := url.Parse(issuer.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	for _, tc := range []struct {
		name    string
		status  int // answer to a token request without the right secret; 0: pass it on
		refused bool
	}{
		{"401 attestation_required", http.StatusUnauthorized, true},
		{"403", http.StatusForbidden, true},
		{"503 unavailable", http.StatusServiceUnavailable, false},
		{"issued", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tokenRequestsPath && tc.status != 0 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(`{"error":{"code":"attestation_required","message":"no"}}`))
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pool, err := NewTokenPool(ctx, srv.URL, []byte("wrong secret"), &PoolOptions{Batch: 2})
			if err != nil {
				t.Fatal(err)
			}
			_, err = pool.Token(ctx)
			if got := errors.Is(err, ErrAttestationRefused); got != tc.refused {
				t.Fatalf("Token: %v; wraps ErrAttestationRefused: %v, want %v", err, got, tc.refused)
			}
			if tc.status == 0 && err != nil {
				t.Fatalf("Token: %v", err)
			}
		})
	}
}
