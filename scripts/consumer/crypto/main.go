// Command crypto uses the crypto module (and the domain module it requires): key-committing
// AES-256-GCM and single-use HMAC tokens.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/ai-pantheon/aegis/crypto/aead"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consumer/crypto:", err)
		os.Exit(1)
	}
	fmt.Println("consumer/crypto: ok")
}

func run() error {
	a, err := aead.New(secret.Random(aead.KeySize))
	if err != nil {
		return err
	}
	msg, ad := []byte("attack at dawn"), []byte("header")
	sealed := a.Seal(nil, msg, ad)
	if got, err := a.Open(nil, sealed, ad); err != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("aead round trip: %q, %v", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := a.Open(nil, sealed, ad); !errors.Is(err, domain.ErrIntegrity) {
		return fmt.Errorf("a tampered message: %v, want ErrIntegrity", err)
	}

	ctx := context.Background()
	tokens, err := hmactoken.New(secret.Random(32), &ledger{})
	if err != nil {
		return err
	}
	tok, err := tokens.Token(ctx)
	if err != nil {
		return err
	}
	if err := tokens.Redeem(ctx, tok); err != nil {
		return fmt.Errorf("redeem: %v", err)
	}
	if err := tokens.Redeem(ctx, tok); !errors.Is(err, domain.ErrTokenSpent) {
		return fmt.Errorf("a replayed token: %v, want ErrTokenSpent", err)
	}
	return nil
}

// ledger is the smallest domain.SpentLedger, in memory.
type ledger struct {
	mu    sync.Mutex
	spent map[string]bool
}

func (l *ledger) MarkSpent(_ context.Context, partition string, nonce []byte) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spent == nil {
		l.spent = map[string]bool{}
	}
	k := partition + "\x00" + string(nonce)
	was := l.spent[k]
	l.spent[k] = true
	return was, nil
}

func (l *ledger) DropPartition(context.Context, string) error { return nil }
