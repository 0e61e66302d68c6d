package privacypass

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ai-pantheon/aegis/domain"
)

// A key trusted until a time verifies tokens up to just before it and refuses
// them from then on, without spending anything: a ledger whose marks expire
// with the key (redisledger) relies on it.
func TestOriginKeyLifetime(t *testing.T) {
	rsaKey, voprfKey := testKeys(t)
	for _, k := range []*IssuerKey{rsaKey, voprfKey} {
		t.Run(k.Type().String(), func(t *testing.T) {
			mint := func() []byte { return mintToken(t, k, testChallenge(t, k.Type())) }
			end := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			now := end.Add(-time.Nanosecond)
			ledger := newMapLedger()
			o := NewOrigin(ledger)
			o.SetClock(func() time.Time { return now })
			o.AddIssuerKeyUntil(k, end)

			if err := o.Redeem(context.Background(), mint()); err != nil {
				t.Fatalf("a nanosecond before the end: %v", err)
			}
			now = end
			err := o.Redeem(context.Background(), mint())
			if !errors.Is(err, ErrKeyExpired) || !errors.Is(err, domain.ErrTokenInvalid) {
				t.Fatalf("at the end: got %v, want ErrKeyExpired and domain.ErrTokenInvalid", err)
			}
			if ledger.len() != 1 {
				t.Fatalf("an expired key's token was spent: the ledger holds %d marks, want 1", ledger.len())
			}
			// AddIssuerKey trusts without an end.
			o.AddIssuerKey(k)
			now = end.Add(100 * 365 * 24 * time.Hour)
			if err := o.Redeem(context.Background(), mint()); err != nil {
				t.Fatalf("a key without an end: %v", err)
			}
		})
	}
}
