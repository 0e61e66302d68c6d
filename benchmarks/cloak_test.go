package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/adapters/memblob"
	"github.com/ai-pantheon/aegis/adapters/memledger"
	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

// jsonRecord returns about 1.3 KB of JSON.
func jsonRecord(i int) []byte {
	type contact struct {
		Name, Email, Phone, Address, Notes string
		Tags                               []string
	}
	var cs []contact
	for j := range 6 {
		cs = append(cs, contact{
			Name:    fmt.Sprintf("Person %d-%d", i, j),
			Email:   fmt.Sprintf("person%d.%d@example.org", i, j),
			Phone:   fmt.Sprintf("+44 20 7946 %04d", (i*7+j)%10000),
			Address: fmt.Sprintf("%d Example Street, Springfield", j+1),
			Notes:   "met at the conference; follow up",
			Tags:    []string{"work", "friend"},
		})
	}
	b, _ := json.Marshal(cs)
	return b
}

// BenchmarkCloakStore100x1300B stores 100 categories of about 1.3 KB of JSON
// through the whole Cloak in one batch, on the in-memory store and durably on the
// directory store. For scale: the Python original stores such a batch in about
// 36-47 ms without ever calling fsync.
func BenchmarkCloakStore100x1300B(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) domain.BlobStore
	}{
		{"mem", func(*testing.B) domain.BlobStore { return memblob.Open() }},
		{"fs", func(b *testing.B) domain.BlobStore {
			s, err := fsblob.Open(b.TempDir(), &fsblob.Options{Create: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			ctx := context.Background()
			v, err := vault.Create(ctx, vault.Config{Store: st.open(b), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("bench"))
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			tokens, err := hmactoken.New(secret.Random(32), memledger.Open())
			if err != nil {
				b.Fatal(err)
			}
			c, err := anonymize.New(anonymize.Config{Vault: v, Tokens: tokens})
			if err != nil {
				b.Fatal(err)
			}
			data := map[string][]byte{}
			total := 0
			for i := range 100 {
				data[fmt.Sprintf("category-%03d", i)] = jsonRecord(i)
				total += len(data[fmt.Sprintf("category-%03d", i)])
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Store(ctx, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/batch")
		})
	}
}
