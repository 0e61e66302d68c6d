package redisledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/adapters/redisledger"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/secret"
	"github.com/ai-pantheon/aegis/domain"
)

// Through a token origin: with Redis up, a token is accepted once and its
// replay refused, also by a second origin on another Ledger (a second replica);
// with Redis gone, a valid, unspent token is refused with an error that is
// neither "accepted" nor "spent".
func TestRedeemThroughRedis(t *testing.T) {
	addr, kill := privateRedis(t)
	key := secret.Random(32)
	open := func() *hmactoken.Issuer {
		l, err := redisledger.Open(t.Context(), redisledger.Config{Addr: addr, TTL: time.Hour, Timeout: time.Second, DialTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		is, err := hmactoken.New(key, l)
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	replicaA, replicaB := open(), open()
	tok, err := replicaA.Issue()
	if err != nil {
		t.Fatal(err)
	}
	if err := replicaA.Redeem(t.Context(), tok); err != nil {
		t.Fatalf("first redemption: %v", err)
	}
	if err := replicaB.Redeem(t.Context(), tok); !errors.Is(err, domain.ErrTokenSpent) {
		t.Fatalf("replay at the other replica: %v, want ErrTokenSpent", err)
	}

	fresh, err := replicaA.Issue()
	if err != nil {
		t.Fatal(err)
	}
	kill()
	for _, is := range []*hmactoken.Issuer{replicaA, replicaB} {
		err := is.Redeem(t.Context(), fresh)
		if err == nil {
			t.Fatal("a token was accepted while Redis was down")
		}
		if errors.Is(err, domain.ErrTokenSpent) || errors.Is(err, domain.ErrTokenInvalid) {
			t.Fatalf("Redis down reported as %v; want a ledger failure", err)
		}
	}
}
