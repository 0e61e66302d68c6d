package anonymize_test

import (
	"github.com/ai-pantheon/aegis/anonymize/internal/fakes"
	"github.com/ai-pantheon/aegis/crypto/hmactoken"
	"github.com/ai-pantheon/aegis/crypto/secret"
)

// newRandomTokens is the token source the specs use: the local HMAC scheme of
// crypto/hmactoken with an in-memory spent ledger, under a fresh random key.
func newRandomTokens() (*hmactoken.Issuer, error) {
	return hmactoken.New(secret.Random(32), fakes.NewLedger())
}
