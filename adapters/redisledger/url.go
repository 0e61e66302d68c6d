package redisledger

import (
	"context"
	"fmt"

	"github.com/ai-pantheon/aegis/adapters/openurl"
	"github.com/ai-pantheon/aegis/domain"
)

// Scheme is the URL scheme of a Redis ledger (ParseURL).
const Scheme = "redis"

func init() { openurl.RegisterLedger(Scheme, OpenURL) }

// OpenURL is the openurl.LedgerOpener of redis://HOST:PORT[/DB]: ParseURL,
// then Open with o.Password and o.TTL, which checks that Redis answers and
// accepts the password. Without a TTL it fails with openurl.ErrTTLRequired.
func OpenURL(ctx context.Context, u openurl.URL, o openurl.LedgerOptions) (domain.SpentLedger, error) {
	cfg, err := ParseURL(u.Raw)
	if err != nil {
		return nil, err
	}
	if o.TTL <= 0 {
		return nil, fmt.Errorf("aegis/redisledger: URL %q: %w: %w", openurl.Redact(u.Raw), openurl.ErrTTLRequired, domain.ErrInvalidInput)
	}
	cfg.Password, cfg.TTL = o.Password, o.TTL
	l, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return l, nil
}
