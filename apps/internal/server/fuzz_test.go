package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpwire"
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

// The object the fuzzer attacks: id fuzzID, created with fuzzEnabler.
var (
	fuzzID      = domain.ObjectID{0xab, 0xab, 0xab}
	fuzzEnabler = domain.WriteEnabler{1, 2, 3}
	fuzzBody    = make([]byte, domain.KiB)
)

func newFuzzServer(tb testing.TB) *fuzzServer {
	store := memblob.Open()
	srv, tokens := newTestServer(tb, store)
	return &fuzzServer{srv: srv, store: store, tokens: tokens}
}

// newTestServer returns an aegisd handler over store (given the format
// marker) with a VOPRF issuer key, and a pool of valid tokens for it.
func newTestServer(tb testing.TB, store domain.BlobStore) (*server.Server, *privacypass.Pool) {
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
	if err := server.PrepareStore(context.Background(), store); err != nil {
		tb.Fatal(err)
	}
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
	return srv, tokens
}

// token returns a fresh valid token, as a client that fetched one would hold it.
func (s *fuzzServer) token(t *testing.T) []byte {
	tok, err := s.tokens.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// snapshot returns every stored object.
func (s *fuzzServer) snapshot(t *testing.T) map[domain.ObjectID]string {
	ctx := context.Background()
	m := map[domain.ObjectID]string{}
	if err := s.store.List(ctx, func(id domain.ObjectID) error {
		b, err := s.store.Get(ctx, id)
		m[id] = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// reset puts the attacked object back as it was created.
func (s *fuzzServer) reset(t *testing.T) {
	h := sha256.Sum256(fuzzEnabler[:])
	want := append(h[:], fuzzBody...)
	if b, err := s.store.Get(context.Background(), fuzzID); err == nil && bytes.Equal(b, want) {
		return
	}
	if err := s.store.Put(context.Background(), fuzzID, want); err != nil {
		t.Fatal(err)
	}
}

// FuzzServer sends the aegisd HTTP handler whatever request the fuzzer makes
// (parsed from raw bytes by net/http, as the real server does), with a valid
// token attached when the first flag bit is set. The store holds the format
// marker and one object (fuzzID) created with fuzzEnabler. Invariants: the
// handler never fails with a 5xx (a panic would be a 500); nothing in the
// store changes without a valid token, or with a non-2xx answer, or by another
// method than PUT and DELETE, or to another object than the request's; an
// existing object changes only with the enabler it was created with, a new one
// is stored behind the hash of the request's enabler; the format marker never
// changes and is never served.
func FuzzServer(f *testing.F) {
	s := newFuzzServer(f)
	id := fuzzID.String()
	kib := string(make([]byte, 1024))
	right := server.WriteEnablerHeader + ": " + httpwire.FormatWriteEnabler(fuzzEnabler) + "\r\n"
	wrong := server.WriteEnablerHeader + ": " + httpwire.FormatWriteEnabler(domain.WriteEnabler{9}) + "\r\n"
	other := strings.Repeat("cd", 32)
	seeds := []struct {
		flags uint8
		raw   string
	}{
		{0, "GET /healthz HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /metrics HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /.well-known/private-token-issuer-directory HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "GET /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects/" + server.StoreFormatID.String() + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "Content-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + wrong + "Content-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + other + " HTTP/1.1\r\nHost: aegisd\r\n" + wrong + "If-None-Match: *\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "If-Match: \"{version}\"\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + wrong + "If-Match: \"{version}\"\r\nContent-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + server.StoreFormatID.String() + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "Content-Length: 1024\r\n\r\n" + kib},
		{1, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "Content-Length: 3\r\n\r\nabc"},
		{1, "DELETE /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + wrong + "\r\n"},
		{1, "DELETE /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "\r\n"},
		{1, "DELETE /v1/objects/" + server.StoreFormatID.String() + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "\r\n"},
		{1, "GET /v1/objects?limit=2&after=" + id + " HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{1, "GET /v1/objects/ABAB HTTP/1.1\r\nHost: aegisd\r\n\r\n"},
		{0, "POST /v1/token-requests HTTP/1.1\r\nHost: aegisd\r\nAuthorization: Bearer " + fuzzSecret +
			"\r\nContent-Type: application/private-token-request\r\nContent-Length: 4\r\n\r\n\x00\x01\x02\x03"},
		{0, "POST /v1/token-requests HTTP/1.1\r\nHost: aegisd\r\nAuthorization: Bearer " + fuzzSecret +
			"\r\nContent-Type: application/private-token-privately-verifiable-batch-request\r\nContent-Length: 2\r\n\r\n\x00\x00"},
		{0, "POST /v1/token-requests HTTP/1.1\r\nHost: aegisd\r\nAuthorization: Bearer " + fuzzSecret +
			"\r\nContent-Type: application/private-token-arbitrary-batch-request\r\nContent-Length: 2\r\n\r\n\x00\x00"},
		{0, "PUT /v1/objects/" + id + " HTTP/1.1\r\nHost: aegisd\r\n" + right + "Authorization: PrivateToken token=\"AAAA\"\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, sd := range seeds {
		f.Add(sd.flags, []byte(sd.raw))
	}
	f.Fuzz(func(t *testing.T, flags uint8, raw []byte) {
		s.reset(t)
		// "{version}" stands for the attacked object's current version, so that
		// conditional requests can reach the enabler check.
		if _, v, err := s.store.GetVersioned(context.Background(), fuzzID); err == nil {
			raw = bytes.ReplaceAll(raw, []byte("{version}"), []byte(v))
		}
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
		// The request's enabler, as the server would read it.
		var enablerHash *[sha256.Size]byte
		if vals := req.Header.Values(server.WriteEnablerHeader); len(vals) == 1 {
			if e, ok := httpwire.ParseWriteEnabler(vals[0]); ok {
				h := sha256.Sum256(e[:])
				enablerHash = &h
			}
		}
		before := s.snapshot(t)
		rec := httptest.NewRecorder()
		s.srv.ServeHTTP(rec, req)
		after := s.snapshot(t)

		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", req.Method, req.RequestURI, rec.Code, rec.Body.String())
		}
		marker := req.URL.Path == server.ObjectsPath+"/"+server.StoreFormatID.String()
		if after[server.StoreFormatID] != server.StoreFormat || (marker && rec.Code/100 == 2) {
			t.Fatalf("%s %s: the store-format marker changed or was served (status %d)", req.Method, req.RequestURI, rec.Code)
		}
		changed := map[domain.ObjectID]bool{}
		for id, b := range before {
			if a, ok := after[id]; !ok || a != b {
				changed[id] = true
			}
		}
		for id := range after {
			if _, ok := before[id]; !ok {
				changed[id] = true
			}
		}
		for id := range changed {
			what := fmt.Sprintf("%s %s changed object %s (status %d)", req.Method, req.RequestURI, id, rec.Code)
			switch {
			case !valid:
				t.Fatalf("%s without a valid token", what)
			case rec.Code/100 != 2 || (req.Method != http.MethodPut && req.Method != http.MethodDelete):
				t.Fatalf("%s: not a successful PUT or DELETE", what)
			case req.URL.Path != server.ObjectsPath+"/"+id.String():
				t.Fatalf("%s: not the request's object", what)
			case enablerHash == nil:
				t.Fatalf("%s without a well-formed enabler", what)
			}
			if b, ok := before[id]; ok && !strings.HasPrefix(b, string(enablerHash[:])) {
				t.Fatalf("%s with another enabler than the one it was created with", what)
			}
			if a, ok := after[id]; ok && !strings.HasPrefix(a, string(enablerHash[:])) {
				t.Fatalf("%s: stored without the hash of the request's enabler", what)
			}
		}
		if body := rec.Body.String(); strings.Contains(body, "192.0.2.1") {
			t.Fatalf("the answer echoes the client address: %s", fmt.Sprintf("%.200q", body))
		}
	})
}
