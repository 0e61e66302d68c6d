package httpblob

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/crypto/privacypass"
)

// issuerServer is an httptest server with aegisd's issuer paths for one type 5
// key: the 401 challenge, the issuer directory and POST /v1/token-requests,
// whose answer carries the Content-Type respType returns.
func issuerServer(t *testing.T, respType func(want string) string) *httptest.Server {
	t.Helper()
	key, err := privacypass.GenerateIssuerKey(privacypass.TypeVOPRFRistretto255, nil, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	issuer := privacypass.NewIssuer(key)
	challenge, err := (&privacypass.TokenChallenge{TokenType: key.Type(), IssuerName: "test"}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == privacypass.DirectoryPath:
			d := privacypass.Directory{IssuerRequestURI: tokenRequestsPath, TokenKeys: []privacypass.DirectoryKey{{TokenType: key.Type(), TokenKey: key.TokenKey()}}}
			w.Header().Set("Content-Type", privacypass.DirectoryMediaType)
			_ = json.NewEncoder(w).Encode(d)
		case r.URL.Path == tokenRequestsPath && r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			resp, err := issuer.Respond(r.Header.Get("Content-Type"), body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnprocessableEntity)
				return
			}
			w.Header().Set("Content-Type", respType(resp.MediaType))
			_, _ = w.Write(resp.Body)
		default:
			w.Header().Set("WWW-Authenticate", privacypass.FormatWWWAuthenticate(privacypass.Challenge{TokenChallenge: challenge, TokenKey: key.TokenKey(), MaxAge: -1}))
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTokenPoolResponseMediaType: a batch response is taken when its
// Content-Type is the batch format's, in any case and with parameters, and
// refused (no token) when it is another type or missing.
func TestTokenPoolResponseMediaType(t *testing.T) {
	for _, tc := range []struct {
		name string
		ct   func(want string) string
		ok   bool
	}{
		{"exact", func(w string) string { return w }, true},
		{"upper case, a parameter", func(w string) string { return strings.ToUpper(w) + "; charset=binary" }, true},
		{"the single-token type", func(string) string { return privacypass.ResponseMediaType }, false},
		{"octet-stream", func(string) string { return "application/octet-stream" }, false},
		{"a longer name", func(w string) string { return w + "x" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := issuerServer(t, tc.ct)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pool, err := NewTokenPool(ctx, srv.URL, []byte("secret"), &PoolOptions{Batch: 4})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := pool.Token(ctx)
			if tc.ok {
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				if pt, err := privacypass.ParseToken(tok); err != nil || pt.TokenType != privacypass.TypeVOPRFRistretto255 {
					t.Fatalf("token %x: %v", tok, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "response of type") {
				t.Fatalf("Token: %v, want a refused response type", err)
			}
		})
	}
}
