package privacypass_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ai-pantheon/aegis/crypto/privacypass"
	"github.com/ai-pantheon/aegis/domain"
)

// memLedger is the smallest SpentLedger, for the example.
type memLedger struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *memLedger) MarkSpent(_ context.Context, partition string, nonce []byte) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := partition + string(nonce)
	spent := l.seen[k]
	l.seen[k] = true
	return spent, nil
}

func (l *memLedger) DropPartition(context.Context, string) error { return nil }

// A publicly verifiable (type 0x0002) token from issuance to redemption.
func Example() {
	ctx := context.Background()
	key, _ := privacypass.GenerateIssuerKey(privacypass.TypeBlindRSA, nil, time.Now())
	issuer := privacypass.NewIssuer(key)

	// The origin challenges the client.
	challenge, _ := (&privacypass.TokenChallenge{TokenType: privacypass.TypeBlindRSA, IssuerName: "issuer.example"}).MarshalBinary()
	header := privacypass.FormatWWWAuthenticate(privacypass.Challenge{TokenChallenge: challenge, TokenKey: key.TokenKey(), MaxAge: -1})

	// The client parses the challenge, blinds, and the issuer signs blindly.
	chs, _ := privacypass.ParseWWWAuthenticate(header)
	client, _ := privacypass.NewClient(privacypass.TypeBlindRSA, chs[0].TokenKey)
	req, pending, _ := client.Request(chs[0].TokenChallenge)
	resp, _ := issuer.Issue(req)
	token, _ := client.Finalize(pending, resp)
	enc, _ := token.MarshalBinary()

	// The origin verifies with the public key only, and spends the token.
	origin := privacypass.NewOrigin(&memLedger{seen: map[string]bool{}})
	_ = origin.AddTokenKey(privacypass.TypeBlindRSA, key.TokenKey())
	presented, _ := privacypass.ParseAuthorization(privacypass.FormatAuthorization(enc))
	fmt.Println("first redemption:", origin.Redeem(ctx, presented))
	fmt.Println("replay refused:", errors.Is(origin.Redeem(ctx, presented), domain.ErrTokenSpent))
	// Output:
	// first redemption: <nil>
	// replay refused: true
}
