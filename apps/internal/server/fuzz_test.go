package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

const fuzzSecret = "fuzz-attestation-secret-0123456789"

// fuzzServer is an aegisd handler over memory stores with a VOPRF issuer key,
// and a way to mint valid tokens for it.
type fuzzServer struct {
	srv    *server.Server
	store  *memblob.Store
	tokens *privacypass.Pool // valid tokens, from the key's own issuer in process
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	key, err := privacypass.GenerateIssuerKey(privacypass.TypeVOPRF, nil, time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	ch, err := (&privacypass.TokenChallenge{TokenType: key.Type(), IssuerName: "aegisd"}).MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	origin := privacypass.NewOrigin(memledger.Open())
	origin.AddIssuerKey(key)
	if err := origin.AcceptChallenge(ch); err != nil {
		tb.Fatal(err)
	}
	store := memblob.Open()
	issuer := privacypass.NewIssuer(key)
	srv, err := server.New(server.Config{
		Store: store, Redeemer: origin, Challenge: ch, TokenKey: key.TokenKey(),
		Issuer: issuer, AttestSecret: []byte(fuzzSecret),
	})
	if err != nil {
		tb.Fatal(err)
	}
	client, err := privacypass.NewClient(key.Type(), key.TokenKey())
	if err != nil {
		tb.Fatal(err)
	}
	tokens, err := privacypass.NewPool(client, ch, 16, func(_ context.Context, req []byte) ([]byte, error) { return issuer.IssueBatch(req) })
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzServer{srv: srv, store: store, tokens: tokens}
}

// token returns a fresh valid token, as a client that fetched one would hold it.
func (s *fuzzServer) token(t *testing.T) []byte {
	tok, err := s.tokens.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (s *fuzzServer) objects(t *testing.T) int {
	n := 0
	if err := s.store.List(context.Background(), func(domain.ObjectID) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzServer sends the aegisd HTTP handler whatever request the fuzzer makes
// (parsed from raw bytes by net/http, as the real server does), with a valid
// token attached when the first flag bit is set. Invariants: the handler never
// fails with a 5xx (a panic would be a 500), a request without a valid token
// never changes the store, and a request that changed the store was a PUT
// answered with 2xx.
func FuzzServer(f *testing.F) {
	s := newFuzzServer(f)
	id := strings.Repeat("ab", 32)
	kib := string(make([]byte, 1024))
	seeds := []struct {
		flags uint8
		raw   string
	}{
		{0, "GET /healthz HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /metrics HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /.well-known/private-token-issuer-directory HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nIf-None-Match: *\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nIf-Match: \"v1\"\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nContent-Length: 3\r\n\r\nabc"},
		{1, "DELETE /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects?limit=2&after=" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects/ABAB HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "POST /v1/token-requests HTTP/1.1\r\nHost: aegisd\r\nAuthorization: Bearer " + fuzzSecret +
			"\r\nContent-Type: application/private-token-request\r\nContent-Length: 4\r\n\r\n\x00\x01\x02\x03"},
		{0, "POST /v1/token-requests HTTP/1.1\r\nHost: aegisd\r\nAuthorization: Bearer " + fuzzSecret +
			"\r\nContent-Type: application/private-token-batch-request\r\nContent-Length: 2\r\n\r\n\x00\x00"},
		{0, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nAuthorization: PrivateToken token=\"AAAA\"\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, sd := range seeds {
		f.Add(sd.flags, []byte(sd.raw))
	}
	f.Fuzz(func(t *testing.T, flags uint8, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http refuses it before any handler runs
		}
		if req.URL == nil || !strings.HasPrefix(req.RequestURI, "/") {
			return // absolute-form and authority-form targets: not what a server handler gets here
		}
		req.RemoteAddr = "192.0.2.1:1234"
		valid := flags&1 == 1
		if valid {
			req.Header.Del("Authorization")
			req.Header.Set("Authorization", privacypass.FormatAuthorization(s.token(t)))
		}
		before := s.objects(t)
		rec := httptest.NewRecorder()
		s.srv.ServeHTTP(rec, req)
		after := s.objects(t)

		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", req.Method, req.RequestURI, rec.Code, rec.Body.String())
		}
		if after != before {
			if !valid {
				t.Fatalf("%s %s without a valid token changed the store (%d → %d objects), status %d",
					req.Method, req.RequestURI, before, after, rec.Code)
			}
			if rec.Code/100 != 2 || (req.Method != http.MethodPut && req.Method != http.MethodDelete) {
				t.Fatalf("%s %s changed the store (%d → %d objects) but answered %d",
					req.Method, req.RequestURI, before, after, rec.Code)
			}
		}
		if body := rec.Body.String(); strings.Contains(body, "192.0.2.1") {
			t.Fatalf("the answer echoes the client address: %s", fmt.Sprintf("%.200q", body))
		}
	})
}
