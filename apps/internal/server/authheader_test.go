package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
)

// TestAuthorizationAsClientsSendIt: a token is accepted in the forms clients
// write it, among them privacypass-ts's default, unquoted with base64url
// padding (PrivateToken token=AAEA…=); redeemed in one form, it is spent in
// every other.
func TestAuthorizationAsClientsSendIt(t *testing.T) {
	e := newFCEnv(t, nil)
	forms := []struct {
		name   string
		format func([]byte) string
	}{
		{"unquoted padded", func(b []byte) string { return "PrivateToken token=" + base64.URLEncoding.EncodeToString(b) }},
		{"unquoted unpadded", func(b []byte) string { return "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(b) }},
		{"quoted unpadded", func(b []byte) string { return `PrivateToken token="` + base64.RawURLEncoding.EncodeToString(b) + `"` }},
		{"quoted padded", privacypass.FormatAuthorization},
		{"lower-case scheme, spaces", func(b []byte) string {
			return "privatetoken  token = " + base64.URLEncoding.EncodeToString(b) + " "
		}},
	}
	h := sha256.Sum256(fcEnabler[:])
	for i, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			tok := fcToken(t, e.tokens)
			auth := f.format(tok)
			if i == 0 && !strings.HasSuffix(auth, "=") {
				t.Fatalf("the token's base64url has no padding: %q", auth)
			}
			body := fcPattern(f.name+"; ", len(fcNewBody))
			r := e.do(t, http.MethodPut, fcPath(fcID), body, http.Header{"Authorization": {auth}})
			if r.status != http.StatusNoContent {
				t.Fatalf("PUT with %q: %d %s", auth, r.status, r.body)
			}
			if got := e.snapshot(t)[fcID]; !strings.HasSuffix(got, "|"+string(h[:])+string(body)) {
				t.Fatal("the PUT did not store its body")
			}
			if r := e.do(t, http.MethodGet, fcPath(fcID), nil, nil); r.status != http.StatusOK || !bytes.Equal(r.body, body) {
				t.Fatalf("GET after the PUT: %d %.80q", r.status, r.body)
			}
			for _, g := range forms {
				r := e.do(t, http.MethodGet, fcPath(fcID), nil, http.Header{"Authorization": {g.format(tok)}})
				fcRefused(t, r, http.StatusUnauthorized, server.CodeTokenSpent)
			}
		})
	}
}
