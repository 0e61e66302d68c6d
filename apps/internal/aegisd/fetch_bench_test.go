package aegisd_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/httpblob"
	"github.com/ai-pantheon/aegis/apps/internal/aegisd"
	"github.com/ai-pantheon/aegis/apps/internal/server"
	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// fetchTypes are the token types of BenchmarkTokensFetch: the number in the
// sub-benchmark's name (type=N) and aegisd's --token-type for it
// (aegisd.Options.TokenType). A new type is one more row.
var fetchTypes = []struct {
	num  uint16
	name string
}{
	{1, "voprf"},
	{2, "blind-rsa"},
	{5, "voprf-ristretto255"},
}

// fetchBatch is the number of tokens per issuance request of BenchmarkTokensFetch.
const fetchBatch = 64

// BenchmarkTokensFetch is what `aegis tokens fetch` measures, per token type:
// one operation takes one token from an httpblob.NewTokenPool (batches of 64,
// no background prefetch) of an aegisd on 127.0.0.1 (the Wire-built server
// with memblob and memledger, its own issuer key of the type), so every 64th
// operation is an issuance round trip: client blinding, POST
// /v1/token-requests, the issuer's evaluation or signing, client finalization.
// It reports ns/op per token and tokens/s, and checks the round trips
// (ceil(tokens/64)) and the last token, which a PUT then spends: aegisd must
// accept it.
func BenchmarkTokensFetch(b *testing.B) {
	for _, tt := range fetchTypes {
		b.Run("type="+strconv.Itoa(int(tt.num)), func(b *testing.B) {
			base, _ := sharedIssuerDir()
			dir := filepath.Join(filepath.Dir(base), "issuer-"+tt.name)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				b.Fatal(err)
			}
			r, err := start(func(o *aegisd.Options) {
				o.Log, o.TokenType, o.IssuerDir = io.Discard, tt.name, dir
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := r.stop(); err != nil {
					b.Errorf("shutdown: %v", err)
				}
			})
			ctx := b.Context()
			var rounds atomic.Int64
			pool, err := httpblob.NewTokenPool(ctx, r.URL, []byte(testSecret), &httpblob.PoolOptions{
				Batch: fetchBatch, OnFetch: func(int, time.Duration) { rounds.Add(1) },
			})
			if err != nil {
				b.Fatal(err)
			}
			pool.SetLowWater(0) // drained as tokens fetch drains it: every round trip inside an operation
			b.ReportAllocs()
			var last []byte
			n := 0
			for b.Loop() {
				if last, err = pool.Token(ctx); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
			tok, err := privacypass.ParseToken(last)
			if err != nil {
				b.Fatal(err)
			}
			if uint16(tok.TokenType) != tt.num {
				b.Fatalf("token of %v, want type %d", tok.TokenType, tt.num)
			}
			if want := int64((n + fetchBatch - 1) / fetchBatch); rounds.Load() != want {
				b.Fatalf("%d round trips for %d tokens in batches of %d, want %d", rounds.Load(), n, fetchBatch, want)
			}
			c := newBenchClient(b, benchServer{url: r.URL, needsTok: true})
			c.toks = [][]byte{last}
			c.set(http.MethodPut, server.ObjectsPath+"/"+newID().String(), randomBytes(domain.KiB), http.StatusNoContent, 0)
			c.do()
		})
	}
}
