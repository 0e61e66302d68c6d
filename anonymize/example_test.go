package anonymize_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ai-pantheon/aegis/anonymize"
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/kdf"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/crypto/suite"
	"github.com/ai-pantheon/aegis/domain/vault"
)

func ExampleCloak_Store() {
	ctx := context.Background()
	// A vault in memory (in a program: adapters/memblob, or adapters/local for a
	// directory; the anonymize module's own examples use a fake of the same kind).
	v, err := vault.Create(ctx, vault.Config{Store: fakes.NewStore(), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("example passphrase"))
	if err != nil {
		panic(err)
	}
	defer v.Close()
	// On a local store the Cloak is its own token issuer and origin: HMAC tokens
	// (crypto/hmactoken) spent in a ledger (here in memory; adapters/fileledger on disk).
	tokens, err := hmactoken.New(secret.Random(32), fakes.NewLedger())
	if err != nil {
		panic(err)
	}
	cloak, err := anonymize.New(anonymize.Config{Vault: v, Tokens: tokens})
	if err != nil {
		panic(err)
	}
	data := map[string][]byte{"contacts": []byte(`[{"name":"Ada"}]`), "notes": []byte("buy milk")}
	rep, err := cloak.Store(ctx, data)
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Categories["contacts"].PlaintextBytes, rep.Categories["contacts"].StoredBytes, rep.TokensUsed, len(rep.ShuffleOrder))
	fmt.Println(cloak.VerifyAll(ctx, data))
	// Output:
	// 16 1024 2 2
	// map[contacts:PASS notes:PASS]
}

func ExampleShuffleBuffer() {
	ctx := context.Background()
	v, err := vault.Create(ctx, vault.Config{Store: fakes.NewStore(), Crypto: suite.New(kdf.InsecureTestPolicy())}, []byte("example passphrase"))
	if err != nil {
		panic(err)
	}
	defer v.Close()
	tokens, err := hmactoken.New(secret.Random(32), fakes.NewLedger())
	if err != nil {
		panic(err)
	}
	cloak, err := anonymize.New(anonymize.Config{Vault: v, Tokens: tokens})
	if err != nil {
		panic(err)
	}
	// Requests arriving one by one leave in shuffled batches of at least 3, or
	// after 100 ms, and each batch is stored with one commit.
	sb, err := anonymize.NewShuffleBuffer(anonymize.ShuffleBufferConfig{
		MinBatch: 3,
		MaxWait:  100 * time.Millisecond,
		Flush: func(b anonymize.Batch, err error) {
			if err == nil {
				_, err = cloak.StoreBatch(ctx, b)
			}
			if err != nil {
				fmt.Println("flush:", err)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		_ = sb.Add(anonymize.Request{Category: name, Payload: []byte("data of " + name)})
	}
	_ = sb.Close()
	names, _ := v.Categories(ctx)
	fmt.Println(names, cloak.Stats().RequestsProcessed)
	// Output: [a b c d] 4
}
