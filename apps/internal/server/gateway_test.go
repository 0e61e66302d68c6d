package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/bhttp"
	"github.com/ai-pantheon/aegis/crypto/ohttp"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// gatewayServer is an aegisd handler with an OHTTP gateway of one key, over
// store, with replay entries per key.
func gatewayServer(tb testing.TB, store domain.BlobStore, replay int) (*server.Server, *ohttp.KeyConfig) {
	tb.Helper()
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
	gk, err := ohttp.GenerateGatewayKey(5, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := gk.Config()
	srv, err := server.New(server.Config{
		Store: store, Redeemer: origin, Challenge: ch, TokenKey: key.TokenKey(),
		OHTTP: ohttp.NewGateway(gk), OHTTPKeys: func() []*ohttp.KeyConfig { return []*ohttp.KeyConfig{cfg} },
		OHTTPReplayEntries: replay,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return srv, cfg
}

func postGateway(srv *server.Server, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, server.GatewayPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", ohttp.RequestMediaType)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func encapsulated(tb testing.TB, cfg *ohttp.KeyConfig, msg []byte) ([]byte, *ohttp.ClientContext) {
	tb.Helper()
	c, err := ohttp.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	enc, cc, err := c.EncapsulateRequest(msg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc, cc
}

func errorCode(b []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

// TestReplayCacheBound checks the documented bound: a replay is refused while
// its enc is among the last OHTTPReplayEntries of its key, and forgotten after.
func TestReplayCacheBound(t *testing.T) {
	srv, cfg := gatewayServer(t, memblob.Open(), 2)
	health, err := (&bhttp.Request{Method: http.MethodGet, Scheme: "https", Path: server.HealthPath}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var encs [][]byte
	for range 3 {
		enc, _ := encapsulated(t, cfg, health)
		if rec := postGateway(srv, enc); rec.Code != http.StatusOK {
			t.Fatalf("first sending: %d %s", rec.Code, rec.Body)
		}
		encs = append(encs, enc)
	}
	if rec := postGateway(srv, encs[2]); rec.Code != http.StatusBadRequest || errorCode(rec.Body.Bytes()) != server.CodeOHTTPReplayed {
		t.Fatalf("replay of the newest: %d %s, want 400 %s", rec.Code, rec.Body, server.CodeOHTTPReplayed)
	}
	if rec := postGateway(srv, encs[0]); rec.Code != http.StatusOK {
		t.Fatalf("replay of one past the bound: %d %s, want 200 (forgotten)", rec.Code, rec.Body)
	}
}

// FuzzGateway sends the gateway whatever the fuzzer makes: with the first
// flag bit, as a Binary HTTP message encapsulated to the gateway's key;
// otherwise as the encapsulated request itself. Invariants: never a 5xx; an
// encapsulated message is always answered 200 with an encapsulated response
// that opens and decodes, never with a 5xx inside; nothing in the store
// changes (no inner request carries a valid token).
func FuzzGateway(f *testing.F) {
	store := memblob.Open()
	srv, cfg := gatewayServer(f, store, 0)
	for _, r := range []*bhttp.Request{
		{Method: http.MethodGet, Scheme: "https", Authority: "aegisd", Path: server.HealthPath},
		{Method: http.MethodPut, Scheme: "https", Path: server.ObjectsPath + "/" + fuzzID.String(), Body: make([]byte, 1024)},
		{Method: http.MethodPost, Scheme: "https", Path: server.GatewayPath, Header: http.Header{"Content-Type": {ohttp.RequestMediaType}}},
		{Method: http.MethodGet, Scheme: "https", Path: server.GatewayPath},
		{Method: http.MethodOptions, Scheme: "https", Path: "*"},
	} {
		b, err := r.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(1), b)
		enc, _ := encapsulated(f, cfg, b)
		f.Add(uint8(0), enc)
	}
	f.Fuzz(func(t *testing.T, flags uint8, raw []byte) {
		before, err := store.Get(context.Background(), fuzzID)
		if err == nil {
			before = bytes.Clone(before)
		}
		body, cc := raw, (*ohttp.ClientContext)(nil)
		if flags&1 == 1 {
			body, cc = encapsulated(t, cfg, raw)
		}
		rec := postGateway(srv, body)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if cc != nil {
			if rec.Code != http.StatusOK {
				t.Fatalf("an encapsulated message answered %d: %s", rec.Code, rec.Body)
			}
			msg, err := cc.DecapsulateResponse(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("the answer does not open: %v", err)
			}
			m, err := bhttp.ParseResponse(msg)
			if err != nil {
				t.Fatalf("the answer does not decode: %v", err)
			}
			if m.Status >= 500 {
				t.Fatalf("inner status %d: %s", m.Status, m.Body)
			}
		}
		after, err := store.Get(context.Background(), fuzzID)
		if err == nil && !bytes.Equal(before, after) {
			t.Fatalf("the store changed")
		}
	})
}
