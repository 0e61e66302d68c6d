package anonymize_test

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func ExampleCloak_Store() {
	ctx := context.Background()
	// A vault in memory (in a program: adapters/memblob, or adapters/local for a
	// directory; the anonymize module's own examples use a fake of the same kind),
	// created through the Cloak's layer with two cover requests per window.
	store := fakes.NewStore()
	cloak, err := anonymize.Create(ctx, vault.Config{Store: store, Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("example passphrase"), anonymize.Config{Cover: 2})
	if err != nil {
		panic(err)
	}
	defer cloak.Close()
	data := map[string][]byte{"contacts": []byte(`[{"name":"Ada"}]`), "notes": []byte("buy milk")}
	rep, err := cloak.Store(ctx, data)
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Categories["contacts"].PlaintextBytes, rep.Categories["contacts"].StoredBytes, len(rep.ShuffleOrder))
	fmt.Println(cloak.VerifyAll(ctx, data))
	// Output:
	// 16 1024 2
	// map[contacts:PASS notes:PASS]
}
