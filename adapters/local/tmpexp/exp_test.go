package tmpexp

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/fsblob"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain"
	"github.com/ai-pantheon/aegis/domain/vault"
)

type timed struct {
	*fsblob.Store
	log map[string]time.Duration
}

func (t *timed) rec(name string, s time.Time) { t.log[name] += time.Since(s) }
func (t *timed) PutBatch(ctx context.Context, o []domain.Object) error {
	defer t.rec(fmt.Sprint("PutBatch", len(o)), time.Now())
	return t.Store.PutBatch(ctx, o)
}
func (t *timed) DeleteBatch(ctx context.Context, o []domain.ObjectID) error {
	defer t.rec("DeleteBatch", time.Now())
	return t.Store.DeleteBatch(ctx, o)
}
func (t *timed) CompareAndSwap(ctx context.Context, id domain.ObjectID, e domain.Version, d []byte) (domain.Version, error) {
	defer t.rec("CAS", time.Now())
	return t.Store.CompareAndSwap(ctx, id, e, d)
}

func TestExp(t *testing.T) {
	s, _ := fsblob.Open(t.TempDir(), &fsblob.Options{Create: true})
	ts := &timed{Store: s, log: map[string]time.Duration{}}
	ctx := context.Background()
	v, err := vault.Create(ctx, vault.Config{Store: ts, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	batch := map[string][]byte{}
	for i := range 100 {
		batch[fmt.Sprint("c", i)] = make([]byte, 1024)
	}
	for r := range 8 {
		clear(ts.log)
		t0 := time.Now()
		if err := v.StoreAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d total %v %v", r, time.Since(t0), ts.log)
	}
}
